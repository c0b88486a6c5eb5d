"""How well scores predict targets: what networks' ``accuracy`` and ``score`` report.

Each function takes a network's raw outputs (scores, logits or predicted
values; not probabilities) for N samples and the targets, and returns a
Python float.  Which one applies follows from the loss a network trains
with (its loss layer's ``task``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _rows(y: ArrayLike, t: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """y as (N, K) and t of the same shape (a target vector (N,) beside (N, 1) or (N,) outputs included)."""
    y, t = np.asarray(y), np.asarray(t)
    if y.ndim == 0 or len(y) == 0:
        raise ValueError(f"scoring needs at least one sample, got outputs of shape {y.shape}")
    n = len(y)
    y2 = y.reshape(n, -1)  # (N, K)
    if t.size != y2.size or (t.ndim and len(t) != n):
        raise ValueError(f"targets of shape {t.shape} do not match outputs of shape {y.shape}")
    return y2, t.reshape(y2.shape)


def accuracy(scores: ArrayLike, t: ArrayLike) -> float:
    """Fraction of samples whose largest score is the target class.

    scores: (N, C); t: class labels (N,) of any integer dtype, or one-hot
    rows or distributions (N, C) (their largest entry is the class).
    """
    y = np.asarray(scores)
    t = np.asarray(t)
    if t.ndim != 1:
        t = np.argmax(t, axis=-1)  # one-hot or distributions -> labels
    t = t.reshape(-1)  # (N,)
    n = len(y)
    if n == 0:
        raise ValueError("accuracy needs at least one sample")
    if len(t) != n:
        raise ValueError(f"accuracy: {len(t)} targets for {n} samples")
    return int(np.count_nonzero(np.argmax(y, axis=-1) == t)) / n


def multilabel_accuracy(scores: ArrayLike, t: ArrayLike) -> float:
    """Fraction of the N*K (sample, label) pairs predicted right: label on where
    its score (a logit) is above 0, i.e. its probability above 1/2, against a
    target above 1/2 (0/1 labels or probabilities).

    scores: (N, K); t: (N, K) (or (N,) for one label per sample).
    """
    y, t = _rows(scores, t)
    return float(np.mean((y > 0) == (t > 0.5)))


def r2_score(y: ArrayLike, t: ArrayLike) -> float:
    """Coefficient of determination of predictions ``y`` for targets ``t``:
    ``1 - sum((t - y)**2) / sum((t - mean(t))**2)`` for each output, averaged
    over the outputs (scikit-learn's ``r2_score``, ``multioutput='uniform_average'``).

    1 is a perfect fit, 0 predicting each output's mean, below 0 worse than
    that.  An output whose targets are all equal scores 1 if predicted
    exactly, else 0.  y: (N, K) or (N,); t: the same number of values per sample.
    Computed in float64.
    """
    y2, t2 = _rows(np.asarray(y, dtype=np.float64), np.asarray(t, dtype=np.float64))
    residual = np.sum((t2 - y2) ** 2, axis=0)  # (K,)
    total = np.sum((t2 - t2.mean(axis=0)) ** 2, axis=0)  # (K,)
    constant = total == 0
    per_output = np.where(constant, np.where(residual == 0, 1.0, 0.0),
                          1 - residual / np.where(constant, 1.0, total))
    return float(np.mean(per_output))
