"""Gradient clipping by global norm.

The global norm of a set of gradients is the Euclidean norm of all their
elements together, ``sqrt(sum over arrays of sum(g**2))``.  It is taken in
float64 by one ``ops.sum_of_squares`` call per dtype (natively on the
native backend, without NumPy's BLAS), and the scaling is one
``ops.scale_step`` call per dtype.

Use :func:`clip_grads` in a hand-written loop, between ``gradient`` and
``optimizer.update``; or give any optimizer ``clip_norm=`` and it clips
before each step (:class:`ferronet.optimizers.Optimizer`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Union

import numpy as np

from ferronet import ops
from ferronet.ops import _checks

Grads = Union[Mapping[str, np.ndarray], Iterable[np.ndarray]]


def _by_dtype(grads: Grads) -> list[list[np.ndarray]]:
    """The arrays of ``grads`` (a dict's values, or a sequence) grouped by dtype."""
    arrays = list(grads.values()) if isinstance(grads, Mapping) else list(grads)
    groups: dict[object, list[np.ndarray]] = {}
    for g in arrays:
        groups.setdefault(getattr(g, "dtype", None), []).append(g)
    return list(groups.values())


def global_norm(grads: Grads) -> float:
    """``sqrt(sum of g**2 over every array)`` of a dict or sequence of float32/float64 arrays."""
    return math.sqrt(sum(ops.sum_of_squares(group) for group in _by_dtype(grads)))


def clip_grads(grads: Grads, max_norm: float) -> float:
    """Scale ``grads`` in place so that their global norm is at most ``max_norm``; returns the
    global norm measured before clipping.

    grads: a dict (its values are clipped) or a sequence of float32/float64
    arrays, C-contiguous and writeable.  When the norm exceeds ``max_norm``
    every array is multiplied by ``max_norm / norm`` (so the directions are
    kept); otherwise nothing changes.  A non-finite norm (an inf or NaN in a
    gradient) is returned and the arrays are left as they are.
    max_norm: a finite number > 0.
    """
    bound = _checks.positive("max_norm", max_norm)
    groups = _by_dtype(grads)
    norm = math.sqrt(sum(ops.sum_of_squares(group) for group in groups))
    if math.isfinite(norm) and norm > bound:
        for group in groups:
            ops.scale_step(group, bound / norm)
    return norm
