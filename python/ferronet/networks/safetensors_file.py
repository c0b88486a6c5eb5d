"""Weights in the safetensors format, read without trusting the file's header.

A safetensors file is 8 bytes holding ``N`` (a little-endian uint64), ``N``
bytes of a UTF-8 JSON header, then the tensors' bytes.  The header maps each
tensor's name to ``{"dtype": "F32", "shape": [...], "data_offsets": [begin,
end]}`` (offsets into the data that follows the header) and may hold a
``"__metadata__"`` map of strings.

:func:`read_header` checks all of it before any tensor is read: ``N``
against the file's size and :data:`HEADER_LIMIT`, the JSON (an object, no
repeated keys), every dtype (numbers only), every shape (non-negative ints),
and every tensor's offsets: ``end - begin`` is exactly its shape times its
item size, and the tensors tile the data, end to end, up to the file's last
byte.  Only then does :func:`read_tensors` hand the file to the
``safetensors`` package to read the chosen tensors.  :func:`write` writes
with that package, atomically (:func:`ferronet.fileio.atomic_write`).

Every problem with a file is a ValueError starting with its path; a missing
``safetensors`` package is a :class:`ferronet.optional.MissingDependencyError`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ferronet.fileio import atomic_write
from ferronet.optional import require

#: The largest header read (what the safetensors package itself allows).
HEADER_LIMIT = 100 * 2**20
#: The header's key for the string map of metadata.
METADATA_KEY = "__metadata__"
#: The safetensors dtypes NumPy holds, by their names in the header.
DTYPES: dict[str, np.dtype] = {name: np.dtype(code) for name, code in {
    "BOOL": "?", "U8": "u1", "I8": "i1", "U16": "<u2", "I16": "<i2", "U32": "<u4", "I32": "<i4",
    "U64": "<u8", "I64": "<i8", "F16": "<f2", "F32": "<f4", "F64": "<f8"}.items()}


@dataclass(frozen=True)
class TensorEntry:
    """One tensor as the header declares it: dtype, shape, and its bytes ``[begin, end)`` of the data."""

    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Header:
    """A checked header: the metadata strings and the tensors by name, in the file's order."""

    metadata: dict[str, str]
    tensors: dict[str, TensorEntry]


def is_safetensors(head: bytes, size: int) -> bool:
    """Whether a file of ``size`` bytes starting with ``head`` (at least its first 9 bytes) looks like
    safetensors: a header length that fits the file, then ``{``."""
    if len(head) < 9:
        return False
    n = int.from_bytes(head[:8], "little")
    return 2 <= n <= size - 8 and head[8:9] == b"{"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key is repeated in {sorted(keys)}")
    return dict(pairs)


def _entry(name: str, value: Any) -> TensorEntry:
    """The checked entry of tensor ``name`` (ValueError without the path)."""
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "data_offsets"}:
        raise ValueError(f"tensor {name!r}: expected dtype, shape and data_offsets, got {value!r}")
    dtype = DTYPES.get(value["dtype"]) if isinstance(value["dtype"], str) else None
    if dtype is None:
        raise ValueError(f"tensor {name!r}: dtype {value['dtype']!r} is not one NumPy holds ({sorted(DTYPES)})")
    shape, offsets = value["shape"], value["data_offsets"]
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape) or len(shape) > 32:
        raise ValueError(f"tensor {name!r}: shape must be a list of at most 32 non-negative ints, got {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        raise ValueError(f"tensor {name!r}: data_offsets must be [begin, end] with 0 <= begin <= end, got {offsets!r}")
    size = math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around
    if offsets[1] - offsets[0] != size:
        raise ValueError(f"tensor {name!r}: shape {tuple(shape)} of {value['dtype']} needs {size} bytes, "
                         f"its data_offsets {offsets} span {offsets[1] - offsets[0]}")
    return TensorEntry(dtype, tuple(shape), offsets[0], offsets[1])


def _parse(raw: bytes, data_bytes: int) -> Header:
    """The checked header from its raw bytes, for ``data_bytes`` bytes of data after it."""
    try:
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the header is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ValueError("the header is not a JSON object")
    metadata = document.pop(METADATA_KEY, {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"{METADATA_KEY} must map strings to strings")
    tensors = {name: _entry(name, value) for name, value in document.items()}
    position = 0
    for name, entry in sorted(tensors.items(), key=lambda item: (item[1].begin, item[1].end)):
        if entry.begin != position:
            what = "overlaps the one before" if entry.begin < position else "leaves a gap before it"
            raise ValueError(f"tensor {name!r} starts at byte {entry.begin} of the data and {what} "
                             f"(which ends at {position})")
        position = entry.end
    if position != data_bytes:
        raise ValueError(f"the tensors hold {position} bytes but the file has {data_bytes} bytes of data")
    return Header(metadata, tensors)


def read_header(file: Path) -> Header:
    """The header of ``file``, every size checked against the file (see the module docstring).

    ValueError starting with the path when anything does not fit; reads no tensor data.
    """
    with open(file, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        prefix = fh.read(8)
        if len(prefix) < 8:
            raise ValueError(f"{file}: too short for safetensors ({size} bytes)")
        n = int.from_bytes(prefix, "little")
        if n > HEADER_LIMIT or n > size - 8:
            raise ValueError(f"{file}: the safetensors header claims {n} bytes; the file has {size - 8} after "
                             f"the length (and at most {HEADER_LIMIT} are read)")
        raw = fh.read(n)
    try:
        return _parse(raw, size - 8 - n)
    except ValueError as exc:
        raise ValueError(f"{file}: not a valid safetensors file: {exc}") from None


def read_tensors(file: Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The tensors ``names`` of ``file`` (whose header :func:`read_header` accepted), read by the
    ``safetensors`` package."""
    safetensors = require("safetensors")
    try:
        with safetensors.safe_open(os.fspath(file), framework="numpy") as opened:
            return {name: opened.get_tensor(name) for name in names}
    except Exception as exc:  # OSError, or the package's own SafetensorError
        raise ValueError(f"{file}: the safetensors package could not read it ({type(exc).__name__}: {exc})") \
            from None


def write(target: Path, arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> None:
    """Write ``arrays`` (by name) and the ``metadata`` strings to ``target`` as safetensors, atomically."""
    save = require("safetensors.numpy").save
    data = save({name: np.ascontiguousarray(a) for name, a in arrays.items()}, metadata=dict(metadata))
    with atomic_write(target) as fh:
        fh.write(data)
