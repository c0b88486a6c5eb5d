"""Images for the convolutional estimator: what shape they have, and as the network takes them.

Samples come as flat rows (N, C*H*W) - each row a C-ordered (C, H, W)
image, as ``load_fashion_mnist(flatten=True)`` gives them - or as arrays
(N, H, W) or (N, C, H, W).  Rows are validated as scikit-learn's
estimators validate features; :func:`flatten_images` turns image arrays into
rows for that and :func:`image_shape` settles the (C, H, W) of one sample.
:func:`pad_images` zero-pads images smaller than the network's smallest
input (:func:`smallest_side`) around their border.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ferronet.geometry import Shape3


def flatten_images(X: Any) -> tuple[Any, tuple[int, ...] | None]:
    """(rows, image shape): X as it is and None for 2-d input (an array, a list of rows, a
    DataFrame); a (N, H*W) or (N, C*H*W) array and X's (H, W) or (C, H, W) for image arrays."""
    # only arrays and nested lists can hold images; anything else (a DataFrame, an object that
    # converts to an array) goes to scikit-learn's validation as it is
    ndim = X.ndim if hasattr(X, "ndim") else np.ndim(X) if isinstance(X, (list, tuple)) else 2
    if ndim <= 2:
        return X, None
    images = np.asarray(X)
    if images.ndim > 4:
        raise ValueError(f"images must be (n_samples, height, width) or (n_samples, channels, height, width), "
                         f"got an array of shape {images.shape}")
    return images.reshape(len(images), -1), images.shape[1:]


def as_chw(shape: Sequence[int], name: str) -> Shape3:
    """A (C, H, W) or (H, W) shape as (C, H, W) ints (one channel for (H, W)); ValueError otherwise."""
    dims = tuple(int(d) for d in shape)
    if len(dims) == 2:
        dims = (1, *dims)
    if len(dims) != 3 or min(dims) < 1:
        raise ValueError(f"{name} must be (channels, height, width) or (height, width) of positive ints, "
                         f"got {tuple(shape)}")
    return dims  # type: ignore[return-value]


def image_shape(input_shape: Sequence[int] | None, seen: Sequence[int] | None, n_features: int) -> Shape3:
    """The (C, H, W) of one sample: ``input_shape`` when given, else the shape of the image arrays
    ``seen``, else guessed from the rows' ``n_features``: (1, s, s) when it is a square s*s, else
    (1, 1, n_features), one row of pixels.  ValueError when they disagree with each other or
    with ``n_features``."""
    given = None if input_shape is None else as_chw(input_shape, "input_shape")
    found = None if seen is None else as_chw(seen, "the images' shape")
    if given is not None and found is not None and given != found:
        raise ValueError(f"input_shape={tuple(input_shape)} but the images are {tuple(seen)}")
    shape = given or found or guess_shape(n_features)
    if math.prod(shape) != n_features:
        raise ValueError(f"input_shape={tuple(input_shape)} holds {math.prod(shape)} values, but X has "
                         f"{n_features} features per sample")
    return shape


def guess_shape(n_features: int) -> Shape3:
    """(1, s, s) for a square number of features s*s, else (1, 1, n_features)."""
    side = math.isqrt(n_features)
    return (1, side, side) if side * side == n_features else (1, 1, n_features)


def smallest_side(filter_size: int, stride: int, pad: int) -> int:
    """The smallest image side SimpleConvNet takes: its convolution must leave 2 pixels for the
    2x2 pooling, ``(side + 2*pad - filter_size) // stride + 1 >= 2``."""
    return max(1, int(filter_size) + int(stride) - 2 * int(pad))


def padded_shape(shape: Shape3, side: int) -> Shape3:
    """``shape`` (C, H, W) with H and W raised to at least ``side``."""
    channels, height, width = shape
    return channels, max(height, side), max(width, side)


def pad_images(images: np.ndarray, shape: Shape3) -> np.ndarray:
    """(N, C, H, W) images zero-padded around the border (centred, the extra pixel at the bottom or
    right) to (N, *shape); the array itself when it already has that shape."""
    _, height, width = shape
    extra_h, extra_w = height - images.shape[2], width - images.shape[3]
    if extra_h == 0 and extra_w == 0:
        return images
    margins = ((0, 0), (0, 0), (extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2))
    return np.pad(images, margins)
