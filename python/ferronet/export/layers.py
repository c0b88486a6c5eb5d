"""Converters of the structural layers: Affine, Convolution, Pooling, BatchNormalization, Dropout.

Each exports the layer's inference pass, as ferronet computes it:

* ``Affine`` -> ``Gemm(x, W, b)``, after ``Flatten(axis=1)`` when the
  samples are not vectors (ferronet's Affine flattens N-d input);
* ``Convolution`` -> ``Conv`` (strides, pads on every side) in float32;
  im2col + MatMul in float64 (:mod:`ferronet.export.float64_forms`);
* ``Pooling`` max -> ``MaxPool``, whose padding never wins a window, as in
  ferronet; avg -> ``AveragePool(count_include_pad=1)`` in float32 (the
  padding counts as zeros, as in ferronet), a sum of windows in float64;
  floor-sized outputs (``ceil_mode=0``) in both;
* ``BatchNormalization`` -> ``BatchNormalization`` with the running
  statistics and ferronet's epsilon (1e-6) in float32, its arithmetic in
  float64 (the op's epsilon is a float32 attribute), on the tensor ferronet
  normalises: (N, C) per feature, (N, C, H, W) per channel, and for the
  book's per-activation mode (``per_channel=False``; any other rank too)
  the samples flattened to (N, C*H*W) and reshaped back afterwards;
* ``Dropout`` -> the book's form multiplies by ``1 - dropout_ratio`` at
  inference (a ``Mul``); inverted dropout is the identity (no node).
"""

from __future__ import annotations

import numpy as np

from ferronet.export import float64_forms
from ferronet.export.graph import Graph
from ferronet.export.registry import converts
from ferronet.layers.affine import Affine
from ferronet.layers.batch_norm import BatchNormalization
from ferronet.layers.convolution import Convolution
from ferronet.layers.dropout import Dropout
from ferronet.layers.pooling import Pooling

#: ferronet's batch normalisation epsilon (``ops.batchnorm_forward``'s default)
BATCHNORM_EPS = 1e-6


@converts(Affine)
def affine(g: Graph, name: str, layer: Affine, x: str, shape: tuple[int, ...]) -> str:
    if len(shape) != 1:
        x = g.op("Flatten", [x], name, axis=1)  # (N, D)
    return g.op("Gemm", [x, g.constant(f"{name}/W", layer.W), g.constant(f"{name}/b", layer.b)], name)


@converts(Convolution)
def convolution(g: Graph, name: str, layer: Convolution, x: str, shape: tuple[int, ...]) -> str:
    stride, pad = int(layer.stride), int(layer.pad)
    if g.double:
        return float64_forms.conv(g, name, x, shape, layer.W, layer.b, stride, pad)
    return g.op("Conv", [x, g.constant(f"{name}/W", layer.W), g.constant(f"{name}/b", layer.b)], name,
                kernel_shape=list(layer.W.shape[2:]), strides=[stride, stride], pads=[pad] * 4)


@converts(Pooling)
def pooling(g: Graph, name: str, layer: Pooling, x: str, shape: tuple[int, ...]) -> str:
    kernel, stride, pad = [int(layer.pool_h), int(layer.pool_w)], int(layer.stride), int(layer.pad)
    if layer.mode == "max":
        return g.op("MaxPool", [x], name, kernel_shape=kernel, strides=[stride, stride], pads=[pad] * 4)
    if g.double:
        return float64_forms.avg_pool(g, name, x, shape, *kernel, stride, pad)
    return g.op("AveragePool", [x], name, kernel_shape=kernel, strides=[stride, stride], pads=[pad] * 4,
                count_include_pad=1)


@converts(BatchNormalization)
def batch_normalization(g: Graph, name: str, layer: BatchNormalization, x: str, shape: tuple[int, ...]) -> str:
    per_sample = len(shape) == 1 or (len(shape) == 3 and layer.per_channel)  # what ferronet's kernel sees
    if not per_sample:
        x = g.op("Flatten", [x], name, axis=1)  # (N, C*H*W): one statistic per activation
    arrays = [getattr(layer, attr) for attr in ("gamma", "beta", "running_mean", "running_var")]
    if g.double:
        out = float64_forms.batch_norm(g, name, x, *arrays, BATCHNORM_EPS, axes=len(shape) - 1 if per_sample else 0)
    else:
        inputs = [x] + [g.constant(f"{name}/{attr}", a) for attr, a in zip(("gamma", "beta", "mean", "var"), arrays)]
        out = g.op("BatchNormalization", inputs, name, epsilon=BATCHNORM_EPS)
    if not per_sample:
        out = g.op("Reshape", [out, g.shape(f"{name}/shape", (-1, *shape))], name)
    return out


@converts(Dropout)
def dropout(g: Graph, name: str, layer: Dropout, x: str, shape: tuple[int, ...]) -> str:
    if layer.inverted:
        return x
    return g.op("Mul", [x, g.scalar(f"{name}/keep", np.float64(1.0) - layer.dropout_ratio)], name)
