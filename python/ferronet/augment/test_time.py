"""Test-time augmentation: a classifier's probabilities averaged over each image and its mirror image.

A network trained on randomly flipped images (``RandomHorizontalFlip``) has
learnt that a mirrored coat is a coat, and its two predictions for an image
and its mirror image differ in their errors: averaging the two softmax
outputs is right more often than either (on Fashion-MNIST, DeepConvNet with
BatchNorm: see the README's accuracy recipes).  It costs a second forward
pass and changes no weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet import metrics, ops


def mirror_averaged_probabilities(network: Any, x: np.ndarray, batch_size: int | None = 100) -> np.ndarray:
    """Class probabilities (N, C) of ``network`` averaged over ``x`` and ``x`` mirrored left to right.

    network: a classifier with ``predict(x, batch_size=)`` returning scores
    (N, C) (every ferronet network trained with a softmax loss); x: images
    (N, C, H, W) in the network's dtype.  Returns the network's dtype.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"mirror averaging needs images (N, C, H, W), got an array of shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("mirror averaging needs at least one image")
    task = getattr(getattr(network, "last_layer", None), "task", "classification")
    if task != "classification":
        raise ValueError(f"mirror averaging averages class probabilities: it needs a classifier, "
                         f"not a network whose loss is for {task}")
    probabilities = ops.softmax(network.predict(x, batch_size=batch_size))  # (N, C)
    mirrored = np.ascontiguousarray(x[..., ::-1])  # (N, C, H, W), each row reversed
    probabilities += ops.softmax(network.predict(mirrored, batch_size=batch_size))
    probabilities *= probabilities.dtype.type(0.5)
    return probabilities


def mirror_averaged_accuracy(network: Any, x: np.ndarray, t: np.ndarray, batch_size: int | None = 100) -> float:
    """Fraction of images whose mirror-averaged probabilities (:func:`mirror_averaged_probabilities`)
    are largest for the true class; t: labels (N,) or one-hot rows (N, C)."""
    return metrics.accuracy(mirror_averaged_probabilities(network, x, batch_size), t)
