"""The images a classifier got wrong, each with its true and predicted label (the book's chapter 8)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ferronet.plot._pyplot import pyplot
from ferronet.plot.saving import PathLike, finish


def as_images(x: np.ndarray) -> np.ndarray:
    """Images (N, H, W) from (N, H, W), (N, 1, H, W) or square flattened (N, H*W) data."""
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[1] == 1:
        return x[:, 0]
    if x.ndim == 3:
        return x
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side == x.shape[1]:
            return x.reshape(len(x), side, side)
    raise ValueError(f"expected grey images (N, H, W), (N, 1, H, W) or square (N, H*W), got shape {x.shape}")


def label_name(label: int, class_names: Sequence[str] | None) -> str:
    """The class name of ``label``, or the label itself without names."""
    return str(class_names[label]) if class_names is not None else str(label)


def plot_misclassified(x: np.ndarray, t: np.ndarray, predicted: np.ndarray, *,
                       class_names: Sequence[str] | None = None, max_images: int = 20, columns: int = 5,
                       title: str | None = None, path: PathLike | None = None) -> Any:
    """A grid of the first ``max_images`` misclassified images, each titled with its true and predicted class.

    x: the images (N, 1, H, W), (N, H, W) or square (N, H*W); t: labels (N,)
    (or one-hot (N, C)); predicted: predicted labels (N,) (or scores (N, C),
    their argmax).  class_names: the names labels index (e.g.
    :data:`ferronet.datasets.FASHION_CLASS_NAMES`).  The true class is
    written in black, the prediction in red.  Returns the Figure; saves a
    PNG to ``path`` when given.
    """
    plt = pyplot()
    images = as_images(x)
    t = np.asarray(t)
    t = t.argmax(axis=1) if t.ndim == 2 else t.reshape(-1)
    predicted = np.asarray(predicted)
    predicted = predicted.argmax(axis=1) if predicted.ndim == 2 else predicted.reshape(-1)
    if not len(images) == len(t) == len(predicted):
        raise ValueError(f"x, t and predicted differ in length: {len(images)}, {len(t)}, {len(predicted)}")
    wrong = np.flatnonzero(t != predicted)
    shown = wrong[:max(0, int(max_images))]
    columns = max(1, min(int(columns), len(shown) or 1))
    rows = max(1, math.ceil(len(shown) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.9 * columns, 2.15 * rows + 0.5), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, shown):
        ax.imshow(images[i], cmap="gray_r", interpolation="nearest")
        ax.set_title(f"true: {label_name(int(t[i]), class_names)}", fontsize=8, color="black", pad=13)
        ax.text(0.5, 1.01, f"pred: {label_name(int(predicted[i]), class_names)}", transform=ax.transAxes,
                ha="center", va="bottom", fontsize=8, color="#c0392b")
    if len(shown) == 0:
        axes[0, 0].text(0.5, 0.5, "no misclassified images", ha="center", va="center", fontsize=10)
    heading = f"{title}: " if title else ""
    fig.suptitle(f"{heading}the first {len(shown)} of {len(wrong)} misclassified images (of {len(t)})")
    return finish(fig, path)
