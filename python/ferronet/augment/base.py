"""The augment protocol every transform follows, and the argument checks they share.

``aug(x_batch, rng) -> x_batch``: the Trainer's protocol.  ``x_batch`` is a
mini-batch of images, (N, C, H, W) float32/float64, or flat (N, D) when the
transform was given ``image_shape=(C, H, W)`` (``D = C*H*W``); the result is
a new array of ``x_batch``'s shape and dtype, and ``x_batch`` is never
modified.  Every random number comes from ``rng`` (a
:class:`numpy.random.Generator`, the Trainer's), drawn in Python, so the
same generator state gives the same output on both backends.  Standalone,
``aug(x, seed=0)`` uses a private generator and ``aug(x)`` NumPy's global
one (as the book's code does: ``np.random.seed`` repeats a run).
"""

from __future__ import annotations

import math
import operator
import numpy as np

from ferronet.arrays import FLOAT_DTYPES
from ferronet.rng import generator

Shape3 = tuple[int, int, int]


def image_shape_of(image_shape: object) -> Shape3 | None:
    """``image_shape`` as ``(C, H, W)``: None, or a tuple of 2 (one channel) or 3 positive ints."""
    if image_shape is None:
        return None
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) not in (2, 3):
        raise ValueError(f"image_shape must be (C, H, W) or (H, W), got {image_shape!r}")
    dims = tuple(operator.index(d) for d in image_shape)
    if min(dims) < 1:
        raise ValueError(f"image_shape must hold positive sizes, got {dims}")
    return dims if len(dims) == 3 else (1, *dims)  # type: ignore[return-value]


def finite_number(name: str, value: object) -> float:
    """A real number (not bool) that is finite: TypeError or ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def probability(name: str, value: object) -> float:
    """A finite number in [0, 1]."""
    p = finite_number(name, value)
    if not 0 <= p <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {p}")
    return p


def number_range(name: str, value: object, symmetric_about: float | None = None,
                 low: float = -math.inf, positive: bool = False) -> tuple[float, float]:
    """``(lo, hi)`` from a pair, or from one number ``v`` as ``(about - v, about + v)``
    (``symmetric_about`` given); finite, ``lo <= hi``, ``lo >= low`` (``> 0`` when ``positive``)."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        lo, hi = (finite_number(name, v) for v in value)
    elif symmetric_about is not None and not isinstance(value, (tuple, list)):
        v = finite_number(name, value)
        if v < 0:
            raise ValueError(f"{name} must be >= 0, got {v}")
        lo, hi = symmetric_about - v, symmetric_about + v
    else:
        raise ValueError(f"{name} must be a pair (lo, hi){' or one number' if symmetric_about is not None else ''}, "
                         f"got {value!r}")
    if not lo <= hi:
        raise ValueError(f"{name} must have lo <= hi, got ({lo}, {hi})")
    if lo < low or (positive and lo <= 0):
        raise ValueError(f"{name} must lie {'above' if positive else 'at or above'} {low}, got ({lo}, {hi})")
    return lo, hi


def resolve_rng(rng: object, seed: object) -> np.random.Generator:
    """The generator to draw from: ``rng`` (a Generator), else :func:`ferronet.rng.generator` of ``seed``."""
    if rng is not None:
        if seed is not None:
            raise TypeError("pass rng or seed, not both")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__} (or pass seed=)")
        return rng
    return generator(seed)  # type: ignore[arg-type]


class Augment:
    """A random transform of image mini-batches (see the module: the augment protocol).

    Subclasses implement :meth:`apply` on (N, C, H, W) batches; ``__call__``
    checks the batch, views a flat one as images, and picks the generator.
    """

    def __init__(self, image_shape: tuple[int, ...] | None = None) -> None:
        self.image_shape = image_shape_of(image_shape)

    def __call__(self, x_batch: np.ndarray, rng: np.random.Generator | None = None, *,
                 seed: int | None = None) -> np.ndarray:
        """A new array of ``x_batch``'s shape and dtype: the transform applied to every image."""
        gen = resolve_rng(rng, seed)
        return self.apply(self.as_images(x_batch), gen).reshape(x_batch.shape)

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """x (N, C, H, W) float32/float64 -> a new (N, C, H, W) array of x's dtype, drawing from ``rng``."""
        raise NotImplementedError

    def apply_in_place(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """:meth:`apply` on a batch its caller owns (a fresh C-contiguous array nothing else
        refers to, such as the previous transform's result in a Compose): it may be changed
        and returned, which saves a copy."""
        return self.apply(x, rng)

    def as_images(self, x_batch: object) -> np.ndarray:
        """``x_batch`` as (N, C, H, W) (a view of a flat (N, D) batch when ``image_shape`` is set)."""
        if not isinstance(x_batch, np.ndarray):
            raise TypeError(f"x_batch must be a numpy.ndarray of float32 or float64, got {type(x_batch).__name__}")
        if x_batch.dtype not in FLOAT_DTYPES:
            raise TypeError(f"x_batch must have dtype float32 or float64, got {x_batch.dtype}")
        if x_batch.ndim == 4:
            return x_batch
        if x_batch.ndim == 2 and self.image_shape is not None:
            if x_batch.shape[1] != math.prod(self.image_shape):
                raise ValueError(f"x_batch has shape {x_batch.shape} but image_shape {self.image_shape} "
                                 f"holds {math.prod(self.image_shape)} values per image")
            return x_batch.reshape(x_batch.shape[0], *self.image_shape)
        flat = "" if self.image_shape is not None else " (give image_shape=(C, H, W) for flat (N, D) batches)"
        raise ValueError(f"x_batch must be (N, C, H, W){' or (N, D)' if self.image_shape else ''}, "
                         f"got shape {x_batch.shape}{flat}")

    def __repr__(self) -> str:
        params = {k: v for k, v in vars(self).items() if k != "image_shape"}
        if self.image_shape is not None:
            params["image_shape"] = self.image_shape
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in params.items())})"

