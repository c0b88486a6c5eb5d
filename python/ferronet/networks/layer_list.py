"""The book's ``self.layers = [...]``: a list of layers that also knows their names.

The book keeps most networks' layers in an ``OrderedDict`` (``layers['Affine1']``)
but ``DeepConvNet``'s in a plain list, and its code indexes it
(``self.layers[15]`` is the first Affine layer; ``self.layers.copy()`` then
``reverse()`` for backward).  A :class:`LayerList` serves both readers with one
set of layers:

* as the book's list: ``layers[i]``, ``layers[-1]``, slices (plain lists),
  ``len``, iteration over the layers, ``reversed``, ``index``, ``copy()``
  (a plain list the caller may reverse), ``layers[i] = layer`` (replaces the
  layer, keeping its name);
* as :class:`ferronet.networks.base.LayerNetwork` reads its layer container:
  ``keys()``, ``values()``, ``items()`` in order, ``layers[name]``,
  ``layers[name] = layer`` (appends a new name, replaces an existing one) and
  ``name in layers``.

So a network that declares ``layer_container = LayerList`` runs on the same
machinery as the others, with no second copy of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Union, overload

from ferronet.layers.base import Layer

Key = Union[int, str]


class LayerList(Sequence):
    """Layers in order, each under a unique name (see the module docstring)."""

    def __init__(self) -> None:
        self._names: list[str] = []
        self._layers: list[Layer] = []

    # ------------------------------------------------------------ the book's list

    def __len__(self) -> int:
        return len(self._layers)

    @overload
    def __getitem__(self, key: int | str) -> Layer: ...

    @overload
    def __getitem__(self, key: slice) -> list[Layer]: ...

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._layers[self._position(key)]
        return self._layers[key]  # int or slice, as a list answers (IndexError, TypeError)

    def __setitem__(self, key: Key, layer: Layer) -> None:
        if isinstance(key, str):
            if key in self._names:
                self._layers[self._position(key)] = layer
            else:
                self._names.append(key)
                self._layers.append(layer)
        elif isinstance(key, slice):
            raise TypeError("LayerList does not assign slices; replace layers one index or name at a time")
        else:
            self._layers[key] = layer  # the name at that position stays

    def __iter__(self) -> Iterator[Layer]:
        return iter(self._layers)

    def __reversed__(self) -> Iterator[Layer]:
        return reversed(self._layers)

    def __contains__(self, item: object) -> bool:
        """A name (str) or a layer (by identity)."""
        if isinstance(item, str):
            return item in self._names
        return any(layer is item for layer in self._layers)

    def copy(self) -> list[Layer]:
        """The layers as a new plain list (the book reverses this copy for backward)."""
        return list(self._layers)

    # ------------------------------------------------------------ the dict view

    def keys(self) -> list[str]:
        """The layer names, in order."""
        return list(self._names)

    def values(self) -> list[Layer]:
        """The layers, in order."""
        return list(self._layers)

    def items(self) -> list[tuple[str, Layer]]:
        """``(name, layer)`` pairs, in order."""
        return list(zip(self._names, self._layers))

    def name_of(self, index: int) -> str:
        """The name of the layer at ``index``."""
        return self._names[index]

    def _position(self, name: str) -> int:
        try:
            return self._names.index(name)
        except ValueError:
            raise KeyError(name) from None

    def __repr__(self) -> str:
        inner = ", ".join(f"{i}: {name} {type(layer).__name__}"
                          for i, (name, layer) in enumerate(zip(self._names, self._layers)))
        return f"LayerList([{inner}])"
