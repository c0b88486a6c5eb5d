"""Numerical differentiation, gradient descent and gradient checking (chapters 4 and 5 of the book).

``numerical_gradient`` is slow (two evaluations of ``f`` per element) and
only meant for checking the analytic gradients of the layers and networks,
and for the book's small examples (:func:`gradient_descent`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ferronet.arrays import as_float_array
from ferronet.ops import _checks

H = 1e-4
"""The central-difference step of the book."""


def numerical_diff(f: Callable[[float], float], x: float) -> float:
    """Central difference ``(f(x + h) - f(x - h)) / 2h`` of a scalar function, h = 1e-4."""
    return float((f(x + H) - f(x - H)) / (2 * H))


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = H) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    x: a writeable float ndarray of any shape (0-d included).  Each element is
    perturbed **in place** by ``+h`` and ``-h`` (h = 1e-4, the book's step,
    unless given), ``f(x)`` is
    evaluated, and the element is then restored bit for bit, so ``f`` may read
    ``x`` through another reference (a network's parameter shared with its
    layers, as in the book).  Returns a float64 array of x's shape.

    The divisor is the step actually stored, ``(x + h) - (x - h)`` after
    rounding to x's dtype, rather than ``2h``: identical to ``2h`` up to
    rounding in float64, and it keeps float32 checks honest.  Where ``h`` is
    lost to rounding entirely (``|x|`` beyond about 1e12 in float64), the
    divisor is ``2h`` as in the book, and that element's gradient is 0.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError("numerical_gradient needs a float ndarray x (it is perturbed in place)")
    if not x.flags.writeable:
        raise ValueError("numerical_gradient perturbs x in place, but x is read-only")
    grad = np.zeros(x.shape, dtype=np.float64)  # same shape as x
    step = x.dtype.type(h)
    for idx in np.ndindex(x.shape):
        original = x[idx].copy()  # a NumPy scalar of x's dtype
        x[idx] = original + step
        upper = x[idx].copy()
        f_plus = float(f(x))
        x[idx] = original - step
        lower = x[idx].copy()
        f_minus = float(f(x))
        x[idx] = original  # exact restore
        step_taken = float(upper) - float(lower)
        grad[idx] = (f_plus - f_minus) / (step_taken if step_taken != 0 else 2 * h)
    return grad


def gradient_descent(f: Callable[[np.ndarray], float], init_x: Any, lr: float = 0.01, step_num: int = 100,
                     return_path: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The book's gradient descent (chapter 4): ``step_num`` times ``x -= lr * grad``.

    The gradient of ``f`` is :func:`numerical_gradient`'s.  init_x: an array
    (or anything ``np.array`` takes) of any shape; it is copied, never
    modified (float32 and float64 are kept, anything else becomes float64).
    Returns the final ``x``; with ``return_path=True``, ``(x, path)`` where
    ``path`` (step_num + 1, *x.shape) holds init_x and every step's result,
    the final x last (what the book's ``gradient_method.py`` plots).
    lr: a finite real number; step_num: an int >= 0.
    """
    lr = _checks.finite("lr", lr)
    steps = _checks.integer("step_num", step_num)
    if steps < 0:
        raise ValueError(f"step_num must be >= 0, got {steps}")
    x = np.array(as_float_array(init_x))  # a copy: the caller's array is left alone
    path = np.empty((steps + 1, *x.shape), dtype=x.dtype) if return_path else None
    for i in range(steps):
        if path is not None:
            path[i] = x
        x -= x.dtype.type(lr) * numerical_gradient(f, x).astype(x.dtype)
    if path is not None:
        path[steps] = x
        return x, path
    return x


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
