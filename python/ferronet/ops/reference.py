"""The NumPy oracle: one function per native kernel, with the same signature.

Every function here is the definition of what its native twin in
``ferronet._native`` computes; the tests compare the two.  All functions take
float32 or float64 arrays and never change their dtype (no silent casting).
Functions ending in ``_step`` update their first array(s) in place and return
``None``, exactly like the native optimizer kernels.
"""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks

# --------------------------------------------------------------------------
# Dense algebra
# --------------------------------------------------------------------------


def matmul(a: np.ndarray, b: np.ndarray, trans_a: bool = False, trans_b: bool = False,
           out: np.ndarray | None = None) -> np.ndarray:
    """``op(a) @ op(b)`` where ``op`` transposes when asked.

    a: (M, K), or (K, M) with ``trans_a``; b: (K, N), or (N, K) with ``trans_b``.
    Returns (M, N) of the common dtype, written into ``out`` when given
    (``out`` must be C-contiguous, writeable, (M, N) and of that dtype).
    """
    dtype = _checks.same_dtype(a=a, b=b)
    _checks.ndim("a", a, 2)
    _checks.ndim("b", b, 2)
    lhs = a.T if trans_a else a
    rhs = b.T if trans_b else b
    if lhs.shape[1] != rhs.shape[0]:
        raise ValueError(
            f"matmul shape mismatch: op(a) has shape {lhs.shape} and op(b) has shape {rhs.shape}"
        )
    if out is None:
        return lhs @ rhs
    _checks.same_dtype(a=a, out=out)
    _checks.writable("out", out)
    expected = (lhs.shape[0], rhs.shape[1])
    if out.shape != expected:
        raise ValueError(f"out must have shape {expected}, got {out.shape}")
    assert out.dtype == dtype
    np.matmul(lhs, rhs, out=out)
    return out


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x @ W + b``.  x: (N, D), W: (D, M), b: (M,) -> (N, M)."""
    _checks.same_dtype(x=x, W=W, b=b)
    _check_affine(x, W)
    if b.shape != (W.shape[1],):
        raise ValueError(f"bias b must have shape ({W.shape[1]},) to match W {W.shape}, got {b.shape}")
    return x @ W + b


def affine_backward(dout: np.ndarray, x: np.ndarray, W: np.ndarray,
                    need_dx: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of ``x @ W + b``.

    dout: (N, M), x: (N, D), W: (D, M) -> ``(dx (N, D), dW (D, M), db (M,))``.
    With ``need_dx=False`` (a network's first layer: its input is data) the
    ``dout @ W.T`` product is skipped and ``dx`` is None.
    """
    _checks.same_dtype(dout=dout, x=x, W=W)
    _check_affine(x, W)
    _checks.ndim("dout", dout, 2)
    expected = (x.shape[0], W.shape[1])
    if dout.shape != expected:
        raise ValueError(f"dout must have shape {expected} (x {x.shape} @ W {W.shape}), got {dout.shape}")
    dx = dout @ W.T if need_dx else None
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db


def _check_affine(x: np.ndarray, W: np.ndarray) -> None:
    _checks.ndim("x", x, 2)
    _checks.ndim("W", W, 2)
    if x.shape[1] != W.shape[0]:
        raise ValueError(f"affine shape mismatch: x has shape {x.shape} but W has shape {W.shape}")


# --------------------------------------------------------------------------
# Activations (any shape)
# --------------------------------------------------------------------------


