"""The element-wise losses (``rust/bindings/loss.rs``).

Each forward is the mean, over every element, of a term of the scores
(``y``, or logits ``x``) and the targets ``t``: arrays of one shape (any
shape with at least one element, else ValueError) and one float dtype.
The terms are computed in that dtype and summed in float64; the loss is a
Python float.  Each backward returns ``dout * d(loss)/dy``, a new array of
y's shape and dtype, computed from ``y`` and ``t`` again.
"""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks


def _pair(what: str, y_name: str, y: np.ndarray, t: np.ndarray) -> None:
    """y and t: one float dtype (TypeError), one shape (ValueError), at least one element (ValueError)."""
    _checks.same_dtype(**{y_name: y, "t": t})
    _checks.same_shape(y_name, y, "t", t)
    if y.size == 0:
        raise ValueError(f"{what} needs at least one element, got shape {y.shape}")


def _mean(terms: np.ndarray) -> float:
    """The mean of the terms, summed in float64."""
    return float(terms.sum(dtype=np.float64) / terms.size)


def mse_forward(y: np.ndarray, t: np.ndarray) -> float:
    """Mean squared error ``mean((y - t)**2)`` over every element of y and t."""
    _pair("mse_forward", "y", y, t)
    d = y - t
    return _mean(d * d)


def mse_backward(y: np.ndarray, t: np.ndarray, dout: float = 1.0) -> np.ndarray:
    """``dout * 2 (y - t) / y.size``."""
    dout = _checks.real("dout", dout)
    _pair("mse_backward", "y", y, t)
    return np.asarray((y - t) * y.dtype.type(2 * dout / y.size))


def l1_forward(y: np.ndarray, t: np.ndarray) -> float:
    """Mean absolute error ``mean(|y - t|)`` over every element of y and t."""
    _pair("l1_forward", "y", y, t)
    return _mean(np.abs(y - t))


def l1_backward(y: np.ndarray, t: np.ndarray, dout: float = 1.0) -> np.ndarray:
    """``dout * sign(y - t) / y.size`` (0 where y == t: the subgradient taken at the kink)."""
    dout = _checks.real("dout", dout)
    _pair("l1_backward", "y", y, t)
    return np.asarray(np.sign(y - t) * y.dtype.type(dout / y.size))


def huber_forward(y: np.ndarray, t: np.ndarray, delta: float = 1.0) -> float:
    """Mean Huber loss over every element: with ``d = y - t``, ``d**2 / 2`` where
    ``|d| <= delta``, else ``delta * (|d| - delta / 2)``.

    delta: a finite number > 0 (ValueError otherwise), used in y's dtype.
    """
    delta = _checks.positive("delta", delta)
    _pair("huber_forward", "y", y, t)
    dt = y.dtype.type
    half, delta_t = dt(0.5), dt(delta)
    d = y - t
    a = np.abs(d)
    return _mean(np.where(a <= delta_t, half * d * d, delta_t * (a - half * delta_t)))


def huber_backward(y: np.ndarray, t: np.ndarray, delta: float = 1.0, dout: float = 1.0) -> np.ndarray:
    """``dout * clip(y - t, -delta, delta) / y.size``."""
    delta, dout = _checks.real("delta", delta), _checks.real("dout", dout)
    delta = _checks.positive("delta", delta)
    _pair("huber_backward", "y", y, t)
    delta_t = y.dtype.type(delta)
    return np.asarray(np.clip(y - t, -delta_t, delta_t) * y.dtype.type(dout / y.size))


def sigmoid_bce_forward(x: np.ndarray, t: np.ndarray) -> float:
    """Mean binary cross-entropy of ``sigmoid(x)`` against ``t`` over every element:
    ``-t log sigmoid(x) - (1 - t) log(1 - sigmoid(x))``.

    x: logits; t: probabilities (0/1 labels or soft targets) in [0, 1]
    (ValueError otherwise; NaN is let through and gives NaN).  Computed as
    ``max(x, 0) - x t + log1p(exp(-|x|))``, written ``x (1 - t)`` for
    x >= 0 and ``-x t`` below: exact and finite for any finite logit.
    """
    _pair("sigmoid_bce_forward", "x", x, t)
    _checks.probabilities(t)
    linear = np.where(x >= 0, x * (1 - t), -x * t)
    return _mean(linear + np.log1p(np.exp(-np.abs(x))))


def sigmoid_bce_backward(x: np.ndarray, t: np.ndarray, dout: float = 1.0) -> np.ndarray:
    """``dout * (sigmoid(x) - t) / x.size``, formed as ``(1 - t) - p`` for x >= 0 and
    ``p - t`` below, ``p = sigmoid(-|x|)``, so that it does not cancel when sigmoid(x) rounds to 1."""
    dout = _checks.real("dout", dout)
    _pair("sigmoid_bce_backward", "x", x, t)
    _checks.probabilities(t)
    e = np.exp(-np.abs(x))
    p = e / (1 + e)  # sigmoid(-|x|)
    g = np.where(x >= 0, (1 - t) - p, p - t)
    return np.asarray(g * x.dtype.type(dout / x.size))
