"""Validation data for the Trainer: a held-out fraction of the training set, or a given set.

:func:`split_indices` draws the held-out samples once from a generator
(the Trainer's: private with ``seed=``, else NumPy's global one, so
``np.random.seed`` repeats the split as it repeats the rest of a run).
:func:`validation_loss` is the mean loss over a data set, in batches.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ferronet.ops import _checks

#: samples per forward pass when measuring a loss over a whole data set
EVAL_BATCH = 100


def check_fraction(fraction: object) -> float:
    """``validation_split`` as a float in (0, 1): TypeError for a non-number, ValueError outside."""
    value = _checks.real("validation_split", fraction)
    if not 0.0 < value < 1.0:
        raise ValueError(f"validation_split must lie strictly between 0 and 1, got {fraction}")
    return value


def split_indices(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(train, val)``: sorted int64 indices of ``n`` samples, ``floor(n * fraction)`` of them
    drawn at random for validation (one permutation from ``rng``), the rest for training.

    ValueError when that leaves either part empty.
    """
    n_val = math.floor(n * check_fraction(fraction) + 1e-9)
    if n_val < 1 or n_val >= n:
        raise ValueError(f"validation_split={fraction} of {n} training samples leaves "
                         f"{n_val} for validation and {n - n_val} for training; both need at least one")
    order = rng.permutation(n)  # (n,)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def check_given(x_val: Any, t_val: Any) -> None:
    """ValueError unless ``x_val`` and ``t_val`` are both given (or both None), non-empty, of one length."""
    if (x_val is None) != (t_val is None):
        raise ValueError("give both x_val and t_val, or neither")
    if x_val is not None:
        if len(x_val) != len(t_val):
            raise ValueError(f"x_val and t_val differ in length: {len(x_val)} vs {len(t_val)}")
        if len(x_val) == 0:
            raise ValueError("the validation set is empty")


def validation_loss(network: Any, x: np.ndarray, t: np.ndarray, batch_size: int = EVAL_BATCH) -> float:
    """The mean of ``network.loss`` over ``x`` (N, ...) and ``t`` (N,) or (N, C), ``batch_size``
    samples per call (each batch's mean weighted by its size; penalties counted once)."""
    n = len(x)
    total = 0.0
    for start in range(0, n, batch_size):
        xb, tb = x[start:start + batch_size], t[start:start + batch_size]
        total += float(network.loss(xb, tb)) * len(xb)
    return total / n
