"""Softmax followed by the cross-entropy loss, fused (the book's output layer)."""

from __future__ import annotations

import numpy as np

from ferronet import ops
from ferronet.layers.base import LossLayer


class SoftmaxWithLoss(LossLayer):
    """Mean cross-entropy of ``softmax(x)`` against the targets ``t``.

    forward(x, t): x logits (N, C) float32/float64, or (C,) for one sample
    (a batch of one).  t: integer labels (N,) of any integer dtype (uint8,
    int32, int64, ...), or one-hot rows of x's shape in any dtype (converted
    to x's dtype).  Returns the loss as a Python float; the loss is exact
    (log-sum-exp), without the book's ``1e-7``.
    backward(dout=1): dx of x's shape, ``dout * (softmax(x) - t) / N``.
    Attributes after forward: ``loss``, ``y`` (N, C) probabilities, ``t``.
    """

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None  # (N, C) softmax output
        self.t: np.ndarray | None = None  # (N,) labels or (N, C) one-hot, as passed to the kernel
        self._x_shape: tuple[int, ...] | None = None

    def _forward(self, x: np.ndarray, t: np.ndarray) -> float:
        x = np.asarray(x)
        t = np.asarray(t)
        self._x_shape = x.shape
        x2 = x.reshape(1, -1) if x.ndim == 1 else x  # (N, C)
        if t.shape == x.shape:  # one-hot rows
            t2 = np.ascontiguousarray(t.reshape(x2.shape), dtype=x2.dtype)  # (N, C)
        else:  # class labels, kept in their integer dtype
            n = x2.shape[0]
            t2 = t.reshape(n) if t.size == n else t  # (N,); a wrong size is left for the kernel to report
        self.t = t2
        self.loss, self.y = ops.softmax_cross_entropy_forward(x2, t2)
        return self.loss

    def _backward(self, dout: float) -> np.ndarray:
        dx = ops.softmax_cross_entropy_backward(self.y, self.t, float(dout))  # (N, C)
        return dx.reshape(self._x_shape)
