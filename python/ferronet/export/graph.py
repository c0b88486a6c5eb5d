"""An ONNX graph under construction: nodes, constants, unique names, one float dtype.

Converters (:mod:`ferronet.export.layers`, :mod:`ferronet.export.activations`)
add nodes with :meth:`Graph.op` and constants with :meth:`Graph.constant`;
each returns the name of the tensor it made, which the next node takes as
input.  Names follow the layer they come from (``Conv1/weight``,
``Conv1/Conv``), so the exported graph reads like the network.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ferronet.optional import require


class Graph:
    """Nodes and initializers of one graph whose float tensors are all ``dtype`` (float32 or float64)."""

    def __init__(self, dtype: DTypeLike, opset: int) -> None:
        self.onnx = require("onnx")
        self.dtype = np.dtype(dtype)
        self.opset = opset
        self.nodes: list[Any] = []  # onnx.NodeProto
        self.initializers: list[Any] = []  # onnx.TensorProto
        self._taken: set[str] = set()

    @property
    def double(self) -> bool:
        """True for a float64 graph, where some ops take another form (:mod:`ferronet.export.float64_forms`)."""
        return self.dtype == np.float64

    @property
    def elem_type(self) -> int:
        """The ONNX element type of the graph's floats."""
        return self.onnx.helper.np_dtype_to_tensor_dtype(self.dtype)

    def name(self, hint: str) -> str:
        """``hint``, or ``hint_2``, ``hint_3`` ... if it is taken: a new tensor or node name."""
        candidate, k = hint, 1
        while candidate in self._taken:
            k += 1
            candidate = f"{hint}_{k}"
        self._taken.add(candidate)
        return candidate

    def reserve(self, name: str) -> str:
        """Take ``name`` exactly (the graph's input), or ValueError when it is taken."""
        if name in self._taken:
            raise ValueError(f"tensor name {name!r} is already used")
        self._taken.add(name)
        return name

    def constant(self, hint: str, value: ArrayLike, dtype: DTypeLike | None = None) -> str:
        """An initializer holding ``value`` in the graph's dtype (or ``dtype``, e.g. int64 for shapes)."""
        array = np.ascontiguousarray(value, dtype=self.dtype if dtype is None else dtype)
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def scalar(self, hint: str, value: float) -> str:
        """A 0-d constant of the graph's dtype (broadcasts against any tensor)."""
        return self.constant(hint, np.asarray(value, dtype=self.dtype))

    def shape(self, hint: str, dims: tuple[int, ...]) -> str:
        """An int64 shape constant (for Reshape)."""
        return self.constant(hint, np.asarray(dims, dtype=np.int64), dtype=np.int64)

    def op(self, op_type: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        """Add a node ``op_type(inputs, **attributes)`` named after ``hint``; returns its output's name."""
        output = self.name(f"{hint}/{op_type}")
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output
