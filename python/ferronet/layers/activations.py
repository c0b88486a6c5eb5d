"""Element-wise activation layers: ReLU and sigmoid (any shape, float32/float64).

``forward(x, keep_state=False)`` is an inference pass: it keeps nothing for
backward (and leaves what an earlier pass kept untouched).
"""

from __future__ import annotations

import numpy as np

from ferronet import ops


class Relu:
    """``max(x, 0)``.

    forward: x float32/float64 of any shape -> same shape and dtype.
    backward: dout of that shape and dtype -> ``dout * (out > 0)``, a new
    array; ``dout`` is never modified (the book's version wrote into it).
    """

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray, keep_state: bool = True) -> np.ndarray:
        out = ops.relu_forward(x)
        if keep_state:
            self.out = out
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.out is None:
            raise RuntimeError("Relu.backward called before forward")
        return ops.relu_backward(dout, self.out)


class Sigmoid:
    """``1 / (1 + exp(-x))``, without overflow for large negative x.

    forward: x float32/float64 of any shape -> same shape and dtype.
    backward: dout of that shape and dtype -> ``dout * out * (1 - out)``.
    """

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray, keep_state: bool = True) -> np.ndarray:
        out = ops.sigmoid_forward(x)
        if keep_state:
            self.out = out
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.out is None:
            raise RuntimeError("Sigmoid.backward called before forward")
        return ops.sigmoid_backward(dout, self.out)
