"""The pooling layer (chapter 7): max or average over windows, NCHW."""

from __future__ import annotations

import numpy as np

from ferronet import ops
from ferronet.layers.base import Layer

MODES = ("max", "avg")


class Pooling(Layer):
    """Max (default) or average pooling over ``pool_h x pool_w`` windows.

    pool_h, pool_w >= 1, stride >= 1, 0 <= pad < pool_h and pad < pool_w (ints).
    forward(x): x (N, C, H, W) float32/float64 -> (N, C, oh, ow) of x's dtype,
    ``oh = (H + 2*pad - pool_h) // stride + 1`` and likewise ``ow``: unlike
    the book's layer, the output size honours ``pad``.
    mode 'max': padding never wins (only real elements compete); backward
    routes each ``dout`` element to its window's maximum (the first one on
    ties).  mode 'avg': the mean over the whole window, padding counted as
    zeros (divides by ``pool_h * pool_w``).
    backward(dout): dout (N, C, oh, ow) -> dx (N, C, H, W) in x's dtype
    (overlapping windows sum); ``dout`` is not modified.

    ``forward(x, keep_state=False)`` is an inference pass: it keeps nothing
    for backward (and leaves what an earlier pass kept untouched).
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 2, pad: int = 0, mode: str = "max") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown pooling mode {mode!r}; choose one of {MODES}")
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.mode = mode
        self.input_shape: tuple[int, ...] | None = None  # (N, C, H, W) of the kept forward pass
        self.dtype: np.dtype | None = None  # x's dtype in the kept forward pass
        self.argmax: np.ndarray | None = None  # (N, C, oh, ow) int32, max mode only

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        x = np.ascontiguousarray(x)  # (N, C, H, W)
        window = (self.pool_h, self.pool_w, self.stride, self.pad)
        argmax = None
        if self.mode == "max":
            out, argmax = ops.max_pool_forward(x, *window)  # (N, C, oh, ow) twice
        else:
            out = ops.avg_pool_forward(x, *window)  # (N, C, oh, ow)
        if keep_state:
            self.input_shape = x.shape
            self.dtype = x.dtype
            self.argmax = argmax
        return out

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        dout = np.ascontiguousarray(dout, dtype=self.dtype)  # (N, C, oh, ow)
        if self.mode == "max":
            return ops.max_pool_backward(dout, self.argmax, self.input_shape)  # (N, C, H, W)
        return ops.avg_pool_backward(dout, self.input_shape, self.pool_h, self.pool_w, self.stride, self.pad)
