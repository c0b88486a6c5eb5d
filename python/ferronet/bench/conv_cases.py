"""Benchmark cases of the convolutional-network kernels: im2col, convolution, max pooling, BatchNorm, dropout.

Each case times a kernel's forward and backward through ``ferronet.ops`` on
float32 NCHW arrays, against the PyTorch equivalent (autograd, CPU).  The
batch is ``Sizes.conv_batch`` (100 in the full suite); the per-sample shapes
are the issue's, and DeepConvNet's six convolutions as the network has them.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import numpy as np

from ferronet import ops
from ferronet.bench.cases import F32, Built, Case, Sizes, normal, seeded
from ferronet.bench.training import DEEP_CONVNET

#: im2col: (per-sample input shape (C, H, W), filter size, stride, pad)
IM2COL = (((1, 28, 28), 5, 1, 0), ((16, 14, 14), 3, 1, 1))
#: convolution: (per-sample input shape, filters, filter size, stride, pad): SimpleConvNet's and DeepConvNet's
CONV = (((1, 28, 28), 30, 5, 1, 0), ((16, 14, 14), 16, 3, 1, 1))
#: max pooling 2x2 stride 2 on SimpleConvNet's convolution output
POOL = ((30, 24, 24), 2, 2)
#: BatchNorm, per-sample shapes: after a convolution (per channel) and after an Affine layer
BATCHNORM = ((16, 28, 28), (100,))
DROPOUT_RATIO = 0.5


def _out_size(size: int, k: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - k) // stride + 1


def _geometry(k: int, stride: int, pad: int) -> str:
    return f"{k}x{k}" + (f" stride {stride}" if stride != 1 else "") + (f" pad {pad}" if pad else "")


def im2col_case(n: int, shape: tuple[int, int, int], k: int, stride: int, pad: int,
                torch: ModuleType | None) -> Case:
    """``ops.im2col`` of x (n, C, H, W) -> col (n*oh*ow, C*k*k); torch: ``F.unfold`` (its layout is transposed)."""
    x = normal(seeded(10), n, *shape)
    c, h, w = shape
    col_size = n * _out_size(h, k, stride, pad) * _out_size(w, k, stride, pad) * c * k * k

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.im2col(x, k, stride, pad), note="F.unfold: (N, C*k*k, oh*ow)") if torch else None
        return Built(lambda: ops.im2col(x, k, k, stride, pad))

    return Case("im2col", f"im2col {c}ch {_geometry(k, stride, pad)}", f"({n}, {c}, {h}, {w}), "
                f"{_geometry(k, stride, pad)}", build, "GB/s", 4.0 * (x.size + col_size))


def conv_case(n: int, shape: tuple[int, int, int], filters: int, k: int, stride: int, pad: int,
              torch: ModuleType | None, *, need_dx: bool = True, group: str = "conv", name: str = "") -> Case:
    """``ops.conv_forward`` + ``ops.conv_backward`` (dx unless ``need_dx`` is False, dW, db):
    x (n, C, H, W), W (filters, C, k, k).  ``name`` heads the label (e.g. a network's layer)."""
    rng = seeded(11)
    c, h, w = shape
    x, W = normal(rng, n, *shape), normal(rng, filters, c, k, k) * F32(0.1)
    b = normal(rng, filters)
    oh, ow = _out_size(h, k, stride, pad), _out_size(w, k, stride, pad)
    dout = normal(rng, n, filters, oh, ow)

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.conv_fwd_bwd(x, W, b, dout, stride, pad, need_dx)) if torch else None

        def run() -> None:
            ops.conv_forward(x, W, b, stride, pad)
            ops.conv_backward(dout, x, W, stride, pad, need_dx=need_dx)

        return Built(run)

    flops = (3 if need_dx else 2) * 2.0 * n * filters * oh * ow * c * k * k  # forward, dx, dW
    label = f"{name or 'conv'} fwd+bwd {c}->{filters} {_geometry(k, stride, pad)}" + (f" at {h}x{w}" if name else "")
    return Case(group, label + ("" if need_dx else " (no dx)"),
                f"x ({n}, {c}, {h}, {w}), W ({filters}, {c}, {k}, {k})", build, "GFLOP/s", flops)


