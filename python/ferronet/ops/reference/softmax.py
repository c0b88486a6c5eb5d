"""Softmax and the fused softmax-cross-entropy (``rust/bindings/softmax.rs``)."""

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
