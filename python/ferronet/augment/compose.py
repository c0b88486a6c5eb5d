"""Compose: several transforms applied in order, as one augment function.

Consecutive geometric transforms are fused: their sampling matrices are
multiplied (in order) and the batch is resampled once, by one native warp.
The result is sharper than resampling after each transform (one
interpolation instead of several) and keeps pixels that one transform moves
outside the image and the next brings back.  Shifts, crops and flips copy
pixels exactly, so for them fused and one-by-one agree bit for bit.  Every
transform still draws its random numbers from ``rng`` in list order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Union

import numpy as np

from ferronet.augment.base import Augment
from ferronet.augment.geometric import GeometricTransform, warp

#: A transform in a Compose: an Augment, or any function ``f(x_batch, rng) -> x_batch``.
Transform = Union[Augment, Callable[[np.ndarray, np.random.Generator], np.ndarray]]


class Compose(Augment):
    """Apply ``transforms`` in order (each sees (N, C, H, W) batches).

    transforms: :class:`Augment` objects, or plain functions following the
    augment protocol ``f(x_batch, rng) -> x_batch``.
    image_shape: (C, H, W) when the batches are flat (N, D).
    """

    def __init__(self, transforms: Sequence[Transform], image_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(image_shape)
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose takes transforms f(x_batch, rng) -> x_batch, got {type(t).__name__}")

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._run(x, rng, owned=False)

    def apply_in_place(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._run(x, rng, owned=True)

    def _run(self, x: np.ndarray, rng: np.random.Generator, owned: bool) -> np.ndarray:
        """The transforms in order; ``owned``: x may be changed (after the first
        result, every batch is the Compose's own, so later transforms work in place)."""
        if not self.transforms:
            return x if owned else x.copy()
        n, _, h, w = x.shape
        maps, fill = None, None  # the pending run of geometric transforms: its matrices (n, 3, 3), its fill
        for t in self.transforms:
            joins = isinstance(t, GeometricTransform) and (t.fill is None or fill is None or t.fill == fill)
            if maps is not None and not joins:
                x, maps, fill, owned = warp(x, maps, 0.0 if fill is None else fill), None, None, True
            if isinstance(t, GeometricTransform):
                m = t.maps(n, h, w, rng)
                maps = m if maps is None else maps @ m
                fill = t.fill if fill is None else fill
            elif isinstance(t, Augment):
                x, owned = (t.apply_in_place if owned else t.apply)(x, rng), True
            else:  # a plain function: its own copy, and its result is not assumed to be contiguous
                x, owned = _called(t, x if owned else x.copy(), rng), False
        return x if maps is None else warp(x, maps, 0.0 if fill is None else fill)

    def __repr__(self) -> str:
        inner = ", ".join(repr(t) if isinstance(t, Augment) else getattr(t, "__name__", repr(t))
                          for t in self.transforms)
        shape = f", image_shape={self.image_shape}" if self.image_shape else ""
        return f"Compose([{inner}]{shape})"


def _called(f: Callable[[np.ndarray, np.random.Generator], np.ndarray], x: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    """``f(x, rng)`` for a plain protocol function, checked to keep x's shape and dtype."""
    out = f(x, rng)
    if not isinstance(out, np.ndarray) or out.shape != x.shape or out.dtype != x.dtype:
        got = f"{out.shape} {out.dtype}" if isinstance(out, np.ndarray) else type(out).__name__
        raise ValueError(f"{getattr(f, '__name__', f)!s} must return an array of the batch's shape and dtype, "
                         f"{x.shape} {x.dtype}, got {got}")
    return out
