"""The book's activation and loss functions, as plain NumPy helpers.

These are the small functions of chapters 3-5 (and a few common extras).
They accept any array-like (lists, scalars, integer arrays) and return NumPy
values; they are *not* kernels: the layers in :mod:`ferronet.layers` call the
dispatched kernels in :mod:`ferronet.ops` instead.

Unless stated otherwise an activation maps an array of any shape to an array
of the same shape, float64 for integer input, else the input's float dtype.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ferronet.arrays import as_float_array
from ferronet.ops import _checks
from ferronet.ops import reference as _kernels

# --------------------------------------------------------------------------
# Activations (element-wise, any shape)
# --------------------------------------------------------------------------


def identity_function(x: ArrayLike) -> ArrayLike:
    """Return ``x`` unchanged (the output activation of a regression net)."""
    return x


def step_function(x: ArrayLike) -> np.ndarray:
    """1 where ``x > 0`` else 0, as int64 (any shape)."""
    return (np.asarray(x) > 0).astype(np.int64)


def sigmoid(x: ArrayLike) -> np.ndarray:
    """``1 / (1 + exp(-x))``, computed without overflow (finite for x = -1000).

    Only ``exp(-|x|)`` is evaluated, which lies in (0, 1]; for negative x the
    equivalent form ``exp(x) / (1 + exp(x))`` is used.
    """
    a = as_float_array(x)
    e = np.exp(-np.abs(a))  # same shape as x, in (0, 1]
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`sigmoid` at ``x``: ``s * (1 - s)``."""
    s = sigmoid(x)
    return s * (1 - s)


def relu(x: ArrayLike) -> np.ndarray:
    """``max(x, 0)`` (any shape; keeps integer dtypes)."""
    return np.maximum(x, 0)


def relu_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`relu`: 1.0 where ``x > 0`` else 0.0 (0 at the kink)."""
    a = as_float_array(x)
    return (a > 0).astype(a.dtype)


# The activations below share their definitions with the NumPy reference
# kernels (ferronet.ops.reference): overflow-free, NaN kept, float32 kept.
# Each ``*_grad`` is the derivative with respect to x, element by element.


def _ones_like(a: np.ndarray) -> np.ndarray:
    return np.ones(np.shape(a), dtype=a.dtype)


def identity_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`identity_function`: ones like x (float)."""
    return _ones_like(as_float_array(x))


def tanh(x: ArrayLike) -> np.ndarray:
    """Hyperbolic tangent."""
    return _kernels.tanh_forward(as_float_array(x))


