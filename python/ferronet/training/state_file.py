"""A nested state (dicts of numbers, strings and arrays) in one ``.npz`` file, without pickle.

A *state* is a tree of dicts with string keys whose leaves are NumPy
arrays (numbers or bools, any shape) or JSON values: None, bools, ints of
any size, floats (NaN and infinities included), strings, and lists of
those.  :func:`write_state` stores each array as a member of an ``.npz``
archive named by its path in the tree (``optimizer/state/m/W1``) and the
rest as one JSON document (UTF-8 bytes in the uint8 member ``__state__``),
in which each array is replaced by ``{"__array__": member name}``.  The
write is atomic (:func:`ferronet.fileio.atomic_write`).

:func:`read_state` reads the file back with :class:`ferronet.fileio.NpzReader`:
nothing is unpickled and nothing in the file is run.  Every problem -
not an archive, truncated, a bad CRC, not a state file, a missing array -
is a ValueError whose message starts with the file's path.  Tuples come
back as lists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

import numpy as np

from ferronet.fileio import NpzReader, atomic_write

PathLike = Union[str, os.PathLike]

#: The archive member holding the JSON document.
DOCUMENT = "__state__"
#: The key that marks an array's place in the JSON document.
ARRAY_MARK = "__array__"
#: What the JSON document says it is.
FORMAT = "ferronet-state"
VERSION = 1


def _split(tree: Any, path: str, arrays: dict[str, np.ndarray]) -> Any:
    """``tree`` as JSON values, its arrays moved into ``arrays`` (member name -> array)."""
    if isinstance(tree, np.ndarray):
        if tree.dtype.hasobject:
            raise TypeError(f"state entry {path!r}: arrays of Python objects cannot be saved without pickle")
        name = path or "array"
        while name in arrays or name == DOCUMENT:
            name += "'"
        arrays[name] = tree
        return {ARRAY_MARK: name}
    if isinstance(tree, Mapping):
        if ARRAY_MARK in tree:
            raise ValueError(f"state entry {path!r}: the key {ARRAY_MARK!r} is reserved")
        out = {}
        for key, value in tree.items():
            if not isinstance(key, str):
                raise TypeError(f"state entry {path!r}: keys must be strings, got {key!r}")
            out[key] = _split(value, f"{path}/{key}" if path else key, arrays)
        return out
    if isinstance(tree, (list, tuple)):
        return [_split(value, f"{path}/{i}", arrays) for i, value in enumerate(tree)]
    if isinstance(tree, np.generic):
        return tree.item()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"state entry {path!r}: cannot save a {type(tree).__name__} (numbers, strings, "
                    f"lists, dicts and NumPy arrays only)")


def write_state(path: PathLike, state: Mapping[str, Any]) -> Path:
    """Write ``state`` (a dict, see the module's docstring) to ``path`` atomically; returns the path.

    The name is used as given (no extension is added).  TypeError for a
    value that cannot be stored without pickle.
    """
    target = Path(os.fspath(path))
    arrays: dict[str, np.ndarray] = {}
    document = {"format": FORMAT, "version": VERSION, "state": _split(dict(state), "", arrays)}
    text = json.dumps(document, allow_nan=True, separators=(",", ":"))
    members = {DOCUMENT: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    with atomic_write(target) as fh:
        np.savez(fh, **members)
    return target


def _join(tree: Any, arrays: Mapping[str, np.ndarray], file: Path) -> Any:
    """The JSON document ``tree`` with each array mark replaced by its array."""
    if isinstance(tree, dict):
        if set(tree) == {ARRAY_MARK}:
            name = tree[ARRAY_MARK]
            if name not in arrays:
                raise ValueError(f"{file}: the state refers to an array {name!r} the file does not hold")
            return arrays[name]
        return {key: _join(value, arrays, file) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_join(value, arrays, file) for value in tree]
    return tree


def read_state(path: PathLike) -> dict[str, Any]:
    """The state :func:`write_state` wrote to ``path``.

    FileNotFoundError when missing; ValueError starting with the path for
    anything else wrong with the file.
    """
    file = Path(os.fspath(path))
    with NpzReader(file) as archive:
        if DOCUMENT not in archive.names:
            raise ValueError(f"{file}: not a ferronet state file (it has no {DOCUMENT!r} member; "
                             f"a weight file from save_params is not a training state)")
        raw = archive.read(DOCUMENT)
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"{file}: the {DOCUMENT!r} member is not UTF-8 text")
        try:
            document = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{file}: the state document is damaged ({exc})") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"{file}: not a ferronet state file")
        if document.get("version") != VERSION:
            raise ValueError(f"{file}: state format version {document.get('version')!r}; this ferronet reads "
                             f"version {VERSION}")
        if not isinstance(document.get("state"), dict):
            raise ValueError(f"{file}: the state document holds no state")
        arrays = {name: archive.read(name) for name in archive.names if name != DOCUMENT}
    return _join(document["state"], arrays, file)
