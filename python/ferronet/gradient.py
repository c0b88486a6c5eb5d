"""Numerical differentiation and gradient checking (chapter 4 and 5 of the book).

``numerical_gradient`` is slow (two evaluations of ``f`` per element) and
only meant for checking the analytic gradients of the layers and networks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

H = 1e-4
"""The central-difference step of the book."""


def numerical_diff(f: Callable[[float], float], x: float) -> float:
    """Central difference ``(f(x + h) - f(x - h)) / 2h`` of a scalar function, h = 1e-4."""
    return float((f(x + H) - f(x - H)) / (2 * H))


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    x: a writeable float ndarray of any shape (0-d included).  Each element is
    perturbed **in place** by ``+h`` and ``-h`` (h = 1e-4), ``f(x)`` is
    evaluated, and the element is then restored bit for bit, so ``f`` may read
    ``x`` through another reference (a network's parameter shared with its
    layers, as in the book).  Returns a float64 array of x's shape.

    The divisor is the step actually stored, ``(x + h) - (x - h)`` after
    rounding to x's dtype, rather than ``2h``: identical to ``2h`` up to
    rounding in float64, and it keeps float32 checks honest.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError("numerical_gradient needs a float ndarray x (it is perturbed in place)")
    if not x.flags.writeable:
        raise ValueError("numerical_gradient perturbs x in place, but x is read-only")
    grad = np.zeros(x.shape, dtype=np.float64)  # same shape as x
    step = x.dtype.type(H)
    for idx in np.ndindex(x.shape):
        original = x[idx].copy()  # a NumPy scalar of x's dtype
        x[idx] = original + step
        upper = x[idx].copy()
        f_plus = float(f(x))
        x[idx] = original - step
        lower = x[idx].copy()
        f_minus = float(f(x))
        x[idx] = original  # exact restore
        grad[idx] = (f_plus - f_minus) / (float(upper) - float(lower))
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``(max|a - b|, max|a - b| / max(max|a|, max|b|, tiny))`` in float64.

    The relative error is normalised per array by the larger of the two
    gradients' largest magnitudes, not element by element: an element-wise
    ratio explodes on entries that are (nearly) zero in both gradients (dead
    ReLU units, untouched biases), whereas this one only says how large the
    disagreement is compared with the gradient's own scale.  Two all-zero
    gradients give 0.
    """
    a64 = np.asarray(a, dtype=np.float64)
    b64 = np.asarray(b, dtype=np.float64)
    if a64.shape != b64.shape:
        raise ValueError(f"shape mismatch: {a64.shape} vs {b64.shape}")
    if a64.size == 0:
        return 0.0, 0.0
    abs_diff = float(np.max(np.abs(a64 - b64)))
    scale = max(float(np.max(np.abs(a64))), float(np.max(np.abs(b64))), np.finfo(np.float64).tiny)
    return abs_diff, abs_diff / scale


def gradient_check(network: Any, x: np.ndarray, t: np.ndarray) -> dict[str, tuple[float, float]]:
    """Compare ``network.gradient(x, t)`` with ``network.numerical_gradient(x, t)``.

    Returns ``{param_name: (max_abs_diff, max_rel_diff)}`` with the relative
    error of :func:`relative_error` (normalised by the gradient's largest
    magnitude).  Use float64 networks and small sizes: the numerical side
    costs two forward passes per parameter element.
    """
    analytic = network.gradient(x, t)
    numeric = network.numerical_gradient(x, t)
    return {name: relative_error(analytic[name], numeric[name]) for name in numeric}
