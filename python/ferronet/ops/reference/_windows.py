"""Strided window slices and padding shared by the convolution and pooling references."""

from __future__ import annotations

import numpy as np


def _window(start: int, count: int, stride: int) -> slice:
    """The ``count`` positions ``start, start + stride, ...`` of one filter offset."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def _pad_hw(x: np.ndarray, pad: int, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) -> (N, C, H + 2*pad, W + 2*pad), same dtype, filled with ``value``."""
    if pad == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=value)
