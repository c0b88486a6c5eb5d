"""Element-wise activation layers: ReLU and sigmoid (any shape, float32/float64).

``forward(x, keep_state=False)`` is an inference pass: it keeps nothing for
backward (and leaves what an earlier pass kept untouched).
"""

from __future__ import annotations

import numpy as np

from ferronet import ops
from ferronet.layers.base import Layer


class Relu(Layer):
    """``max(x, 0)``.

    forward: x float32/float64 of any shape -> same shape and dtype.
    backward: dout of that shape and dtype -> ``dout * (out > 0)``, a new
    array; ``dout`` is never modified (the book's version wrote into it).
    """

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        out = ops.relu_forward(x)
        if keep_state:
            self.out = out
        return out

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        return ops.relu_backward(dout, self.out)


class Sigmoid(Layer):
    """``1 / (1 + exp(-x))``, without overflow for large negative x.

    forward: x float32/float64 of any shape -> same shape and dtype.
    backward: dout of that shape and dtype -> ``dout * out * (1 - out)``.
    """

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        out = ops.sigmoid_forward(x)
        if keep_state:
            self.out = out
        return out

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        return ops.sigmoid_backward(dout, self.out)


#: The activation layers by the names networks accept for ``activation=``.
ACTIVATIONS: dict[str, type[Layer]] = {"relu": Relu, "sigmoid": Sigmoid}


def activation_layer(name: str) -> type[Layer]:
    """The layer class of the activation called ``name`` (any case); ValueError listing the names."""
    try:
        return ACTIVATIONS[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None