def relu_forward(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``, same shape and dtype as x."""
    _checks.float_array("x", x)
    return np.maximum(x, 0)


def relu_backward(dout: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dout * (y > 0)`` where y is the forward output; dout is not modified."""
    _checks.same_dtype(dout=dout, y=y)
    _checks.same_shape("dout", dout, "y", y)
    return np.where(y > 0, dout, np.zeros((), dtype=dout.dtype))


def sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow for large negative x."""
    _checks.float_array("x", x)
    # exp of a non-positive number never overflows: use exp(-|x|) on both sides.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_backward(dout: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dout * y * (1 - y)`` where y is the forward output."""
    _checks.same_dtype(dout=dout, y=y)
    _checks.same_shape("dout", dout, "y", y)
    return dout * y * (1 - y)


# --------------------------------------------------------------------------
# Softmax and the fused softmax-cross-entropy
# --------------------------------------------------------------------------


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of x (N, C) (or a single row (C,)), max-subtracted."""
    _checks.float_array("x", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"softmax expects a 1-d or 2-d array, got shape {x.shape}")
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
    """``dout * (y - t) / N`` for probabilities y (N, C); t labels (N,) or one-hot (N, C)."""
    _checks.float_array("y", y)
    _checks.ndim("y", y, 2)
    one_hot = _checks.targets(y, t)
    n = y.shape[0]
    scale = y.dtype.type(dout / n)
    if one_hot:
        return (y - t) * scale
    dx = y.copy()
    dx[np.arange(n), t] -= 1
    dx *= scale
    return dx


# --------------------------------------------------------------------------
# Optimizer steps: in place, one call per parameter array
# --------------------------------------------------------------------------


def _check_step(param: np.ndarray, grad: np.ndarray, **state: np.ndarray) -> None:
    _checks.same_dtype(param=param, grad=grad, **state)
    _checks.writable("param", param)
    _checks.same_shape("param", param, "grad", grad)
    for name, s in state.items():
        _checks.writable(name, s)
        _checks.same_shape("param", param, name, s)


def sgd_step(param: np.ndarray, grad: np.ndarray, lr: float) -> None:
    """``param -= lr * grad``."""
    _check_step(param, grad)
    param -= param.dtype.type(lr) * grad


def momentum_step(param: np.ndarray, grad: np.ndarray, v: np.ndarray, lr: float, momentum: float) -> None:
    """``v = momentum * v - lr * grad; param += v``."""
    _check_step(param, grad, v=v)
    t = param.dtype.type
    v *= t(momentum)
    v -= t(lr) * grad
    param += v


def nesterov_step(param: np.ndarray, grad: np.ndarray, v: np.ndarray, lr: float, momentum: float) -> None:
    """Nesterov momentum as in Bengio et al. 2012 (uses v before its update).

    ``param += mu*mu*v - (1+mu)*lr*grad``, then ``v = mu*v - lr*grad``.
    """
    _check_step(param, grad, v=v)
    t = param.dtype.type
    mu, lr_ = t(momentum), t(lr)
    param += mu * mu * v - (1 + mu) * lr_ * grad
    v *= mu
    v -= lr_ * grad


def adagrad_step(param: np.ndarray, grad: np.ndarray, h: np.ndarray, lr: float) -> None:
    """``h += grad**2; param -= lr * grad / (sqrt(h) + 1e-7)``."""
    _check_step(param, grad, h=h)
    t = param.dtype.type
    h += grad * grad
    param -= t(lr) * grad / (np.sqrt(h) + t(1e-7))


def rmsprop_step(param: np.ndarray, grad: np.ndarray, h: np.ndarray, lr: float, decay_rate: float) -> None:
    """``h = decay*h + (1-decay)*grad**2; param -= lr * grad / (sqrt(h) + 1e-7)``."""
    _check_step(param, grad, h=h)
    t = param.dtype.type
    h *= t(decay_rate)
    h += t(1 - decay_rate) * grad * grad
    param -= t(lr) * grad / (np.sqrt(h) + t(1e-7))


def adadelta_step(param: np.ndarray, grad: np.ndarray, h: np.ndarray, d: np.ndarray,
                  lr: float, rho: float, eps: float) -> None:
    """AdaDelta (Zeiler 2012), with an optional learning-rate multiplier.

    ``h = rho*h + (1-rho)*grad**2``;
    ``delta = sqrt(d + eps) / sqrt(h + eps) * grad``;
    ``d = rho*d + (1-rho)*delta**2``; ``param -= lr * delta``.
    """
    _check_step(param, grad, h=h, d=d)
    t = param.dtype.type
    h *= t(rho)
    h += t(1 - rho) * grad * grad
    delta = np.sqrt(d + t(eps)) / np.sqrt(h + t(eps)) * grad
    d *= t(rho)
    d += t(1 - rho) * delta * delta
    param -= t(lr) * delta


def adam_step(param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray,
              lr: float, beta1: float, beta2: float, t: int) -> None:
    """Adam, the book's form, at step ``t`` (1 for the first update).

    ``m += (1-beta1)*(grad-m)``; ``v += (1-beta2)*(grad**2-v)``;
    ``param -= lr_t * m / (sqrt(v) + 1e-7)`` with
    ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``.
    """
    _check_step(param, grad, m=m, v=v)
    if t < 1:
        raise ValueError(f"adam step count t must be >= 1, got {t}")
    ty = param.dtype.type
    lr_t = ty(lr * np.sqrt(1.0 - beta2**t) / (1.0 - beta1**t))
    m += ty(1 - beta1) * (grad - m)
    v += ty(1 - beta2) * (grad * grad - v)
    param -= lr_t * m / (np.sqrt(v) + ty(1e-7))
