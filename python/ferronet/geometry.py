"""Output sizes of sliding windows (convolution filters, pooling windows).

``conv_output_size`` is the book's (returning an int, not a float); the
``*_shape`` helpers size one (C, H, W) sample as the networks build their
layers.
"""

from __future__ import annotations

from collections.abc import Sequence

from ferronet.ops import _checks

Shape3 = tuple[int, int, int]  # (C, H, W) of one sample


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """Output length ``(input_size + 2*pad - filter_size) // stride + 1`` as an int
    (the book returns a float).  ValueError when the filter does not fit the
    padded input, stride < 1 or pad < 0."""
    size, f = _checks.integer("input_size", input_size), _checks.integer("filter_size", filter_size)
    s, p = _checks.integer("stride", stride), _checks.integer("pad", pad)
    if s < 1 or p < 0 or f < 1:
        raise ValueError(f"need stride >= 1, pad >= 0 and filter_size >= 1, got stride={s}, pad={p}, filter_size={f}")
    if f > size + 2 * p:
        raise ValueError(f"filter_size {f} is larger than the padded input {size} + 2*{p} = {size + 2 * p}")
    return (size + 2 * p - f) // s + 1


def conv_output_shape(in_shape: Shape3, filter_num: int, filter_size: int, stride: int = 1, pad: int = 0) -> Shape3:
    """(FN, oh, ow) of a square ``filter_size`` convolution on one (C, H, W) sample; ValueError if it does not fit."""
    _, height, width = in_shape
    return (filter_num, conv_output_size(height, filter_size, stride, pad),
            conv_output_size(width, filter_size, stride, pad))


def pool_output_shape(in_shape: Shape3, pool: int = 2, stride: int = 2) -> Shape3:
    """(C, oh, ow) of ``pool x pool`` pooling without padding on one (C, H, W) sample."""
    channels, height, width = in_shape
    return channels, conv_output_size(height, pool, stride), conv_output_size(width, pool, stride)


def input_shape(input_dim: Sequence[int]) -> Shape3:
    """``input_dim`` as a (C, H, W) tuple of ints, or ValueError."""
    dims = tuple(int(d) for d in input_dim)
    if len(dims) != 3 or min(dims) < 1:
        raise ValueError(f"input_dim must be (channels, height, width) of positive ints, got {tuple(input_dim)}")
    return dims  # type: ignore[return-value]
