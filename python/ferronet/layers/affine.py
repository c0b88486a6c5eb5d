"""The fully connected layer ``x @ W + b``."""

from __future__ import annotations

import numpy as np

from ferronet import ops
from ferronet.arrays import bias_vector
from ferronet.layers.base import Layer


class Affine(Layer):
    """``out = x @ W + b`` on a batch flattened to rows.

    W: (D, M) and b: (M,), float32 or float64 (the same dtype), C-contiguous;
    a scalar b is a new (M,) array of W's dtype filled with it.
    forward: x (N, d1, d2, ...) with ``d1 * d2 * ... == D`` -> (N, M); a 1-d
    x (D,) is one sample and gives (M,).  x is converted to W's dtype (no
    copy when it already matches), so float32 images can feed a float64 net.
    backward: dout (N, M) (or (M,)) -> dx of x's original shape; stores
    ``dW`` (D, M) and ``db`` (M,) in W's dtype.

    ``W`` and ``b`` are the caller's arrays (not copies): a network and its
    optimizer update them in place.

    ``input_grad``: when False, backward skips the ``dout @ W.T`` product and
    returns None; networks set it on their first layer, whose input is data.

    ``forward(x, keep_state=False)`` is an inference pass: it keeps nothing
    for backward (and leaves what an earlier pass kept untouched).
    """

    params = {"W": "dW", "b": "db"}

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = bias_vector(b, W, axis=1)
        self.x: np.ndarray | None = None  # (N, D): the flattened input, kept for backward
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self.input_grad = True

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        x = np.asarray(x)
        rows = 1 if x.ndim == 1 else x.shape[0]
        # (N, D), C-contiguous, in W's dtype; a no-op for a matching 2-d batch
        x2 = np.ascontiguousarray(x.reshape(rows, -1), dtype=self.W.dtype)
        out = ops.affine_forward(x2, self.W, self.b)  # (N, M)
        if keep_state:
            self.x = x2
            self.original_x_shape = x.shape
        return out[0] if x.ndim == 1 else out

    def _backward(self, dout: np.ndarray) -> np.ndarray | None:
        dout2 = np.asarray(dout, dtype=self.W.dtype).reshape(self.x.shape[0], -1)  # (N, M)
        # (N, D) or None, (D, M), (M,)
        dx, self.dW, self.db = ops.affine_backward(dout2, self.x, self.W, need_dx=self.input_grad)
        return None if dx is None else dx.reshape(self.original_x_shape)
