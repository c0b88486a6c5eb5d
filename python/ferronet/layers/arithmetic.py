"""The computational-graph nodes of chapter 5: multiplication and addition."""

from __future__ import annotations

from typing import Any


class MulLayer:
    """``out = x * y``; backward gives ``(dout * y, dout * x)``.

    Works on Python numbers and on arrays of matching (broadcast-free) shapes.
    """

    def __init__(self) -> None:
        self.x: Any = None
        self.y: Any = None

    def forward(self, x: Any, y: Any) -> Any:
        self.x = x
        self.y = y
        return x * y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        return dout * self.y, dout * self.x


class AddLayer:
    """``out = x + y``; backward passes ``dout`` to both inputs."""

    def forward(self, x: Any, y: Any) -> Any:
        return x + y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        return dout, dout
