"""Strided window slices and padding shared by the convolution and pooling references."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _window(start: int, count: int, stride: int) -> slice:
    """The ``count`` positions ``start, start + stride, ...`` of one filter offset (one position: any
    stride, so one of 2**63 or more never reaches NumPy's int64 indexing)."""
    step = stride if count > 1 else 1
    return slice(start, start + step * (count - 1) + 1, step)


def _pad_hw(x: np.ndarray, pad: int, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) -> (N, C, H + 2*pad, W + 2*pad), same dtype, filled with ``value``."""
    if pad == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=value)


@dataclass(frozen=True)
class Live:
    """The output positions along one axis whose windows reach the data (the others lie wholly in the
    padding), for an input padded by ``pad`` on each side: ``min(pad, filter - 1)``, all a live window
    can need, so an absurd padding (2**40) is never materialised."""

    first: int  #: the first live output position
    count: int  #: how many (0 when every window lies in the padding)
    pad: int  #: the padding kept on each side
    start: int  #: where the first live window starts in the axis padded by ``pad``

    @property
    def positions(self) -> slice:
        """The live output positions."""
        return slice(self.first, self.first + self.count)

    def window(self, offset: int, stride: int) -> slice:
        """Where filter offset ``offset`` of the live windows reads the padded axis."""
        return _window(self.start + offset, self.count, stride)


def live_span(size: int, filt: int, stride: int, pad: int, count: int) -> Live:
    """:class:`Live` of an axis of ``size`` with ``count`` output positions of a ``filt``-wide window.

    Window i covers input positions ``i*stride - pad .. i*stride - pad + filt - 1``: it is live when
    that range meets ``0 .. size - 1``.  Python ints throughout, so huge strides and pads do not overflow.
    """
    kept = min(pad, filt - 1)
    first = max(0, -(-(pad - kept) // stride))  # the first i with i*stride - pad + kept >= 0
    last = min(count - 1, (pad + size - 1) // stride) if size else -1
    live = max(0, last - first + 1)
    return Live(first, live, kept, first * stride - pad + kept)
