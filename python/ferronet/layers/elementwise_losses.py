"""The element-wise losses as output layers: squared error, absolute error,
Huber, and the binary cross-entropy of a sigmoid (the book's
``SoftmaxWithLoss`` contract: ``forward(x, t)`` is the mean loss as a Python
float, ``backward(dout=1)`` its gradient dx of x's shape and dtype).

Each is the mean of a term over **every element** of the scores ``x`` and
the targets ``t``: over N*K values for scores (N, K), like the functions of
the same name in :mod:`ferronet.functions` and PyTorch's ``reduction='mean'``.

x: float32/float64 of any shape with at least one element (the dtype is
kept).  t: x's shape, converted to x's dtype (integer labels, bools, the
other float precision); a target vector (N,) beside scores (N, 1), one
output per sample, is taken as (N, 1).  Nothing is kept between the passes
but x and t: ``backward`` recomputes the fused kernel from them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ferronet import ops
from ferronet.arrays import FLOAT_DTYPES
from ferronet.layers.base import LossLayer
from ferronet.ops import _checks


def scores_and_targets(x: ArrayLike, t: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(x, t)`` as the loss kernels take them: t in x's float dtype, (N,) beside (N, 1) reshaped.

    A shape that still differs is left for the kernel to report (naming both).
    """
    x, t = np.asarray(x), np.asarray(t)
    if x.dtype in FLOAT_DTYPES:
        t = np.asarray(t, dtype=x.dtype)
    if x.ndim == 2 and x.shape[1] == 1 and t.shape == x.shape[:1]:
        t = t.reshape(x.shape)  # (N,) -> (N, 1)
    return x, t


class ElementwiseLoss(LossLayer):
    """The shared passes: subclasses give the kernel pair (``_mean``, ``_gradient``)."""

    task = "regression"

    def __init__(self) -> None:
        self.loss: float | None = None
        self.x: np.ndarray | None = None  # the scores of the last forward pass
        self.t: np.ndarray | None = None  # its targets, as passed to the kernel

    def _forward(self, x: np.ndarray, t: np.ndarray) -> float:
        self.x, self.t = scores_and_targets(x, t)
        self.loss = self._mean(self.x, self.t)
        return self.loss

    def _backward(self, dout: float) -> np.ndarray:
        return self._gradient(self.x, self.t, float(dout))

    def _mean(self, x: np.ndarray, t: np.ndarray) -> float:
        raise NotImplementedError

    def _gradient(self, x: np.ndarray, t: np.ndarray, dout: float) -> np.ndarray:
        raise NotImplementedError


class MSELoss(ElementwiseLoss):
    """Mean squared error ``mean((x - t)**2)`` over every element (:func:`ferronet.functions.mean_squared_error`).

    backward(dout=1): ``dout * 2 (x - t) / x.size``.  (The book's chapter 4
    ``mean_squared_error`` is ``0.5 * sum``: :func:`ferronet.functions.sum_squared_error`.)
    """

    def _mean(self, x: np.ndarray, t: np.ndarray) -> float:
        return ops.mse_forward(x, t)

    def _gradient(self, x: np.ndarray, t: np.ndarray, dout: float) -> np.ndarray:
        return ops.mse_backward(x, t, dout)


class L1Loss(ElementwiseLoss):
    """Mean absolute error ``mean(|x - t|)`` over every element (:func:`ferronet.functions.mean_absolute_error`).

    backward(dout=1): ``dout * sign(x - t) / x.size`` (0 where x == t).
    """

    def _mean(self, x: np.ndarray, t: np.ndarray) -> float:
        return ops.l1_forward(x, t)

    def _gradient(self, x: np.ndarray, t: np.ndarray, dout: float) -> np.ndarray:
        return ops.l1_backward(x, t, dout)


class HuberLoss(ElementwiseLoss):
    """Mean Huber loss over every element (:func:`ferronet.functions.huber_loss`): with
    ``d = x - t``, ``d**2 / 2`` where ``|d| <= delta``, else ``delta * (|d| - delta / 2)``.

    delta: a finite number > 0 (ValueError otherwise).  Quadratic near the
    target, linear beyond ``delta``, so outliers pull with a bounded force.
    backward(dout=1): ``dout * clip(x - t, -delta, delta) / x.size``.
    """

    def __init__(self, delta: float = 1.0) -> None:
        super().__init__()
        self.delta = _checks.positive("delta", delta)

    def _mean(self, x: np.ndarray, t: np.ndarray) -> float:
        return ops.huber_forward(x, t, self.delta)

    def _gradient(self, x: np.ndarray, t: np.ndarray, dout: float) -> np.ndarray:
        return ops.huber_backward(x, t, self.delta, dout)


class SigmoidWithLoss(ElementwiseLoss):
    """Sigmoid followed by the binary cross-entropy, fused: for logits x and
    targets t in [0, 1], the mean over every element of
    ``-t log sigmoid(x) - (1 - t) log(1 - sigmoid(x))``
    (:func:`ferronet.functions.sigmoid_binary_cross_entropy`).

    One independent yes/no label per element: x (N, K) scores K labels of
    each sample (multi-label classification; K = 1 or x (N,) for binary).
    t: 0/1 labels (ints or bools are converted) or probabilities; a value
    outside [0, 1] is a ValueError.  The loss is exact and finite for any
    finite logit (no clipping: a logit of 1000 with target 0 costs 1000).
    backward(dout=1): ``dout * (sigmoid(x) - t) / x.size``.
    """

    task = "multilabel"

    def _mean(self, x: np.ndarray, t: np.ndarray) -> float:
        return ops.sigmoid_bce_forward(x, t)

    def _gradient(self, x: np.ndarray, t: np.ndarray, dout: float) -> np.ndarray:
        return ops.sigmoid_bce_backward(x, t, dout)
