"""The sampling matrices of the geometric transforms: one 3x3 per image, float64.

A matrix ``M`` maps an output pixel centre ``(x, y, 1)`` (column, row, as
homogeneous coordinates; pixel centres at integers, ``y`` pointing down) to
the input point it samples: it is the inverse of the motion of the image's
content.  Motions compose by multiplying these inverses in the order they
are applied: content moved by A and then by B samples through ``M_A @ M_B``.
:func:`ferronet.ops.affine_warp` takes the top two rows.
"""

from __future__ import annotations

import numpy as np


def identity(n: int) -> np.ndarray:
    """(n, 3, 3): every image left as it is."""
    m = np.zeros((n, 3, 3))
    m[:, 0, 0] = m[:, 1, 1] = m[:, 2, 2] = 1.0
    return m


def shifts(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """(n, 3, 3): content moved right by ``dx`` and down by ``dy`` pixels (each (n,))."""
    m = identity(len(dx))
    m[:, 0, 2], m[:, 1, 2] = -dx, -dy
    return m


def about_centre(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, h: int, w: int) -> np.ndarray:
    """(n, 3, 3): the linear inverse maps ``[[a, b], [c, d]]`` (each (n,)) applied about the
    centre ``(cx, cy) = ((w - 1) / 2, (h - 1) / 2)`` of an h x w image: ``s = L @ (p - centre) + centre``."""
    cx, cy = (w - 1) / 2, (h - 1) / 2
    m = np.zeros((len(a), 3, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1], m[:, 2, 2] = a, b, c, d, 1.0
    m[:, 0, 2] = cx - (a * cx + b * cy)
    m[:, 1, 2] = cy - (c * cx + d * cy)
    return m


def rotations(degrees: np.ndarray, h: int, w: int) -> np.ndarray:
    """(n, 3, 3): content turned counter-clockwise (as displayed) by ``degrees`` (n,) about the centre.

    Quarter turns are exact (``cos(pi/2)`` is 6e-17 in floating point; here 0):
    at 90 degrees a square image becomes ``np.rot90`` of itself, pixel for pixel.
    """
    t = np.deg2rad(degrees)
    cos, sin = np.cos(t), np.sin(t)
    quarter = np.mod(degrees, 90) == 0  # (n,)
    if quarter.any():
        cos[quarter], sin[quarter] = np.rint(cos[quarter]), np.rint(sin[quarter])
    return about_centre(cos, -sin, sin, cos, h, w)


def scalings(factors: np.ndarray, h: int, w: int) -> np.ndarray:
    """(n, 3, 3): content enlarged by ``factors`` (n,) about the centre (below 1: shrunk)."""
    inverse = 1.0 / factors
    zero = np.zeros_like(inverse)
    return about_centre(inverse, zero, zero, inverse, h, w)


def horizontal_flips(flipped: np.ndarray, w: int) -> np.ndarray:
    """(n, 3, 3): images where ``flipped`` (n,) bool is true mirrored left to right, the others kept."""
    m = identity(len(flipped))
    m[:, 0, 0] = 1.0 - 2.0 * flipped
    m[:, 0, 2] = (w - 1) * flipped
    return m


def affine_rows(m: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The (n, 2, 3) top rows of ``m`` (n, 3, 3) in ``dtype``, C-contiguous, for ``ops.affine_warp``."""
    return np.ascontiguousarray(m[:, :2, :], dtype=dtype)
