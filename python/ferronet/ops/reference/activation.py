"""Activations (``rust/bindings/activation.rs``): element-wise ones on arrays
of any shape, and PReLU on ``(N, C, ...)`` with one slope per channel.

Every function keeps the input's dtype and computes in it, in the order the
native kernels do, so most results agree to the last bit (the exponentials
and logarithms differ by a few ulp).  Infinities give the activation's
limits where the formulas allow it (``swish(-inf) = gelu(-inf) = 0``,
``tanh(inf) = 1``, ``elu(-inf) = -alpha``); NaN stays NaN.  Like the native
kernels, nothing here emits NumPy floating-point warnings.

Backward passes read the forward output ``y`` where it gives the derivative
exactly (ReLU, leaky and randomized ReLU, ReLU6, sigmoid, tanh, ELU), else
the input ``x`` (softplus, swish, GELU, PReLU).  Hyper-parameters are
checked after the arrays' dtypes: real numbers (TypeError), then finite and
in range (ValueError).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from ferronet.ops import _checks
from ferronet.ops.reference.dropout import _splitmix64

F = TypeVar("F", bound=Callable[..., object])
H = TypeVar("H")

#: GELU's tanh form ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` is ``x * sigmoid(z)``
#: with ``z = x (GELU_A + GELU_B x^2)``.
GELU_A = 2.0 * math.sqrt(2.0 / math.pi)
GELU_B = GELU_A * 0.044715
#: beyond this |x|, GELU is exactly x or 0 in both float types; x^3 is taken of x clamped to it
GELU_CLAMP = 30


def _quiet(fn: F) -> F:
    """Run ``fn`` without NumPy's overflow and invalid-value warnings (``inf * 0`` is NaN, as in Rust)."""

    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return fn(*args, **kwargs)

    return quiet  # type: ignore[return-value]


def _backward_arrays(dout: np.ndarray, saved_name: str, saved: np.ndarray,
                     hyper: Callable[[], H] = lambda: None) -> H:
    """dout and the forward's output or input: one float dtype, then ``hyper()`` (the hyper-parameters'
    value checks, returning the checked values), then one shape: the native bindings' order."""
    _checks.same_dtype(**{"dout": dout, saved_name: saved})
    checked = hyper()
    _checks.same_shape("dout", dout, saved_name, saved)
    return checked


def _zero(a: np.ndarray) -> np.ndarray:
    return np.zeros((), dtype=a.dtype)


def _sigmoid_pair(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sigmoid(z), 1 - sigmoid(z))`` from ``exp(-|z|)``: no overflow, no cancellation; NaN gives NaN."""
    e = np.exp(-np.abs(z))  # in [0, 1]
    inv = 1 / (1 + e)
    small = e * inv
    positive = z >= 0
    return np.where(positive, inv, small), np.where(positive, small, inv)


def _gated(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``x * s``, but 0 where ``s`` is 0 (so ``x = -inf`` gives the limit 0, not NaN)."""
    return np.where(s == 0, _zero(x), x * s)


def _nonnegative(name: str, value: float) -> float:
    v = _checks.finite(name, value)
    if v < 0:
        raise ValueError(f"{name} must be >= 0 (the gradient reads the sign of x from y), got {v}")
    return v


