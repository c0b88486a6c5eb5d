"""Regularising a network's weights: the L2 and L1 penalties and the max-norm constraint.

Every network takes the three options (:class:`ferronet.networks.base.LayerNetwork`);
they act on the weights only (``W1``, ``W2``, ...: the parameters a network
registers with ``regularize=True``), never on biases or batch
normalisation's ``gamma``/``beta``:

* ``weight_decay_lambda`` (L2, the book's weight decay): the loss gains
  ``0.5 * lambda * sum(W**2)`` and each weight's gradient ``lambda * W``;
* ``l1_lambda`` (L1): the loss gains ``lambda * sum(|W|)`` and each
  weight's gradient ``lambda * sign(W)`` (0 where W is exactly 0);
* ``max_norm`` (a constraint, not a penalty): after each optimizer update,
  every unit's incoming weight vector whose Euclidean norm exceeds
  ``max_norm`` is scaled back to norm ``max_norm``.  A unit's incoming
  weights are a column ``W[:, j]`` of a dense weight (D, M) and a filter
  ``W[f]`` (C, FH, FW) of a convolution (FN, C, FH, FW) (:func:`unit_axis`).
  The constraint is applied by the network's ``apply_constraints()``, which
  :class:`ferronet.trainer.Trainer` calls after every ``optimizer.update``;
  a hand-written training loop must call it too.

Each function makes one multi-tensor kernel call (``ferronet.ops``) for all
the weights: the sums are taken natively in float64 on the native backend,
without NumPy's BLAS.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ferronet import ops
from ferronet.ops import _checks


def check_lambda(name: str, value: object) -> float:
    """A penalty strength: a finite real number >= 0 (TypeError / ValueError otherwise)."""
    return _checks.non_negative(name, value)


def check_max_norm(value: object) -> float | None:
    """``max_norm``: None (no constraint) or a finite real number > 0."""
    return None if value is None else _checks.positive("max_norm", value)


def unit_axis(shape: tuple[int, ...]) -> int:
    """The axis of a weight that indexes its output units: 1 for a dense (D, M)
    weight (its columns), 0 for a filter bank (FN, C, FH, FW) or a vector."""
    return 1 if len(shape) == 2 else 0


def penalty(weights: Sequence[np.ndarray], l2: float, l1: float) -> float:
    """``0.5 * l2 * sum(W**2) + l1 * sum(|W|)`` over ``weights`` (sums in float64)."""
    total = 0.0
    if l2 != 0 and weights:
        total += 0.5 * l2 * ops.sum_of_squares(list(weights))
    if l1 != 0 and weights:
        total += l1 * ops.sum_of_abs(list(weights))
    return total


def add_penalty_gradients(grads: Sequence[np.ndarray], weights: Sequence[np.ndarray], l2: float, l1: float) -> None:
    """``grads[i] += l2 * weights[i] + l1 * sign(weights[i])``, in place.

    grads: C-contiguous, writeable arrays with the shapes and dtype of ``weights``.
    """
    if l2 != 0 and weights:
        ops.l2_grad_step(list(grads), list(weights), l2)
    if l1 != 0 and weights:
        ops.l1_grad_step(list(grads), list(weights), l1)


def apply_max_norm(weights: Sequence[np.ndarray], max_norm: float | None) -> None:
    """Scale, in place, every unit of ``weights`` whose norm exceeds ``max_norm`` (None: nothing)."""
    if max_norm is None:
        return
    by_axis: dict[int, list[np.ndarray]] = {}
    for w in weights:
        by_axis.setdefault(unit_axis(w.shape), []).append(w)
    for axis, group in by_axis.items():
        ops.max_norm_step(group, max_norm, axis)
