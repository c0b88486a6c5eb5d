"""Benchmark cases of one optimizer update of a small network, against the book's plain NumPy loop.

``TwoLayerNet(784, 50, 10)`` in float64, as in the book's chapter 5/6
examples: ``optimizer.update(params, grads)`` on its four arrays (SGD and
Adam) with the ferronet backend active, against the book's update written
here in plain NumPy (not ferronet code), reported in the ``numpy`` column.
Gradients are fixed random arrays of the parameters' shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ferronet.bench.cases import Built, Case, Sizes, seeded

LR = {"sgd": 0.01, "adam": 0.001}  #: the book's default learning rates
BOOK_NOTE = "the book's update loop in plain NumPy (not ferronet's NumPy backend)"


def book_sgd(lr: float) -> Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], None]:
    """The book's SGD.update: ``params[key] -= lr * grads[key]`` for every key."""

    def update(params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for key in params:
            params[key] -= lr * grads[key]

    return update


def book_adam(lr: float, beta1: float = 0.9,
              beta2: float = 0.999) -> Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], None]:
    """The book's Adam.update in NumPy: moments m and v per key, bias correction folded into the step size."""
    m: dict[str, np.ndarray] = {}
    v: dict[str, np.ndarray] = {}
    step = 0

    def update(params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        nonlocal step
        if not m:
            for key, value in params.items():
                m[key], v[key] = np.zeros_like(value), np.zeros_like(value)
        step += 1
        lr_t = lr * np.sqrt(1.0 - beta2**step) / (1.0 - beta1**step)
        for key in params:
            m[key] += (1 - beta1) * (grads[key] - m[key])
            v[key] += (1 - beta2) * (grads[key] ** 2 - v[key])
            params[key] -= lr_t * m[key] / (np.sqrt(v[key]) + 1e-7)

    return update


def _net_arrays(sizes: tuple[int, int, int]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A fresh TwoLayerNet's float64 parameters and random gradients of their shapes."""
    from ferronet.networks import TwoLayerNet

    params = TwoLayerNet(*sizes, dtype=np.float64, seed=0).params
    rng = seeded(15)
    return params, {key: rng.standard_normal(p.shape) * 0.01 for key, p in params.items()}


def update_case(kind: str, sizes: tuple[int, int, int]) -> Case:
    """One ``update(params, grads)`` of TwoLayerNet(*sizes) float64: ferronet's optimizer vs the book's loop."""
    params, grads = _net_arrays(sizes)
    n = sum(p.size for p in params.values())

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return None
        own = {key: p.copy() for key, p in params.items()}  # each backend updates its own arrays
        if backend == "numpy":
            book = (book_sgd if kind == "sgd" else book_adam)(LR[kind])
            return Built(lambda: book(own, grads), note=BOOK_NOTE)
        from ferronet.optimizers import SGD, Adam

        opt: Any = (SGD if kind == "sgd" else Adam)(lr=LR[kind])
        return Built(lambda: opt.update(own, grads))

    name = {"sgd": "SGD", "adam": "Adam"}[kind]
    return Case("update", f"TwoLayerNet({', '.join(map(str, sizes))}) {name} update",
                f"{len(params)} float64 arrays, {n:,} params", build, info={"optimizer": name})


def suite(sizes: Sizes) -> Iterator[Case]:
    """SGD, then Adam."""
    for kind in ("sgd", "adam"):
        yield update_case(kind, sizes.update_net)
