"""Softmax followed by the cross-entropy loss, fused (the book's output layer)."""

from __future__ import annotations

import numpy as np

from ferronet import ops
from ferronet.layers.base import LossLayer
from ferronet.ops import _checks


class SoftmaxWithLoss(LossLayer):
    """Mean cross-entropy of ``softmax(x)`` against the targets ``t``.

    forward(x, t): x logits (N, C) float32/float64, or (C,) for one sample
    (a batch of one).  t: integer labels (N,) of any integer dtype (uint8,
    int32, int64, ...), or one-hot rows of x's shape in any dtype (converted
    to x's dtype).  Returns the loss as a Python float; the loss is exact
    (log-sum-exp), without the book's ``1e-7``.
    backward(dout=1): dx of x's shape, ``dout * (softmax(x) - t) / N``.
    Attributes after forward: ``loss``, ``y`` (N, C) probabilities, ``t``.

    label_smoothing: a number in [0, 1) (default 0, the book's loss).  With
    ``e > 0`` each target row becomes ``(1 - e) * one_hot + e / C``: the
    loss also pulls every class's probability towards ``e / C``, so the
    network is never rewarded for ever larger scores (Szegedy et al. 2016).
    The targets the kernels see are then those rows (``t`` holds them).
    """

    def __init__(self, label_smoothing: float = 0.0) -> None:
        smoothing = _checks.non_negative("label_smoothing", label_smoothing)
        if smoothing >= 1:
            raise ValueError(f"label_smoothing must be below 1, got {smoothing}")
        self.label_smoothing = smoothing
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
        if self.label_smoothing:
            t2 = self._smoothed(x2, t2)  # (N, C)
        self.t = t2
        self.loss, self.y = ops.softmax_cross_entropy_forward(x2, t2)
        return self.loss

    def _smoothed(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Targets (N,) labels or (N, C) rows -> ``(1 - e) * rows + e / C`` (N, C) in x's dtype; targets that
        do not fit x are passed on unchanged, for the kernel to name the problem."""
        n, classes = x.shape
        if t.shape == x.shape:
            rows = t.astype(x.dtype)  # (N, C), a copy
        elif t.shape == (n,) and t.dtype.kind in "iu" and classes and (n == 0 or (t.min() >= 0 and t.max() < classes)):
            rows = np.zeros(x.shape, dtype=x.dtype)  # (N, C)
            rows[np.arange(n), t] = 1
        else:
            return t
        e = self.label_smoothing
        rows *= x.dtype.type(1 - e)
        rows += x.dtype.type(e / classes)
        return rows

    def _backward(self, dout: float) -> np.ndarray:
        dx = ops.softmax_cross_entropy_backward(self.y, self.t, float(dout))  # (N, C)
        return dx.reshape(self._x_shape)
