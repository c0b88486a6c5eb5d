"""Weight initialisation.

The book picks a weight's standard deviation with ``weight_init_std``: the
strings ``'relu'``/``'he'`` mean He (``sqrt(2 / fan_in)``), ``'sigmoid'``/
``'xavier'`` mean the book's Xavier (``sqrt(1 / fan_in)``), and a number is
the standard deviation itself.  :func:`init_weight` resolves that argument.

The named initializers share one signature, ``(shape, rng, dtype)``, where
``rng`` is a :class:`numpy.random.Generator`, and return a C-contiguous
array of ``dtype``.  Biases start at zero (:func:`zeros`).

Fan-in of a shape: a dense weight ``(D, M)`` has fan-in ``D``; a
convolution filter ``(FN, C, FH, FW)`` has fan-in ``C * FH * FW``; a vector
``(D,)`` has fan-in ``D``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike

Shape = tuple[int, ...]
Initializer = Callable[..., np.ndarray]


def fans(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a dense ``(D, M)`` or convolution ``(FN, C, FH, FW)`` weight."""
    if len(shape) == 0:
        raise ValueError("a weight needs at least one dimension")
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def resolve_std(weight_init_std: str | float, fan_in: int) -> float:
    """The standard deviation the book means by ``weight_init_std`` for this fan-in."""
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key in ("relu", "he"):
            return float(np.sqrt(2.0 / fan_in))
        if key in ("sigmoid", "xavier"):
            return float(np.sqrt(1.0 / fan_in))
        raise ValueError(f"unknown weight_init_std {weight_init_std!r}; use 'relu'/'he', 'sigmoid'/'xavier' or a number")
    return float(weight_init_std)


def _normal(shape: Shape, rng: np.random.Generator, dtype: DTypeLike, std: float) -> np.ndarray:
    """N(0, std**2) samples of ``shape``, drawn in float64 then cast to ``dtype``."""
    return np.ascontiguousarray(std * rng.standard_normal(shape), dtype=dtype)


def init_weight(shape: Shape, weight_init_std: str | float, rng: np.random.Generator,
                dtype: DTypeLike = np.float64) -> np.ndarray:
    """A weight of ``shape`` and ``dtype`` drawn from N(0, std**2), std from :func:`resolve_std`."""
    return _normal(shape, rng, dtype, resolve_std(weight_init_std, fans(shape)[0]))


def zeros(shape: Shape, dtype: DTypeLike = np.float64) -> np.ndarray:
    """A zero bias (C-contiguous) of ``shape`` and ``dtype``."""
    return np.zeros(shape, dtype=dtype)


def gaussian(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64,
             std: float = 0.01) -> np.ndarray:
    """N(0, std**2); the book's ``weight_init_std=0.01`` default."""
    return _normal(shape, rng, dtype, std)


def uniform(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64,
            limit: float = 0.05) -> np.ndarray:
    """U(-limit, limit)."""
    return np.ascontiguousarray(rng.uniform(-limit, limit, size=shape), dtype=dtype)


def xavier(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> np.ndarray:
    """The book's Xavier: N(0, 1/fan_in) (what ``weight_init_std='xavier'`` gives)."""
    return init_weight(shape, "xavier", rng, dtype)


def he(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> np.ndarray:
    """He: N(0, 2/fan_in) (what ``weight_init_std='he'`` gives), for ReLU nets."""
    return init_weight(shape, "he", rng, dtype)


def lecun(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> np.ndarray:
    """LeCun uniform: U(-sqrt(3/fan_in), sqrt(3/fan_in)), variance 1/fan_in.

    (Same variance as the book's Gaussian Xavier, uniformly distributed.)
    """
    return uniform(shape, rng, dtype, limit=float(np.sqrt(3.0 / fans(shape)[0])))


def orthogonal(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64,
               gain: float = 1.0) -> np.ndarray:
    """A (semi-)orthogonal weight (Saxe et al. 2013), scaled by ``gain``.

    The weight is viewed as a matrix (shape[0], prod(shape[1:])); its rows
    (or columns, whichever are fewer) are orthonormal.
    """
    rows = shape[0]
    cols = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))  # tall matrix
    q, r = np.linalg.qr(a)  # q: (max, min) with orthonormal columns
    q *= np.sign(np.diag(r))  # make the decomposition unique (uniform over O(n))
    if rows < cols:
        q = q.T  # (rows, cols) with orthonormal rows
    return np.ascontiguousarray(gain * q.reshape(shape), dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "gaussian": gaussian,
    "uniform": uniform,
    "xavier": xavier,
    "he": he,
    "lecun": lecun,
    "orthogonal": orthogonal,
}


def get_initializer(name: str) -> Initializer:
    """The initializer called ``name`` (case-insensitive)."""
    try:
        return INITIALIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown initializer {name!r}; choose one of {sorted(INITIALIZERS)}") from None
