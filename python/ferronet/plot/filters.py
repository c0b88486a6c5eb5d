"""The first convolution layer's filters as images, before and after training (the book's chapter 7)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ferronet.plot._pyplot import pyplot
from ferronet.plot.saving import PathLike, finish


def filter_images(weights: np.ndarray) -> np.ndarray:
    """The filters of a convolution weight (FN, C, FH, FW) as grey images (FN, FH, FW): the first
    input channel of each (the only one for grey input)."""
    w = np.asarray(weights)
    if w.ndim != 4:
        raise ValueError(f"expected convolution weights (FN, C, FH, FW), got shape {w.shape}")
    return w[:, 0].astype(np.float64)


def plot_filters(before: np.ndarray, after: np.ndarray | None = None, *, columns: int | None = None,
                 titles: tuple[str, str] = ("before training", "after training"),
                 title: str | None = None, path: PathLike | None = None) -> Any:
    """Each filter of a first convolution layer as a small grey image; with ``after``, two blocks side by side.

    before, after: weights (FN, C, FH, FW), e.g. a ``SimpleConvNet``'s
    ``params['W1']`` copied before training and after.  As in the book each
    filter is scaled to its own range (white low, black high), so its
    pattern shows whatever its size.  columns: filters per row (default
    about the square root of FN, at most 8).  Returns the Figure; saves a
    PNG to ``path`` when given.
    """
    plt = pyplot()
    blocks: Mapping[str, np.ndarray] = {titles[0]: filter_images(before)}
    if after is not None:
        blocks = {**blocks, titles[1]: filter_images(after)}
    count = len(next(iter(blocks.values())))
    if any(len(images) != count for images in blocks.values()):
        raise ValueError("before and after hold different numbers of filters")
    columns = int(columns) if columns else min(8, max(1, math.ceil(math.sqrt(count))))
    rows = math.ceil(count / columns)
    fig = plt.figure(figsize=(1.0 * columns * len(blocks) + 0.6 * len(blocks), 1.0 * rows + 0.8),
                     layout="constrained")
    subfigures = np.atleast_1d(fig.subfigures(1, len(blocks), wspace=0.05))
    for subfig, (block_title, images) in zip(subfigures, blocks.items()):
        axes = subfig.subplots(rows, columns, squeeze=False)
        for ax in axes.flat:
            ax.set_axis_off()
        for ax, image in zip(axes.flat, images):
            ax.imshow(image, cmap="gray_r", interpolation="nearest")
        subfig.suptitle(block_title, fontsize=11)
    if title:
        fig.suptitle(title, fontsize=12)
    return finish(fig, path)
