"""The 2-d convolution layer (chapter 7), NCHW."""

from __future__ import annotations

import numpy as np

from ferronet import ops
from ferronet.arrays import bias_vector
from ferronet.layers.base import Layer


class Convolution(Layer):
    """``out[n, f] = b[f] + sum over c of W[f, c] cross-correlated with x[n, c]``.

    W: (FN, C, FH, FW) filters and b: (FN,), float32 or float64 (the same
    dtype); a scalar b (the book's ``Convolution(w, 0)``) is a new (FN,)
    array of W's dtype filled with it.  stride >= 1 and pad >= 0 (zero
    padding on every side) are ints.
    forward(x): x (N, C, H, W) -> (N, FN, oh, ow) in W's dtype, where
    ``oh = (H + 2*pad - FH) // stride + 1`` and likewise ``ow``.  x is
    converted to W's dtype (no copy when it already matches), so float32
    images can feed a float64 net.  Geometry that does not fit raises
    ValueError (from the kernel).
    backward(dout): dout (N, FN, oh, ow) -> dx (N, C, H, W); stores ``dW``
    (FN, C, FH, FW) and ``db`` (FN,), all in W's dtype.  ``dout`` is not
    modified.

    ``W`` and ``b`` are the caller's arrays (not copies): a network and its
    optimizer update them in place.

    ``input_grad``: when False, backward skips dx and returns None; networks
    set it on their first layer, whose input is data.

    ``forward(x, keep_state=False)`` is an inference pass: it keeps nothing
    for backward (and leaves what an earlier pass kept untouched).
    """

    params = {"W": "dW", "b": "db"}

    def __init__(self, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> None:
        self.W = W
        self.b = bias_vector(b, W, axis=0)
        self.stride = stride
        self.pad = pad
        self.x: np.ndarray | None = None  # (N, C, H, W) in W's dtype, kept for backward
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self.input_grad = True

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=self.W.dtype)  # (N, C, H, W)
        out = ops.conv_forward(x, self.W, self.b, self.stride, self.pad)  # (N, FN, oh, ow)
        if keep_state:
            self.x = x
        return out

    def _backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout = np.ascontiguousarray(dout, dtype=self.W.dtype)  # (N, FN, oh, ow)
        # (N, C, H, W) or None, (FN, C, FH, FW), (FN,)
        dx, self.dW, self.db = ops.conv_backward(dout, self.x, self.W, self.stride, self.pad,
                                                 need_dx=self.input_grad)
        return dx
