"""Weight initialisation.

Every network takes ``weight_init_std``: a number is the standard deviation
of a Gaussian N(0, std**2), as in the book, and a string names one of the
initializers below (any case; :func:`init_weight` resolves either).

================================  ==============================================
name                              weights drawn from
================================  ==============================================
``'relu'``, ``'he'``              N(0, 2/fan_in) (He et al. 2015), for ReLU nets
``'he_uniform'``                  U(-sqrt(6/fan_in), +sqrt(6/fan_in)): He's variance
``'sigmoid'``, ``'xavier'``       N(0, 1/fan_in): the book's "Xavier" (fan_in only)
``'glorot_normal'``               N(0, 2/(fan_in + fan_out)) (Glorot & Bengio 2010)
``'glorot_uniform'``              U(-sqrt(6/(fan_in + fan_out)), +sqrt(...))
``'lecun'``                       U(-sqrt(3/fan_in), +sqrt(3/fan_in)): variance 1/fan_in
``'orthogonal'``                  a (semi-)orthogonal matrix, gain 1 (Saxe et al. 2013)
``'gaussian'``                    N(0, 0.01**2): the book's fixed std 0.01, any fan
``'uniform'``                     U(-0.05, 0.05): a fixed range, any fan
================================  ==============================================

The named initializers share one signature, ``(shape, rng, dtype)``, where
``rng`` is a :class:`numpy.random.Generator`, draw in float64 and return a
C-contiguous array of ``dtype``.  Biases start at zero (:func:`zeros`).

Fan-in and fan-out of a shape (:func:`fans`): a dense weight ``(D, M)``
has fan-in ``D`` and fan-out ``M``; a convolution filter bank
``(FN, C, FH, FW)`` has fan-in ``C * FH * FW`` (the inputs of one output
value) and fan-out ``FN * FH * FW``; a vector ``(D,)`` has ``D`` and ``D``.
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
    """The standard deviation the book means by ``weight_init_std`` for this fan-in:
    ``'relu'``/``'he'`` sqrt(2/fan_in), ``'sigmoid'``/``'xavier'`` sqrt(1/fan_in), or the number itself."""
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key in ("relu", "he"):
            return float(np.sqrt(2.0 / fan_in))
        if key in ("sigmoid", "xavier"):
            return float(np.sqrt(1.0 / fan_in))
        raise ValueError(f"unknown weight_init_std {weight_init_std!r}; use 'relu'/'he', 'sigmoid'/'xavier' or a number")
    return _std(weight_init_std)


def _std(value: object) -> float:
    """A standard deviation: a finite real number >= 0 (TypeError / ValueError otherwise)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"weight_init_std must be a number or one of {sorted(INITIALIZERS)}, "
                        f"got {type(value).__name__}")
    std = float(value)
    if not np.isfinite(std) or std < 0:
        raise ValueError(f"weight_init_std must be a finite number >= 0, got {std}")
    return std


def _normal(shape: Shape, rng: np.random.Generator, dtype: DTypeLike, std: float) -> np.ndarray:
    """N(0, std**2) samples of ``shape``, drawn in float64 then cast to ``dtype``."""
    return np.ascontiguousarray(std * rng.standard_normal(shape), dtype=dtype)


def init_weight(shape: Shape, weight_init_std: str | float, rng: np.random.Generator,
                dtype: DTypeLike = np.float64) -> np.ndarray:
    """A weight of ``shape`` and ``dtype``: N(0, std**2) for a number, else the named initializer.

    A name not in :data:`INITIALIZERS` is a ValueError listing them; a
    negative or non-finite std a ValueError.
    """
    if isinstance(weight_init_std, str):
        return get_initializer(weight_init_std)(shape, rng, dtype)
    return _normal(shape, rng, dtype, _std(weight_init_std))


def zeros(shape: Shape, dtype: DTypeLike = np.float64) -> np.ndarray:
    """A zero bias (C-contiguous) of ``shape`` and ``dtype``."""
    return np.zeros(shape, dtype=dtype)


def gaussian(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64,
             std: float = 0.01) -> np.ndarray:
    """N(0, std**2) with a fixed std, 0.01 by default: the book's ``weight_init_std=0.01``."""
    return _normal(shape, rng, dtype, std)


def uniform(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64,
            limit: float = 0.05) -> np.ndarray:
    """U(-limit, limit) with a fixed limit, 0.05 by default (std limit/sqrt(3), about 0.029)."""
    return np.ascontiguousarray(rng.uniform(-limit, limit, size=shape), dtype=dtype)


def xavier(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> np.ndarray:
    """The book's Xavier: N(0, 1/fan_in) (what ``weight_init_std='xavier'`` or ``'sigmoid'`` gives)."""
    return _normal(shape, rng, dtype, resolve_std("xavier", fans(shape)[0]))


def he(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> np.ndarray:
    """He: N(0, 2/fan_in) (what ``weight_init_std='he'`` or ``'relu'`` gives), for ReLU nets."""
    return _normal(shape, rng, dtype, resolve_std("he", fans(shape)[0]))


def he_uniform(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> np.ndarray:
    """He's variance 2/fan_in, uniformly: U(-sqrt(6/fan_in), sqrt(6/fan_in))."""
    return uniform(shape, rng, dtype, limit=float(np.sqrt(6.0 / fans(shape)[0])))


def glorot_normal(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> np.ndarray:
    """Glorot & Bengio (2010): N(0, 2/(fan_in + fan_out)), balancing the forward and backward passes."""
    fan_in, fan_out = fans(shape)
    return _normal(shape, rng, dtype, float(np.sqrt(2.0 / (fan_in + fan_out))))


def glorot_uniform(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> np.ndarray:
    """Glorot & Bengio (2010): U(-sqrt(6/(fan_in + fan_out)), +sqrt(...)), variance 2/(fan_in + fan_out)."""
    fan_in, fan_out = fans(shape)
    return uniform(shape, rng, dtype, limit=float(np.sqrt(6.0 / (fan_in + fan_out))))


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


#: Every initializer by name (lower case), the book's aliases included.
INITIALIZERS: dict[str, Initializer] = {
    "relu": he,
    "he": he,
    "he_uniform": he_uniform,
    "sigmoid": xavier,
    "xavier": xavier,
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
    "lecun": lecun,
    "orthogonal": orthogonal,
    "gaussian": gaussian,
    "uniform": uniform,
}


def get_initializer(name: str) -> Initializer:
    """The initializer called ``name`` (case-insensitive); ValueError listing the names otherwise."""
    try:
        return INITIALIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown initializer {name!r}; use a number (the std) or one of "
                         f"{sorted(INITIALIZERS)}") from None
