"""Array conventions shared by the whole package: the float dtypes ferronet
computes in, turning input into them, arrays the kernels may update in
place, and one-hot labels."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

#: The dtypes every kernel, layer and network computes in.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_array(x: ArrayLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """``x`` as a float array: ``dtype`` when given, else float32/float64 kept and
    anything else (integers, bool, float16) converted to float64.  No copy when
    nothing changes."""
    a = np.asarray(x)
    if dtype is None:
        dtype = a.dtype if a.dtype in FLOAT_DTYPES else np.float64
    return np.asarray(a, dtype=dtype)


def updatable(a: np.ndarray) -> np.ndarray:
    """``a`` itself when the in-place kernels may write it (C-contiguous and
    writeable), else a C-contiguous copy of it."""
    return a if a.flags.c_contiguous and a.flags.writeable else np.array(a, order="C")


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


def bias_vector(b: ArrayLike, W: ArrayLike, axis: int) -> np.ndarray:
    """A layer's bias for weights ``W``, one entry per ``W.shape[axis]``.

    Anything but a scalar is returned as it is (the caller's array, which a
    network's optimizer updates in place; the kernels check its shape and
    dtype).  A scalar - the book's ``Convolution(w, 0)`` - becomes a new array of
    ``W.shape[axis]`` entries in W's dtype, filled with it.
    """
    if np.ndim(b) > 0:
        return b
    w = np.asarray(W)
    return np.full(w.shape[axis], b, dtype=w.dtype)
