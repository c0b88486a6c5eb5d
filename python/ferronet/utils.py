"""Small data helpers: shuffling, one-hot labels, curve smoothing, float conversion."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike


def shuffle_dataset(x: np.ndarray, t: np.ndarray,
                    rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x[p], t[p])`` for one random permutation ``p`` of the first axis.

    x: (N, ...) and t: (N,) or (N, C); returns new arrays (the inputs are not
    touched).  rng: a Generator, a seed, or None for fresh entropy.
    """
    if len(x) != len(t):
        raise ValueError(f"x and t must have the same length, got {len(x)} and {len(t)}")
    perm = np.random.default_rng(rng).permutation(len(x))  # (N,)
    return x[perm], t[perm]


def to_one_hot(labels: ArrayLike, num_classes: int, dtype: DTypeLike = np.float64) -> np.ndarray:
    """One-hot rows (N, num_classes) of ``dtype`` for integer labels (N,) in [0, num_classes)."""
    lab = np.asarray(labels)
    if lab.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got {lab.dtype}")
    lab = lab.reshape(-1)  # (N,)
    if lab.size and (lab.min() < 0 or lab.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got min {lab.min()} max {lab.max()}")
    out = np.zeros((lab.size, num_classes), dtype=dtype)  # (N, C)
    out[np.arange(lab.size), lab] = 1
    return out


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


def as_float_array(x: ArrayLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """``x`` as a float array: ``dtype`` when given, else float32/float64 kept and
    anything else (integers, bool, float16) converted to float64.  No copy when
    nothing changes."""
    a = np.asarray(x)
    if dtype is None:
        dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float64
    return np.asarray(a, dtype=dtype)


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """Output length ``(input_size + 2*pad - filter_size) // stride + 1`` as an int
    (the book returns a float).  ValueError when the filter does not fit the
    padded input, stride < 1 or pad < 0."""
    from ferronet.ops import _checks

    size, f = _checks.integer("input_size", input_size), _checks.integer("filter_size", filter_size)
    s, p = _checks.integer("stride", stride), _checks.integer("pad", pad)
    if s < 1 or p < 0 or f < 1:
        raise ValueError(f"need stride >= 1, pad >= 0 and filter_size >= 1, got stride={s}, pad={p}, filter_size={f}")
    if f > size + 2 * p:
        raise ValueError(f"filter_size {f} is larger than the padded input {size} + 2*{p} = {size + 2 * p}")
    return (size + 2 * p - f) // s + 1


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
