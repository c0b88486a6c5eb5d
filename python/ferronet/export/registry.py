"""Which function exports which layer: the converters, by layer class.

A converter is ``convert(graph, name, layer, x, shape) -> y``: it adds the
nodes computing ``layer``'s inference pass (``train_flg=False``) on the
tensor ``x``, whose samples have ``shape`` (without the batch axis), to
``graph`` (:class:`ferronet.export.graph.Graph`), and returns the output
tensor's name.  ``name`` is the layer's name in the network.

Classes match exactly: a subclass may compute something else, so it needs
a converter of its own (:func:`converts`), and without one it is an
:class:`UnsupportedLayerError` naming the layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Converter = Callable[[Any, str, Any, str, tuple[int, ...]], str]

#: layer class -> its converter
CONVERTERS: dict[type, Converter] = {}


class UnsupportedLayerError(TypeError):
    """A layer ferronet cannot export to ONNX (the message names it)."""


def converts(*layer_types: type) -> Callable[[Converter], Converter]:
    """Register the decorated function as the converter of ``layer_types``."""

    def register(convert: Converter) -> Converter:
        for layer_type in layer_types:
            CONVERTERS[layer_type] = convert
        return convert

    return register


def converter_for(name: str, layer: Any) -> Converter:
    """The converter of ``layer`` (called ``name`` in its network), or UnsupportedLayerError."""
    convert = CONVERTERS.get(type(layer))
    if convert is None:
        supported = ", ".join(sorted({cls.__name__ for cls in CONVERTERS}))
        raise UnsupportedLayerError(f"layer {name!r} ({type(layer).__module__}.{type(layer).__qualname__}) cannot "
                                    f"be exported to ONNX: ferronet exports {supported}")
    return convert
