"""Softmax, the fused softmax-cross-entropy and the fused KL divergence (``rust/bindings/softmax.rs``)."""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of x (N, C) (or a single row (C,)), max-subtracted.

    Zero rows give an empty result; zero classes (C == 0) are a ValueError.
    """
    _checks.float_array("x", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"softmax expects a 1-d or 2-d array, got shape {x.shape}")
    if x.shape[-1] == 0:
        raise ValueError(f"softmax needs at least one class (a non-empty last axis), got shape {x.shape}")
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_cross_entropy_forward(x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(x)`` against targets ``t``.

    x: logits (N, C); t: integer labels (N,) of any integer dtype, or one-hot
    rows (N, C) of x's dtype.  Returns ``(loss, y)`` with ``y = softmax(x)``
    (N, C), the state the backward pass needs.  The loss is exact
    (log-sum-exp, no ``1e-7`` clipping): a logit of 1000 gives the true loss.
    """
    _checks.float_array("x", x)
    _checks.ndim("x", x, 2)
    one_hot = _checks.targets(x, t)
    n = x.shape[0]
    if n == 0 or x.shape[1] == 0:
        raise ValueError(f"softmax_cross_entropy_forward needs at least one row and one class, got shape {x.shape}")
    m = x.max(axis=1, keepdims=True)
    z = x - m
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    y = e / s
    log_s = np.log(s)  # (N, 1): log-sum-exp of z
    if one_hot:
        # -sum_j t_ij (z_ij - log_s_i)
        per_row = (t * (log_s - z)).sum(axis=1)
    else:
        per_row = log_s[:, 0] - z[np.arange(n), t]
    return float(per_row.sum(dtype=np.float64) / n), y


def softmax_cross_entropy_backward(y: np.ndarray, t: np.ndarray, dout: float = 1.0) -> np.ndarray:
    """``dout * (y - t) / N`` for probabilities y (N, C); t labels (N,) or one-hot (N, C).

    ``dout`` is a real number; like the forward pass, it needs N >= 1 and C >= 1 (ValueError).
    """
    dout = _checks.real("dout", dout)
    _checks.float_array("y", y)
    _checks.ndim("y", y, 2)
    one_hot = _checks.targets(y, t)
    n = y.shape[0]
    if n == 0 or y.shape[1] == 0:
        raise ValueError(f"softmax_cross_entropy_backward needs at least one row and one class, got shape {y.shape}")
    scale = y.dtype.type(dout / n)
    if one_hot:
        return (y - t) * scale
    dx = y.copy()
    dx[np.arange(n), t] -= 1
    dx *= scale
    return dx


def _kl_pair(what: str, x_name: str, x: np.ndarray, t: np.ndarray) -> None:
    """x (N, C) and t of its shape and float dtype, N >= 1 and C >= 1, t in [0, 1]."""
    _checks.same_dtype(**{x_name: x, "t": t})
    _checks.ndim(x_name, x, 2)
    _checks.same_shape(x_name, x, "t", t)
    if x.size == 0:
        raise ValueError(f"{what} needs at least one row and one class, got shape {x.shape}")
    _checks.probabilities(t)


def kl_div_forward(x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over rows of the Kullback-Leibler divergence of ``softmax(x)`` from ``t``.

    x: logits (N, C); t: target distributions (N, C) of x's dtype, values in
    [0, 1] (ValueError otherwise; NaN is let through).  Returns
    ``(loss, y)`` with ``y = softmax(x)`` and
    ``loss = sum_ij t_ij (log t_ij - log y_ij) / N``, exact (log-sum-exp);
    a zero target contributes 0.  Rows of t that sum to 1 make it the
    divergence KL(t_i || y_i); it is 0 where ``y == t``.
    """
    _kl_pair("kl_div_forward", "x", x, t)
    m = x.max(axis=1, keepdims=True)
    z = x - m
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    y = e / s
    log_s = np.log(s)  # (N, 1): log y = z - log_s
    nonzero = t != 0
    log_t = np.log(np.where(nonzero, t, 1))
    terms = np.zeros_like(t)
    np.multiply(t, log_t - z + log_s, out=terms, where=nonzero)  # 0 * inf would be NaN: zero targets stay 0
    return float(terms.sum(dtype=np.float64) / x.shape[0]), y


def kl_div_backward(y: np.ndarray, t: np.ndarray, dout: float = 1.0) -> np.ndarray:
    """``dout * (y * t.sum(axis=1) - t) / N`` for probabilities y (N, C): the
    gradient of :func:`kl_div_forward`'s loss with respect to the logits
    (``dout * (y - t) / N`` when each row of t sums to 1)."""
    dout = _checks.real("dout", dout)
    _kl_pair("kl_div_backward", "y", y, t)
    mass = t.sum(axis=1, keepdims=True)  # (N, 1)
    return np.asarray((y * mass - t) * y.dtype.type(dout / y.shape[0]))