def tanh_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`tanh`: ``1 - tanh(x)**2``, as ``(1 - y)(1 + y)``."""
    y = tanh(x)
    return _kernels.tanh_backward(_ones_like(y), y)


def leaky_relu(x: ArrayLike, alpha: float = 0.01) -> np.ndarray:
    """``x`` where ``x > 0`` else ``alpha * x``; alpha >= 0."""
    return _kernels.leaky_relu_forward(as_float_array(x), alpha)


def leaky_relu_grad(x: ArrayLike, alpha: float = 0.01) -> np.ndarray:
    """Derivative of :func:`leaky_relu`: 1 where ``x > 0`` else alpha (alpha at the kink)."""
    y = leaky_relu(x, alpha)
    return _kernels.leaky_relu_backward(_ones_like(y), y, alpha)


def prelu(x: ArrayLike, alpha: ArrayLike) -> np.ndarray:
    """PReLU: ``x`` where ``x > 0`` else ``alpha[c] * x``, x (N, C, ...), alpha (C,) (cast to x's dtype)."""
    a = as_float_array(x)
    return _kernels.prelu_forward(a, as_float_array(alpha, a.dtype))


def prelu_grad(x: ArrayLike, alpha: ArrayLike) -> np.ndarray:
    """Derivative of :func:`prelu` with respect to x: 1 where ``x > 0`` else ``alpha[c]``, like x."""
    a = as_float_array(x)
    return _kernels.prelu_backward(_ones_like(a), a, as_float_array(alpha, a.dtype))[0]


def relu6(x: ArrayLike) -> np.ndarray:
    """ReLU clipped at 6: ``min(max(x, 0), 6)``."""
    return _kernels.relu6_forward(as_float_array(x))


def relu6_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`relu6`: 1 where ``0 < x < 6`` else 0 (0 at both kinks)."""
    y = relu6(x)
    return _kernels.relu6_backward(_ones_like(y), y)


def softplus(x: ArrayLike) -> np.ndarray:
    """``log(1 + exp(x))``, stable for large |x|: ``max(x, 0) + log1p(exp(-|x|))``."""
    return _kernels.softplus_forward(as_float_array(x))


def softplus_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`softplus`: ``sigmoid(x)``."""
    a = as_float_array(x)
    return _kernels.softplus_backward(_ones_like(a), a)


def swish(x: ArrayLike, beta: float = 1.0) -> np.ndarray:
    """``x * sigmoid(beta * x)`` (SiLU when ``beta == 1``)."""
    return _kernels.swish_forward(as_float_array(x), beta)


def swish_grad(x: ArrayLike, beta: float = 1.0) -> np.ndarray:
    """Derivative of :func:`swish`: ``s + beta x s (1 - s)``, ``s = sigmoid(beta x)``."""
    a = as_float_array(x)
    return _kernels.swish_backward(_ones_like(a), a, beta)


def silu(x: ArrayLike) -> np.ndarray:
    """SiLU: ``x * sigmoid(x)`` (:func:`swish` with beta 1)."""
    return swish(x, 1.0)


def silu_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`silu`."""
    return swish_grad(x, 1.0)


def gelu(x: ArrayLike) -> np.ndarray:
    """GELU, tanh form: ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` (within 5e-4 of ``x Phi(x)``)."""
    return _kernels.gelu_forward(as_float_array(x))


def gelu_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`gelu` (of its tanh form, exactly)."""
    a = as_float_array(x)
    return _kernels.gelu_backward(_ones_like(a), a)


def elu(x: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    """ELU: ``x`` where ``x > 0`` else ``alpha * (exp(x) - 1)``; alpha > 0."""
    return _kernels.elu_forward(as_float_array(x), alpha)


def elu_grad(x: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    """Derivative of :func:`elu`: 1 where ``x > 0`` else ``alpha * exp(x)``."""
    y = elu(x, alpha)
    return _kernels.elu_backward(_ones_like(y), y, alpha)


def softmax(x: ArrayLike) -> np.ndarray:
    """Softmax over the last axis, max-subtracted so large logits do not overflow.

    x: (..., C) -> (..., C); each slice along the last axis sums to 1.
    """
    a = as_float_array(x)
    z = a - a.max(axis=-1, keepdims=True)  # (..., C), all <= 0
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------
# Losses (return Python floats)
# --------------------------------------------------------------------------


def sum_squared_error(y: ArrayLike, t: ArrayLike) -> float:
    """The book's squared error ``0.5 * sum((y - t)**2)`` over every element."""
    d = as_float_array(y) - as_float_array(t)
    return float(0.5 * np.sum(d * d))


def mean_squared_error(y: ArrayLike, t: ArrayLike) -> float:
    """The usual mean squared error ``mean((y - t)**2)`` over every element.

    (The book's ``0.5 * sum`` variant is :func:`sum_squared_error`.)
    """
    d = as_float_array(y) - as_float_array(t)
    return float(np.mean(d * d))


def mean_absolute_error(y: ArrayLike, t: ArrayLike) -> float:
    """``mean(|y - t|)`` over every element."""
    return float(np.mean(np.abs(as_float_array(y) - as_float_array(t))))


def huber_loss(y: ArrayLike, t: ArrayLike, delta: float = 1.0) -> float:
    """Mean Huber loss over every element: ``0.5 d**2`` for ``|d| <= delta``, else
    ``delta (|d| - delta/2)``, ``d = y - t``; delta a finite number > 0 (ValueError otherwise)."""
    delta = _checks.positive("delta", delta)
    d = np.abs(as_float_array(y) - as_float_array(t))
    return float(np.mean(np.where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta))))


def _as_batch(y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The book's rule: a 1-d ``y`` (C,) is a batch of one row (1, C)."""
    if y.ndim == 1:
        y = y.reshape(1, y.size)
        t = t.reshape(1, t.size)
    return y, t


def cross_entropy_error(y: ArrayLike, t: ArrayLike) -> float:
    """The book's cross-entropy of probabilities ``y`` against targets ``t``.

    y: (N, C) probabilities, or (C,) for a single sample.  t: labels (N,) of
    any integer dtype, or one-hot rows (N, C) (one-hot is detected, as in the
    book, by ``t.size == y.size``).  Returns
    ``-sum_i log(y[i, t_i] + 1e-7) / N``.  The ``1e-7`` is the book's guard
    against ``log(0)`` and is kept on purpose; it makes this loss differ
    slightly from its analytic gradient, which is why the layers use the
    exact fused kernel ``ops.softmax_cross_entropy_forward`` instead.
    """
    y_, t_ = _as_batch(as_float_array(y), np.asarray(t))
    if t_.size == y_.size:  # one-hot -> labels
        t_ = t_.reshape(y_.shape).argmax(axis=1)
    n = y_.shape[0]
    picked = y_[np.arange(n), t_.reshape(n)]  # (N,): probability of the true class
    return float(-np.sum(np.log(picked + 1e-7)) / n)


def softmax_loss(X: ArrayLike, t: ArrayLike) -> float:
    """:func:`cross_entropy_error` of :func:`softmax` of logits ``X`` (N, C) or (C,)."""
    return cross_entropy_error(softmax(X), t)


def binary_cross_entropy(y: ArrayLike, t: ArrayLike, eps: float = 1e-7) -> float:
    """Mean over every element of ``-(t log y + (1 - t) log(1 - y))``.

    y: probabilities in [0, 1], clipped to ``[eps, 1 - eps]``; t: 0/1 targets
    (or soft targets) of the same shape.
    """
    p = np.clip(as_float_array(y), eps, 1 - eps)
    t_ = as_float_array(t)
    return float(-np.mean(t_ * np.log(p) + (1 - t_) * np.log1p(-p)))


def sigmoid_binary_cross_entropy(x: ArrayLike, t: ArrayLike) -> float:
    """:func:`binary_cross_entropy` of ``sigmoid(x)`` for logits ``x``, exact: the mean
    over every element of ``max(x, 0) - x t + log1p(exp(-|x|))`` (no clipping,
    finite for any finite logit).

    t: targets of x's shape in [0, 1] (0/1 labels or probabilities; ValueError
    outside).  What :class:`ferronet.layers.SigmoidWithLoss` computes.
    """
    a = as_float_array(x)
    return _kernels.sigmoid_bce_forward(a, as_float_array(t, a.dtype))


def kl_divergence(p: ArrayLike, q: ArrayLike, eps: float = 1e-12) -> float:
    """``KL(p || q) = sum p log(p / q)`` along the last axis, averaged over rows.

    p, q: (C,) or (N, C) probability distributions.  Terms with ``p == 0``
    contribute 0; ``q`` is floored at ``eps`` so ``q == 0`` stays finite.
    """
    p_, q_ = _as_batch(as_float_array(p), as_float_array(q))
    logratio = np.log(np.where(p_ > 0, p_, 1)) - np.log(np.maximum(q_, eps))  # (N, C)
    return float(np.sum(np.where(p_ > 0, p_ * logratio, 0)) / p_.shape[0])


def softmax_kl_divergence(x: ArrayLike, t: ArrayLike) -> float:
    """:func:`kl_divergence` ``KL(t || softmax(x))`` for logits ``x``, exact: summed
    over the last axis, averaged over rows (log-sum-exp, no floor).

    x: logits (N, C) or (C,); t: target distributions of x's shape (values
    in [0, 1], ValueError outside).  What :class:`ferronet.layers.KLDivLoss` computes.
    """
    a, t_ = _as_batch(as_float_array(x), np.asarray(t))
    return _kernels.kl_div_forward(a, as_float_array(t_, a.dtype))[0]
