"""Dropout (chapter 6): the book's form by default, inverted dropout on request."""

from __future__ import annotations

import numpy as np

from ferronet import ops
from ferronet.layers.base import Layer
from ferronet.rng import generator


class Dropout(Layer):
    """Zero each element with probability ``dropout_ratio`` while training.

    dropout_ratio in [0, 1).  forward(x, train_flg=True): x float32/float64
    of any shape -> same shape and dtype.

    * book form (``inverted=False``): train keeps each element with
      probability ``1 - dropout_ratio``, unscaled; eval multiplies x by
      ``1 - dropout_ratio``;
    * inverted (``inverted=True``): train scales the kept elements by
      ``1 / (1 - dropout_ratio)``; eval returns x unchanged.

    backward(dout): dout of x's shape -> dx, the derivative of the last kept
    forward pass (masked, scaled as in forward); ``dout`` is not modified.

    seed: seeds ``rng``, a :class:`numpy.random.Generator` that draws a new
    64-bit seed for the kernel's mask on every train-mode call (None: drawn
    from NumPy's global generator, as the book's masks are; see
    :mod:`ferronet.rng`).  Replacing ``rng`` with a newly seeded generator before each
    forward gives the same mask every time (what a gradient check needs).
    ``mask`` is the bool mask of the last kept train-mode pass.

    ``forward(x, train_flg, keep_state=False)`` is an inference pass: it keeps
    nothing for backward (and leaves what an earlier pass kept untouched).
    """

    def __init__(self, dropout_ratio: float = 0.5, inverted: bool = False, seed: int | None = None) -> None:
        ratio = float(dropout_ratio)
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f"dropout_ratio must lie in [0, 1), got {dropout_ratio}")
        self.dropout_ratio = ratio
        self.inverted = bool(inverted)
        self.rng = generator(seed)
        self.mask: np.ndarray | None = None  # bool, x's shape
        self.train_flg: bool | None = None  # the mode of the kept forward pass

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        x = np.asarray(x)
        mask = None
        if train_flg:
            seed = int(self.rng.integers(0, 2**64, dtype=np.uint64))
            out, mask = ops.dropout_forward(x, self.dropout_ratio, seed, inverted=self.inverted)
        elif self.inverted:
            out = x
        else:
            out = x * (1.0 - self.dropout_ratio)  # a Python float keeps float32 float32
        if keep_state:
            self.mask = mask
            self.train_flg = train_flg
        return out

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        dout = np.asarray(dout)
        if self.train_flg:
            return ops.dropout_backward(dout, self.mask, self.dropout_ratio, inverted=self.inverted)
        return dout if self.inverted else dout * (1.0 - self.dropout_ratio)  # eval mode is linear
