"""Element-wise activations, any shape (``rust/bindings/activation.rs``)."""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks


def relu_forward(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``, same shape and dtype as x."""
    _checks.float_array("x", x)
    return np.asarray(np.maximum(x, 0))  # an array even for 0-d x


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
    return np.asarray(dout * y * (1 - y))
