"""The confusion matrix of a classifier: which classes it mistakes for which."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ferronet.plot._pyplot import pyplot
from ferronet.plot.saving import PathLike, finish


def _labels(values: np.ndarray) -> np.ndarray:
    """Labels (N,) from labels or from one-hot rows / scores (N, C) (their argmax)."""
    values = np.asarray(values)
    return values.argmax(axis=1) if values.ndim == 2 else values.reshape(-1).astype(np.int64)


def confusion_matrix(t: np.ndarray, predicted: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Counts (C, C) int64: row = true class, column = predicted class.

    t, predicted: labels (N,) or one-hot rows / scores (N, C).  num_classes:
    C (default: one more than the largest label seen).
    """
    t, predicted = _labels(t), _labels(predicted)
    if len(t) != len(predicted):
        raise ValueError(f"t and predicted differ in length: {len(t)} vs {len(predicted)}")
    c = int(num_classes) if num_classes is not None else int(max(t.max(initial=-1), predicted.max(initial=-1))) + 1
    if len(t) and (min(t.min(), predicted.min()) < 0 or max(t.max(), predicted.max()) >= c):
        raise ValueError(f"labels must lie in [0, {c})")
    return np.bincount(t * c + predicted, minlength=c * c).reshape(c, c).astype(np.int64)


def plot_confusion_matrix(t: np.ndarray, predicted: np.ndarray, *, class_names: Sequence[str] | None = None,
                          title: str | None = None, path: PathLike | None = None) -> Any:
    """The confusion matrix as a heat map with the counts written in (rows true, columns predicted).

    Colours are per row (the share of that true class), so a weak class
    stands out however many samples it has; the diagonal holds the right
    answers.  class_names label the axes (default 0, 1, ...).  Returns the
    Figure; saves a PNG to ``path`` when given.
    """
    plt = pyplot()
    counts = confusion_matrix(t, predicted, len(class_names) if class_names is not None else None)
    c = len(counts)
    names = list(class_names) if class_names is not None else [str(i) for i in range(c)]
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)  # (C, C), rows sum to 1
    size = 2.5 + 0.55 * c
    fig, ax = plt.subplots(figsize=(size + 1.2, size), layout="constrained")
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(c):
        for j in range(c):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8 if c <= 12 else 6,
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(c), names, rotation=45, ha="right", rotation_mode="anchor", fontsize=9)
    ax.set_yticks(range(c), names, fontsize=9)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(image, ax=ax, label="share of the true class", shrink=0.8)
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{title + ': ' if title else ''}{100 * accuracy:.2f}% right ({counts.sum()} images)")
    return finish(fig, path)