def deep_convnet_convolutions() -> list[tuple[str, tuple[int, int, int], int, int, int, int, bool]]:
    """DeepConvNet's convolutions as (layer name, per-sample input shape, filters, filter size, stride, pad,
    need_dx), read off the network after a forward pass of one image (its first layer skips dx)."""
    from ferronet.layers import Convolution

    net = DEEP_CONVNET.build()
    net.loss(np.zeros((1, *DEEP_CONVNET.input_shape), F32), np.zeros(1, np.uint8), train_flg=True)
    return [(name, layer.x.shape[1:], layer.W.shape[0], layer.W.shape[2], layer.stride, layer.pad, layer.input_grad)
            for name, layer in net.layers.items() if isinstance(layer, Convolution)]


def max_pool_case(n: int, torch: ModuleType | None) -> Case:
    """``ops.max_pool_forward`` + ``ops.max_pool_backward`` (argmax scatter)."""
    (c, h, w), k, stride = POOL
    rng = seeded(12)
    x = normal(rng, n, c, h, w)
    oh, ow = _out_size(h, k, stride, 0), _out_size(w, k, stride, 0)
    dout = normal(rng, n, c, oh, ow)

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.max_pool_fwd_bwd(x, dout, k, stride)) if torch else None

        def run() -> None:
            _, argmax = ops.max_pool_forward(x, k, k, stride, 0)
            ops.max_pool_backward(dout, argmax, x.shape)

        return Built(run)

    # read x, write out + int32 argmax; read dout + argmax, write dx
    return Case("max_pool", f"max pool fwd+bwd {_geometry(k, stride, 0)}", f"({n}, {c}, {h}, {w})", build,
                "GB/s", 8.0 * x.size + 16.0 * dout.size)


def batchnorm_case(n: int, shape: tuple[int, ...], torch: ModuleType | None) -> Case:
    """``ops.batchnorm_forward`` (train mode, per channel) + ``ops.batchnorm_backward``."""
    rng = seeded(13)
    x, dout = normal(rng, n, *shape) * F32(2) + F32(1), normal(rng, n, *shape)
    c = shape[0]
    gamma, beta = normal(rng, c) * F32(0.1) + F32(1), normal(rng, c) * F32(0.1)
    running_mean, running_var = np.zeros(c, F32), np.ones(c, F32)

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.batchnorm_fwd_bwd(x, gamma, beta, dout)) if torch else None

        def run() -> None:
            _, mean, inv_std = ops.batchnorm_forward(x, gamma, beta, running_mean, running_var, True, 0.9, 1e-6)
            ops.batchnorm_backward(dout, x, gamma, mean, inv_std)

        return Built(run)

    dims = ", ".join(map(str, (n, *shape)))
    # read x, write out; read dout and x, write dx
    return Case("batchnorm", f"BatchNorm fwd+bwd ({dims})", f"({dims}), train mode, per channel", build,
                "GB/s", 20.0 * x.size)


def dropout_case(n: int, torch: ModuleType | None) -> Case:
    """``ops.dropout_forward`` (book form, ratio 0.5) + ``ops.dropout_backward`` on n float32."""
    rng = seeded(14)
    x, dout = normal(rng, n), normal(rng, n)

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.dropout_fwd_bwd(x, dout, DROPOUT_RATIO), note="inverted dropout") if torch else None

        def run() -> None:
            _, mask = ops.dropout_forward(x, DROPOUT_RATIO, 1234)
            ops.dropout_backward(dout, mask, DROPOUT_RATIO)

        return Built(run)

    # read x, write out and a bool mask; read dout and the mask, write dx
    return Case("dropout", f"Dropout fwd+bwd {n:.0e}".replace("e+0", "e"), f"{n:,} float32, ratio {DROPOUT_RATIO}",
                build, "GB/s", 18.0 * n)


def suite(sizes: Sizes, torch: ModuleType | None) -> Iterator[Case]:
    """The kernel cases, in report order."""
    n = sizes.conv_batch
    for shape, k, stride, pad in IM2COL:
        yield im2col_case(n, shape, k, stride, pad, torch)
    for shape, filters, k, stride, pad in CONV:
        yield conv_case(n, shape, filters, k, stride, pad, torch)
    for name, shape, filters, k, stride, pad, need_dx in deep_convnet_convolutions():
        yield conv_case(n, shape, filters, k, stride, pad, torch, need_dx=need_dx, group="deep_conv_layer",
                        name=f"DeepConvNet {name}")
    yield max_pool_case(n, torch)
    for shape in BATCHNORM:
        yield batchnorm_case(n, shape, torch)
    yield dropout_case(sizes.activation, torch)
