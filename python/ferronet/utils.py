"""The book's ``common/util.py``: shuffling, curve smoothing, im2col/col2im and
``conv_output_size`` (one-hot labels and float conversion live in
:mod:`ferronet.arrays`, window sizes in :mod:`ferronet.geometry`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ferronet.arrays import as_float_array, to_one_hot
from ferronet.geometry import conv_output_size
from ferronet.rng import generator

__all__ = ["as_float_array", "col2im", "conv_output_size", "im2col", "shuffle_dataset", "smooth_curve", "to_one_hot"]


def shuffle_dataset(x: np.ndarray, t: np.ndarray,
                    rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x[p], t[p])`` for one random permutation ``p`` of the first axis.

    x: (N, ...) and t: (N,) or (N, C); returns new arrays (the inputs are not
    touched).  rng: a Generator, a seed, or None for NumPy's global generator
    (as the book's ``np.random.permutation``; see :mod:`ferronet.rng`).
    """
    if len(x) != len(t):
        raise ValueError(f"x and t must have the same length, got {len(x)} and {len(t)}")
    perm = generator(rng).permutation(len(x))  # (N,)
    return x[perm], t[perm]



def smooth_curve(x: ArrayLike, window: int = 11, beta: float = 2.0) -> np.ndarray:
    """A smoothed copy of a 1-d curve (e.g. a loss history), of the same length.

    Each point becomes a Kaiser-window-weighted average of its neighbours
    (``window`` points, odd, shrunk for short curves); the ends are padded by
    reflection so they are not pulled towards zero.  Returns float64 (L,).
    """
    y = np.asarray(x, dtype=np.float64).reshape(-1)  # (L,)
    n = y.size
    w = min(int(window), n if n % 2 else n - 1)  # odd, at most L
    if w < 3:
        return y.copy()
    half = w // 2
    weights = np.kaiser(w, beta)
    weights /= weights.sum()
    padded = np.concatenate([y[half:0:-1], y, y[-2:-half - 2:-1]])  # (L + 2*half,)
    return np.convolve(padded, weights, mode="valid")  # (L,)




def im2col(input_data: ArrayLike, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The book's ``im2col``: (N, C, H, W) -> (N*oh*ow, C*filter_h*filter_w), via
    ``ferronet.ops.im2col`` (native when available).  float32/float64 input keeps
    its dtype; other input is converted to float64, as the book's result is."""
    from ferronet import ops

    return ops.im2col(as_float_array(input_data), filter_h, filter_w, stride, pad)


def col2im(col: ArrayLike, input_shape: tuple[int, int, int, int], filter_h: int, filter_w: int,
           stride: int = 1, pad: int = 0) -> np.ndarray:
    """The book's ``col2im``: (N*oh*ow, C*filter_h*filter_w) -> ``input_shape``
    (N, C, H, W), overlapping windows summed, via ``ferronet.ops.col2im``.
    float32/float64 input keeps its dtype; other input becomes float64."""
    from ferronet import ops

    return ops.col2im(as_float_array(col), tuple(input_shape), filter_h, filter_w, stride, pad)
