"""Dropout with a counter-based mask: the same seed gives the same mask on both
backends (``rust/bindings/dropout.rs``)."""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MASK_BITS = 16777216.0  # 2**24: u_i is the top 24 bits of the hash


def _splitmix64(seed: int, count: int) -> np.ndarray:
    """splitmix64(seed, i) for i in [0, count): uint64 (count,), wrapping mod 2**64.

    ``z = seed + (i + 1) * 0x9E3779B97F4A7C15``;
    ``z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9``; ``z = (z ^ (z >> 27)) * 0x94D049BB133111EB``;
    ``z ^ (z >> 31)``.  Array arithmetic on uint64 wraps silently (scalar arithmetic would warn).
    """
    z = np.arange(1, count + 1, dtype=np.uint64)  # (count,): i + 1
    z *= _GOLDEN
    z += np.uint64(seed)
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def _dropout_mask(shape: tuple[int, ...], size: int, ratio: float, seed: int) -> np.ndarray:
    """bool mask of ``shape``: flat (C-order) element i kept iff (splitmix64(seed, i) >> 40) >= threshold."""
    threshold = np.uint64(int(ratio * _MASK_BITS))
    u = _splitmix64(seed, size) >> np.uint64(40)  # (size,), 24 bits
    return (u >= threshold).reshape(shape)


def _dropout_apply(a: np.ndarray, mask: np.ndarray, ratio: float, inverted: bool) -> np.ndarray:
    """``a * mask`` (book form) or ``where(mask, a * scale, 0)`` with scale = dtype(1 / (1 - ratio))."""
    if not inverted:
        return np.asarray(a * mask)
    scale = a.dtype.type(1.0 / (1.0 - ratio))
    return np.where(mask, a * scale, np.zeros((), dtype=a.dtype))


def dropout_forward(x: np.ndarray, dropout_ratio: float, seed: int,
                    inverted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Dropout with a mask derived from ``seed`` (no global random state).

    x: any shape, float32/float64; dropout_ratio in [0, 1); seed an int in
    [0, 2**64).  Returns ``(out like x, mask bool like x)``.  The element with
    C-order flat index i is kept iff ``splitmix64(seed, i) >> 40 >=
    int(dropout_ratio * 2**24)``.  ``out = x * mask`` (the book: dropped
    elements become ``x * 0``, so NaN stays NaN and negatives give -0.0), or with
    ``inverted`` ``where(mask, x * scale, 0)``, ``scale = dtype(1 / (1 - dropout_ratio))``.
    """
    inverted = _checks.flag("inverted", inverted)
    _checks.float_array("x", x)
    ratio = _checks.dropout_ratio(dropout_ratio)
    mask = _dropout_mask(x.shape, x.size, ratio, _checks.seed64(seed))
    return _dropout_apply(x, mask, ratio, inverted), mask


def dropout_backward(dout: np.ndarray, mask: np.ndarray, dropout_ratio: float, inverted: bool = False) -> np.ndarray:
    """Gradient of dropout: ``dout * mask`` (book) or ``where(mask, dout * scale, 0)`` (inverted).

    dout: any shape, float32/float64; mask: bool of dout's shape -> dx like dout.
    """
    inverted = _checks.flag("inverted", inverted)
    _checks.float_array("dout", dout)
    _checks.bool_mask(mask, "dout", dout)
    ratio = _checks.dropout_ratio(dropout_ratio)
    return _dropout_apply(dout, mask, ratio, inverted)
