"""Benchmark cases of the activations: each one's forward and backward pass through ``ferronet.ops`` on
n float32 (1e7 in the full suite), against PyTorch's autograd equivalent.

A call runs the forward kernel, then the backward kernel on the array it
reads (the forward output or input, as the layers do).  PReLU runs on
``(n / 10^4, 100, 10, 10)`` images with one slope per channel (its backward
also sums the slopes' gradient).  Identity has no kernel and no case.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import numpy as np

from ferronet import ops
from ferronet.bench.cases import F32, Built, Case, Sizes, normal, seeded

RRELU_SEED = 1234
#: case name -> (kernel prefix in ferronet.ops, hyper-parameters, the array backward reads: "y" or "x")
ELEMENTWISE = {
    "ReLU": ("relu", (), "y"),
    "Sigmoid": ("sigmoid", (), "y"),
    "Tanh": ("tanh", (), "y"),
    "LeakyReLU": ("leaky_relu", (0.01,), "y"),
    "RReLU": ("rrelu", (1 / 8, 1 / 3, RRELU_SEED), "y"),
    "ReLU6": ("relu6", (), "y"),
    "Softplus": ("softplus", (), "x"),
    "SiLU": ("swish", (1.0,), "x"),
    "GELU (tanh)": ("gelu", (), "x"),
    "ELU": ("elu", (1.0,), "y"),
}
#: PReLU's channels and positions per image: (C, H, W)
PRELU_IMAGE = (100, 10, 10)
#: bytes per element: read x, write y; read dout and x or y, write dx
BYTES_PER_ELEMENT = 20.0


def _label(name: str, n: int) -> str:
    return f"{name} fwd+bwd {n:.0e}".replace("e+0", "e")


def elementwise_case(name: str, n: int, torch: ModuleType | None) -> Case:
    kernel, hyper, reads = ELEMENTWISE[name]
    rng = seeded(20)
    x, dout = normal(rng, n) * F32(3), normal(rng, n)
    forward, backward = getattr(ops, f"{kernel}_forward"), getattr(ops, f"{kernel}_backward")

    def build(backend: str) -> Built | None:
        if backend == "torch":
            if torch is None:
                return None
            fn, what = torch.activation_fwd_bwd(kernel, x, dout)
            return Built(fn, note=what)

        def run() -> None:
            y = forward(x, *hyper)
            backward(dout, y if reads == "y" else x, *hyper)

        return Built(run)

    return Case("activation", _label(name, n), f"{n:,} float32", build, "GB/s", BYTES_PER_ELEMENT * n)


def prelu_case(n: int, torch: ModuleType | None) -> Case:
    rng = seeded(21)
    shape = (max(1, n // int(np.prod(PRELU_IMAGE))), *PRELU_IMAGE)
    x, dout = normal(rng, *shape) * F32(3), normal(rng, *shape)
    alpha = np.full(PRELU_IMAGE[0], 0.25, F32)

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.prelu_fwd_bwd(x, alpha, dout)) if torch else None

        def run() -> None:
            ops.prelu_forward(x, alpha)
            ops.prelu_backward(dout, x, alpha)

        return Built(run)

    return Case("activation", _label("PReLU", x.size), f"{shape}, one slope per channel", build, "GB/s",
                BYTES_PER_ELEMENT * x.size)


def suite(sizes: Sizes, torch: ModuleType | None) -> Iterator[Case]:
    """The activation cases, in report order."""
    for name in ELEMENTWISE:
        yield elementwise_case(name, sizes.activation, torch)
    yield prelu_case(sizes.activation, torch)
