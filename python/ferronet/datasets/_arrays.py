"""Turning raw uint8 images and labels into the arrays the book's loaders return."""

from __future__ import annotations

import numpy as np

from ferronet.arrays import to_one_hot




def prepare(images: np.ndarray, labels: np.ndarray, *, normalize: bool, flatten: bool,
            one_hot_label: bool, classes: int, max_value: float) -> tuple[np.ndarray, np.ndarray]:
    """Apply the book's options to images (N, H, W) and labels (N,).

    Returns x: float32 in [0, 1] (``normalize``; divided by ``max_value``) or
    the raw dtype, shaped (N, H*W) with ``flatten`` else (N, 1, H, W); and t:
    uint8 labels (N,) or float32 one-hot rows (N, classes).
    """
    n, h, w = images.shape
    x = images.reshape(n, h * w) if flatten else images.reshape(n, 1, h, w)
    if normalize:
        x = x.astype(np.float32)
        x /= np.float32(max_value)
    else:
        x = x.copy()
    t = to_one_hot(labels, classes, dtype=np.float32) if one_hot_label else labels.astype(np.uint8)
    return x, t
