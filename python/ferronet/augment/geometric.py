"""The geometric transforms: random shifts, crops with padding, rotations,
scalings and horizontal flips.

Each draws one sampling matrix per image (:mod:`ferronet.augment.matrices`)
and resamples the batch with one native kernel, :func:`ferronet.ops.affine_warp`
(bilinear, pixel centres at integer coordinates, ``fill`` where a point falls
outside the image).  In a :class:`~ferronet.augment.Compose`, consecutive
geometric transforms multiply their matrices and resample once.
"""

from __future__ import annotations

import operator

import numpy as np

from ferronet import ops
from ferronet.augment import matrices
from ferronet.augment.base import Augment, finite_number, number_range, probability


def warp(x: np.ndarray, maps: np.ndarray, fill: float) -> np.ndarray:
    """x (N, C, H, W) resampled through ``maps`` (N, 3, 3) float64, ``fill`` outside -> new (N, C, H, W)."""
    return ops.affine_warp(x, matrices.affine_rows(maps, x.dtype), fill)


class GeometricTransform(Augment):
    """A transform that moves pixels: :meth:`maps` draws the sampling matrices.

    ``fill`` is the value of points that come from outside the image (None
    for transforms that never sample outside, such as flips).
    """

    fill: float | None = 0.0

    def maps(self, n: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        """(n, 3, 3) float64 sampling matrices for n images of h x w, drawn from ``rng``."""
        raise NotImplementedError

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, _, h, w = x.shape
        return warp(x, self.maps(n, h, w, rng), 0.0 if self.fill is None else self.fill)


class RandomShift(GeometricTransform):
    """Move each image by a whole number of pixels, drawn uniformly from
    ``-max_shift..max_shift`` for each axis (as ``floor(u * (2*max_shift + 1)) - max_shift``,
    ``u`` uniform in [0, 1)); pixels are copied exactly (no blur) and the
    uncovered border is ``fill``.

    max_shift: an int >= 0, or a pair (rows, columns).
    """

    def __init__(self, max_shift: int | tuple[int, int] = 2, fill: float = 0.0,
                 image_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(image_shape)
        pair = max_shift if isinstance(max_shift, (tuple, list)) else (max_shift, max_shift)
        if len(pair) != 2:
            raise ValueError(f"max_shift must be an int or a pair (rows, columns), got {max_shift!r}")
        dy, dx = (operator.index(v) for v in pair)
        if min(dy, dx) < 0:
            raise ValueError(f"max_shift must be >= 0, got {max_shift!r}")
        self.max_shift = (dy, dx)
        self.fill = finite_number("fill", fill)

    def maps(self, n: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        most = np.array(self.max_shift, dtype=float)  # (2,): rows, columns
        moves = np.floor(rng.random((n, 2)) * (2 * most + 1)) - most  # (n, 2), whole numbers in -most..most
        return matrices.shifts(moves[:, 1], moves[:, 0])


class RandomCrop(RandomShift):
    """A random ``H x W`` crop of each image padded by ``padding`` pixels of
    ``fill`` on every side: the same as a :class:`RandomShift` by up to
    ``padding`` pixels (the crop's offset ``0..2*padding`` is a shift of
    ``padding - offset``), which is how it runs.
    """

    def __init__(self, padding: int | tuple[int, int] = 4, fill: float = 0.0,
                 image_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(padding, fill, image_shape)


class RandomRotation(GeometricTransform):
    """Turn each image about its centre by an angle drawn uniformly from
    ``(-degrees, degrees)`` (or from the pair ``(lo, hi)``), counter-clockwise
    as displayed; corners that come from outside are ``fill``.
    """

    def __init__(self, degrees: float | tuple[float, float] = 15.0, fill: float = 0.0,
                 image_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(image_shape)
        self.degrees = number_range("degrees", degrees, symmetric_about=0.0)
        self.fill = finite_number("fill", fill)

    def maps(self, n: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        return matrices.rotations(rng.uniform(*self.degrees, size=n), h, w)


class RandomScale(GeometricTransform):
    """Zoom each image about its centre by a factor drawn uniformly from
    ``scale = (lo, hi)`` (above 1: enlarged and cropped; below 1: shrunk,
    with a border of ``fill``).
    """

    def __init__(self, scale: tuple[float, float] = (0.9, 1.1), fill: float = 0.0,
                 image_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(image_shape)
        self.scale = number_range("scale", scale, positive=True, low=0.0)
        self.fill = finite_number("fill", fill)

    def maps(self, n: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        return matrices.scalings(rng.uniform(*self.scale, size=n), h, w)


class RandomHorizontalFlip(GeometricTransform):
    """Mirror each image left to right with probability ``p`` (pixels are copied exactly)."""

    fill = None  # a flip never samples outside the image

    def __init__(self, p: float = 0.5, image_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(image_shape)
        self.p = probability("p", p)

    def maps(self, n: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        return matrices.horizontal_flips(rng.random(n) < self.p, w)