def _positive(name: str, value: float) -> float:
    v = _checks.finite(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    return v


# ---------------------------------------------------------------------- ReLU and sigmoid


def relu_forward(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``, same shape and dtype as x."""
    _checks.float_array("x", x)
    return np.asarray(np.maximum(x, 0))  # an array even for 0-d x


def relu_backward(dout: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dout * (y > 0)`` where y is the forward output; dout is not modified."""
    _backward_arrays(dout, "y", y)
    return np.where(y > 0, dout, _zero(dout))


def sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow for large negative x."""
    _checks.float_array("x", x)
    return _sigmoid_pair(x)[0]


def sigmoid_backward(dout: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dout * y * (1 - y)`` where y is the forward output."""
    _backward_arrays(dout, "y", y)
    return np.asarray(dout * y * (1 - y))


# ---------------------------------------------------------------------- tanh, leaky ReLU, ReLU6


def tanh_forward(x: np.ndarray) -> np.ndarray:
    """``tanh(x)``, same shape and dtype as x."""
    _checks.float_array("x", x)
    return np.asarray(np.tanh(x))


def tanh_backward(dout: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dout * (1 - y) * (1 + y)`` (``1 - y**2`` without cancellation) where y is the forward output."""
    _backward_arrays(dout, "y", y)
    return np.asarray(dout * (1 - y) * (1 + y))


@_quiet
def leaky_relu_forward(x: np.ndarray, alpha: float) -> np.ndarray:
    """``x`` where ``x > 0``, else ``alpha * x``; alpha a finite real >= 0 (ValueError otherwise)."""
    _checks.real("alpha", alpha)
    _checks.float_array("x", x)
    a = x.dtype.type(_nonnegative("alpha", alpha))
    return np.where(x > 0, x, a * x)


@_quiet
def leaky_relu_backward(dout: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """``dout`` where ``y > 0``, else ``alpha * dout`` (y is the forward output; alpha >= 0 makes its sign x's)."""
    _checks.real("alpha", alpha)
    a = dout.dtype.type(_backward_arrays(dout, "y", y, lambda: _nonnegative("alpha", alpha)))
    return np.where(y > 0, dout, a * dout)


def relu6_forward(x: np.ndarray) -> np.ndarray:
    """``min(max(x, 0), 6)``; NaN stays NaN."""
    _checks.float_array("x", x)
    return np.asarray(np.minimum(np.maximum(x, 0), 6))


def relu6_backward(dout: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dout`` where ``0 < y < 6``, else 0 (0 at both kinks) where y is the forward output."""
    _backward_arrays(dout, "y", y)
    return np.where((y > 0) & (y < 6), dout, _zero(dout))


# ---------------------------------------------------------------------- softplus, swish, GELU


def softplus_forward(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` computed as ``max(x, 0) + log1p(exp(-|x|))``: no overflow."""
    _checks.float_array("x", x)
    return np.asarray(np.where(x > 0, x, _zero(x)) + np.log1p(np.exp(-np.abs(x))))


def softplus_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``dout * sigmoid(x)`` where x is the forward input."""
    _backward_arrays(dout, "x", x)
    return np.asarray(dout * _sigmoid_pair(x)[0])


@_quiet
def swish_forward(x: np.ndarray, beta: float) -> np.ndarray:
    """``x * sigmoid(beta * x)`` (SiLU for ``beta = 1``), 0 where the sigmoid is 0; beta finite."""
    _checks.real("beta", beta)
    _checks.float_array("x", x)
    b = x.dtype.type(_checks.finite("beta", beta))
    return _gated(x, _sigmoid_pair(b * x)[0])


@_quiet
def swish_backward(dout: np.ndarray, x: np.ndarray, beta: float) -> np.ndarray:
    """``dout * s * (1 + z * (1 - s))``, ``z = beta * x``, ``s = sigmoid(z)`` (x is the forward input).

    ``z * (1 - s)`` is taken as 0 where ``1 - s`` is 0 and the derivative as 0
    where ``s`` is 0, so infinite z give the limits 1 and 0.
    """
    _checks.real("beta", beta)
    z = x.dtype.type(_backward_arrays(dout, "x", x, lambda: _checks.finite("beta", beta))) * x
    s, rest = _sigmoid_pair(z)
    zr = np.where(rest == 0, _zero(x), z * rest)
    return np.asarray(dout * _gated(1 + zr, s))


def _gelu_z(xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(z, dz/dx)``: ``z = x (a + b x^2)``, ``dz/dx = a + 3 b x^2`` for x already clamped."""
    a, b = xc.dtype.type(GELU_A), xc.dtype.type(GELU_B)
    x2 = xc * xc
    return xc * (a + b * x2), a + xc.dtype.type(3) * b * x2


@_quiet
def gelu_forward(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form: ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, computed as ``x * sigmoid(z)``,
    ``z = 2 sqrt(2/pi) (x + 0.044715 x^3)`` (the same function: ``(1 + tanh(u)) / 2 = sigmoid(2u)``)."""
    _checks.float_array("x", x)
    z, _ = _gelu_z(np.clip(x, -GELU_CLAMP, GELU_CLAMP))
    return _gated(x, _sigmoid_pair(z)[0])


@_quiet
def gelu_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``dout * (s + x s (1 - s) dz/dx)``, ``s = sigmoid(z)``, where x is the forward input."""
    _backward_arrays(dout, "x", x)
    xc = np.clip(x, -GELU_CLAMP, GELU_CLAMP)
    z, dz = _gelu_z(xc)
    s, rest = _sigmoid_pair(z)
    return np.asarray(dout * (s + xc * s * rest * dz))


# ---------------------------------------------------------------------- ELU


@_quiet
def elu_forward(x: np.ndarray, alpha: float) -> np.ndarray:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``; alpha finite and > 0 (ValueError otherwise)."""
    _checks.real("alpha", alpha)
    _checks.float_array("x", x)
    a = x.dtype.type(_positive("alpha", alpha))
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))


@_quiet
def elu_backward(dout: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """``dout`` where ``y > 0``, else ``dout * (y + alpha)`` (that is ``alpha exp(x)``; y is the forward output)."""
    _checks.real("alpha", alpha)
    a = dout.dtype.type(_backward_arrays(dout, "y", y, lambda: _positive("alpha", alpha)))
    return np.where(y > 0, dout, dout * (y + a))


# ---------------------------------------------------------------------- randomized leaky ReLU


def _rrelu_checks(lower: object, upper: object, seed: object) -> tuple[float, float, int]:
    """The slope range (finite, ``0 <= lower <= upper``) and the seed, as the native bindings check them."""
    lo, hi = _nonnegative("lower", lower), _checks.finite("upper", upper)
    if lo > hi:
        raise ValueError(f"lower must be <= upper, got lower {lo} and upper {hi}")
    return lo, hi, _checks.seed64(seed)


def _rrelu_slopes(like: np.ndarray, lower: float, upper: float, seed: int) -> np.ndarray:
    """The slopes of ``like``'s shape and dtype: flat element i gets ``lower + (upper - lower) * u_i``,
    ``u_i = (splitmix64(seed, i) >> 40) * 2**-24``, every operation in the dtype."""
    dtype = like.dtype.type
    lo = dtype(lower)
    width = dtype(upper) - lo
    u = (_splitmix64(seed, like.size) >> np.uint64(40)).astype(like.dtype) * dtype(2.0**-24)  # exact
    return (lo + width * u).reshape(like.shape)


@_quiet
def rrelu_forward(x: np.ndarray, lower: float, upper: float, seed: int) -> np.ndarray:
    """Randomized leaky ReLU while training: ``x`` where ``x > 0``, else ``slope_i * x``.

    x: any shape, float32/float64; ``0 <= lower <= upper`` finite; seed an int
    in [0, 2**64).  The slope of the element with C-order flat index i is
    ``lower + (upper - lower) * u_i`` with ``u_i = (splitmix64(seed, i) >> 40) / 2**24``
    (dropout's counter-based hash), so both backends draw the same slopes.
    """
    _checks.real("lower", lower), _checks.real("upper", upper)
    _checks.float_array("x", x)
    lo, hi, seed = _rrelu_checks(lower, upper, seed)
    return np.where(x > 0, x, x * _rrelu_slopes(x, lo, hi, seed))


@_quiet
def rrelu_backward(dout: np.ndarray, y: np.ndarray, lower: float, upper: float, seed: int) -> np.ndarray:
    """``dout`` where ``y > 0``, else ``dout * slope_i``: the slopes of the forward call with the same
    ``lower``, ``upper`` and ``seed`` (y is its output; the slopes are >= 0, so y's sign is x's)."""
    _checks.real("lower", lower), _checks.real("upper", upper)
    lo, hi, seed = _backward_arrays(dout, "y", y, lambda: _rrelu_checks(lower, upper, seed))
    return np.where(y > 0, dout, dout * _rrelu_slopes(dout, lo, hi, seed))


# ---------------------------------------------------------------------- PReLU


def _channel_slopes(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``alpha (C,)`` shaped to broadcast over ``x (N, C, ...)``: (1, C, 1, ...)."""
    if x.ndim < 2:
        raise ValueError(f"PReLU expects x of shape (N, C, ...) with one slope per channel C, got shape {x.shape}")
    c = x.shape[1]
    if alpha.shape != (c,):
        raise ValueError(f"alpha must have shape ({c},) (one entry per channel of x with shape {x.shape}), "
                         f"got {alpha.shape}")
    return alpha.reshape((1, c) + (1,) * (x.ndim - 2))


@_quiet
def prelu_forward(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """PReLU: ``x`` where ``x > 0``, else ``alpha[c] * x``.

    x: (N, C, ...) ((N, D) features or (N, C, H, W) images), float32/float64;
    alpha: (C,) of x's dtype, one slope per channel (any sign).  -> y like x.
    """
    _checks.same_dtype(x=x, alpha=alpha)
    a = _channel_slopes(x, alpha)
    return np.where(x > 0, x, a * x)


@_quiet
def prelu_backward(dout: np.ndarray, x: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of PReLU: ``(dx like x, dalpha (C,))``.

    ``dx = dout`` where ``x > 0``, else ``alpha[c] * dout``; ``dalpha[c]`` is
    the sum of ``dout * x`` over the samples and positions of channel c where
    ``x <= 0``, products and sum in float64, rounded to the dtype once.
    """
    _checks.same_dtype(dout=dout, x=x, alpha=alpha)
    a = _channel_slopes(x, alpha)
    _checks.same_shape("dout", dout, "x", x)
    positive = x > 0
    dx = np.where(positive, dout, a * dout)
    products = np.where(positive, 0.0, dout.astype(np.float64) * x)  # float64, like x
    others = (0, *range(2, x.ndim))  # every axis but the channels'
    return dx, np.asarray(products.sum(axis=others), dtype=x.dtype)
