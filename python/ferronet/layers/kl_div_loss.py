"""Softmax followed by the Kullback-Leibler divergence from target distributions, fused."""

from __future__ import annotations

import numpy as np

from ferronet import ops
from ferronet.arrays import FLOAT_DTYPES
from ferronet.layers.base import LossLayer


class KLDivLoss(LossLayer):
    """Mean over samples of ``KL(t_i || softmax(x_i)) = sum_j t_ij (log t_ij - log softmax(x_i)_j)``.

    The divergence of the predicted distribution ``softmax(x_i)`` from the
    target distribution ``t_i`` (the direction PyTorch's ``KLDivLoss`` and
    :func:`ferronet.functions.kl_divergence` take), summed over the classes
    of each sample and averaged over the N samples (PyTorch's
    ``reduction='batchmean'``); :func:`ferronet.functions.softmax_kl_divergence`
    is its functional form.  For targets that sum to 1 it is the
    cross-entropy of :class:`SoftmaxWithLoss` minus the targets' entropy: the
    same gradient, but 0 when the prediction matches the targets (what
    distillation and label smoothing train against).

    forward(x, t): x logits (N, C) float32/float64, or (C,) for one sample;
    t target distributions of x's shape (converted to x's dtype), values in
    [0, 1] (ValueError otherwise); a zero target contributes 0.  Exact
    (log-sum-exp, no clipping).  backward(dout=1): dx of x's shape,
    ``dout * (softmax(x) * t.sum(axis=1) - t) / N`` (``dout * (y - t) / N``
    for rows of t that sum to 1).  Attributes after forward: ``loss``,
    ``y`` (N, C) probabilities, ``t``.
    """

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None  # (N, C) softmax output
        self.t: np.ndarray | None = None  # (N, C) targets, as passed to the kernel
        self._x_shape: tuple[int, ...] | None = None

    def _forward(self, x: np.ndarray, t: np.ndarray) -> float:
        x, t = np.asarray(x), np.asarray(t)
        if x.dtype in FLOAT_DTYPES:
            t = np.asarray(t, dtype=x.dtype)
        self._x_shape = x.shape
        if x.ndim == 1:  # one sample: a batch of one
            x, t = x.reshape(1, -1), t.reshape(1, -1)  # (1, C)
        self.t = t
        self.loss, self.y = ops.kl_div_forward(x, t)
        return self.loss

    def _backward(self, dout: float) -> np.ndarray:
        dx = ops.kl_div_backward(self.y, self.t, float(dout))  # (N, C)
        return dx.reshape(self._x_shape)
