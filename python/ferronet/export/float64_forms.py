"""Float64 forms of the ops ONNX Runtime's CPU provider does not run exactly in float64.

Two reasons, both checked with ONNX Runtime 1.32 at opsets 13 to 23:

* no float64 kernel: ``Conv``, ``AveragePool``, ``Elu`` and ``Softplus``
  at any opset; ``LeakyRelu`` and ``PRelu`` outside opsets 16 to 18;
* a float32 attribute: ONNX stores float attributes (``LeakyRelu``'s and
  ``Elu``'s alpha, ``BatchNormalization``'s epsilon) as float32, which
  would round ferronet's float64 hyper-parameters (0.01 becomes
  0.00999999977...).

A float64 export builds these equivalent graphs instead, from ops that run
in float64 at every opset (``MatMul``, ``Slice``, ``Concat``,
``Transpose``, ``Pad``, ``Sum``, ``Exp``, ``Log``, ``Where`` and the
arithmetic), with every constant a float64 tensor; a float32 export uses
the ops themselves:

* convolution as im2col + GEMM: the padded input's ``FH * FW`` strided
  windows (``Slice``), stacked along the channels (``Concat``), moved to
  the last axis (``Transpose``), times the filters as a ``(FH*FW*C, FN)``
  matrix (``MatMul``), plus the bias, and back to NCHW;
* average pooling (padding counted, as ferronet's): the same windows of the
  zero-padded input summed (``Sum``) and divided by ``pool_h * pool_w``;
* leaky ReLU, RReLU's inference form and PReLU: ``Where(x > 0, x, x * slope)``;
* ELU: ``Where(x > 0, x, alpha * (Exp(Min(x, 0)) - 1))``;
* softplus, overflow-free as ferronet's: ``Relu(x) + Log(1 + Exp(-|x|))``;
* batch normalisation at inference: ``(x - mean) * scale + beta`` with
  ``scale = gamma / sqrt(running_var + 1e-6)`` computed in float64.

Each matches ferronet's float64 result to rounding (the exported-model
tests check 1e-10).
"""

from __future__ import annotations

import numpy as np

from ferronet.export.graph import Graph


def _windows(g: Graph, hint: str, x: str, shape: tuple[int, ...], kh: int, kw: int, stride: int,
             pad: int) -> list[str]:
    """The ``kh * kw`` tensors (N, C, oh, ow) of the (zero-)padded x's window offsets ``(i, j)``, row
    by row: offset (i, j) holds ``padded[:, :, i + stride*a, j + stride*b]``."""
    _, h, w = shape
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    if pad:
        x = g.op("Pad", [x, g.shape(f"{hint}/pads", (0, 0, pad, pad, 0, 0, pad, pad))], hint)
    axes, steps = g.shape(f"{hint}/axes", (2, 3)), g.shape(f"{hint}/steps", (stride, stride))
    windows = []
    for i in range(kh):
        for j in range(kw):
            starts = g.shape(f"{hint}/starts", (i, j))
            ends = g.shape(f"{hint}/ends", (i + stride * (oh - 1) + 1, j + stride * (ow - 1) + 1))
            windows.append(g.op("Slice", [x, starts, ends, axes, steps], f"{hint}/window{i}_{j}"))
    return windows


def conv(g: Graph, name: str, x: str, shape: tuple[int, ...], W: np.ndarray, b: np.ndarray, stride: int,
         pad: int) -> str:
    """``Conv(x, W, b)`` as im2col + MatMul: x (N, C, H, W), W (FN, C, FH, FW) -> (N, FN, oh, ow)."""
    fn, c, fh, fw = W.shape
    windows = _windows(g, name, x, shape, fh, fw, stride, pad)
    cols = g.op("Concat", windows, name, axis=1) if len(windows) > 1 else windows[0]  # (N, FH*FW*C, oh, ow)
    rows = g.op("Transpose", [cols], name, perm=[0, 2, 3, 1])  # (N, oh, ow, FH*FW*C)
    # row (i*FW + j)*C + c of the matrix is W[:, c, i, j], matching the windows' order
    matrix = g.constant(f"{name}/weight_matrix", W.transpose(2, 3, 1, 0).reshape(fh * fw * c, fn))
    out = g.op("MatMul", [rows, matrix], name)  # (N, oh, ow, FN)
    out = g.op("Add", [out, g.constant(f"{name}/bias", b)], name)
    return g.op("Transpose", [out], name, perm=[0, 3, 1, 2])  # (N, FN, oh, ow)


def avg_pool(g: Graph, name: str, x: str, shape: tuple[int, ...], pool_h: int, pool_w: int, stride: int,
             pad: int) -> str:
    """``AveragePool(count_include_pad=1)`` as a sum of the windows divided by ``pool_h * pool_w``."""
    windows = _windows(g, name, x, shape, pool_h, pool_w, stride, pad)
    total = g.op("Sum", windows, name) if len(windows) > 1 else windows[0]
    return g.op("Div", [total, g.scalar(f"{name}/window_size", pool_h * pool_w)], name)


def elu(g: Graph, name: str, x: str, alpha: float) -> str:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    zero = g.scalar(f"{name}/zero", 0.0)
    negative_part = g.op("Exp", [g.op("Min", [x, zero], name)], name)
    negative_part = g.op("Sub", [negative_part, g.scalar(f"{name}/one", 1.0)], name)
    negative_part = g.op("Mul", [negative_part, g.scalar(f"{name}/alpha", alpha)], name)
    return g.op("Where", [g.op("Greater", [x, zero], name), x, negative_part], name)


def softplus(g: Graph, name: str, x: str) -> str:
    """``max(x, 0) + log(1 + exp(-|x|))``, which never overflows."""
    tail = g.op("Exp", [g.op("Neg", [g.op("Abs", [x], name)], name)], name)
    tail = g.op("Log", [g.op("Add", [tail, g.scalar(f"{name}/one", 1.0)], name)], name)
    return g.op("Add", [g.op("Relu", [x], name), tail], name)


def leaky(g: Graph, name: str, x: str, slope: np.ndarray | float) -> str:
    """``x`` where ``x > 0``, else ``slope * x`` (a number, or slopes broadcasting against x)."""
    zero = g.scalar(f"{name}/zero", 0.0)
    scaled = g.op("Mul", [x, g.constant(f"{name}/slope", slope)], name)
    return g.op("Where", [g.op("Greater", [x, zero], name), x, scaled], name)


def batch_norm(g: Graph, name: str, x: str, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray,
               var: np.ndarray, eps: float, axes: int) -> str:
    """Batch normalisation at inference; the (C,) statistics get ``axes`` trailing axes of 1 to broadcast
    over axis 1 of x (0 for (N, C), 2 for (N, C, H, W))."""
    shape = (-1,) + (1,) * axes
    scale = gamma / np.sqrt(var + eps)
    centred = g.op("Sub", [x, g.constant(f"{name}/running_mean", mean.reshape(shape))], name)
    scaled = g.op("Mul", [centred, g.constant(f"{name}/scale", scale.reshape(shape))], name)
    return g.op("Add", [scaled, g.constant(f"{name}/beta", beta.reshape(shape))], name)
