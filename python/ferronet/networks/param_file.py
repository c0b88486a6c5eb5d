"""A network's weight file: ferronet's ``.npz``, safetensors, or the book's pickle, told apart by content.

* :func:`params_path` - the file a ``save_params`` / ``load_params`` call
  means: ``path`` or the book's keyword ``file_name``, with the format's
  extension (``.npz``, ``.safetensors``) appended only to a name without one
  (``params`` -> ``params.npz``; ``params.pkl`` stays ``params.pkl``);
* :func:`choose_format` - ``npz`` or ``safetensors``: as asked, else by the
  name's extension;
* :func:`write_params` - write arrays and the network's description
  (:func:`ferronet.networks.architecture.metadata`) atomically: as ``.npz``
  (no pickle; the description is the JSON member ``ferronet.json``) or as
  safetensors (the description is the header's ``__metadata__``);
* :func:`read_params_into` - copy a file's arrays into a network's, after
  checking every name and shape;
* :func:`read_metadata` - the description a file carries (empty for the book's pickles).

The format comes from the file's first bytes, not its name: a zip archive
is ferronet's ``.npz`` (read with :class:`ferronet.fileio.NpzReader`), a
length-prefixed JSON header is safetensors (read with
:mod:`ferronet.networks.safetensors_file`, which checks the header against
the file before reading), a pickle is the book's format (read with
:func:`ferronet.book_pickle.read_book_pickle`, which runs nothing).
Safetensors is tried before pickle: a header of 640 bytes starts with the
bytes of a protocol-2 pickle.

The book's pickles hold the parameters only.  A network with persistent
layer state (batch normalisation's running mean and variance) loads the
parameters from one and keeps its current state, with a
:class:`MissingStateWarning` naming what the file lacks; a pickle that does
hold those arrays (under ferronet's names) loads them too.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Union

import numpy as np

from ferronet.book_pickle import is_pickle, read_book_pickle
from ferronet.fileio import NpzReader, atomic_write, is_zip, write_npz
from ferronet.networks import architecture, safetensors_file

PathLike = Union[str, os.PathLike]

#: the file ``save_params()`` and ``load_params()`` use without arguments
DEFAULT_FILE = "params.npz"
#: the formats ``save_params`` writes, by name, with the extension a name without one gets
FORMATS = {"npz": ".npz", "safetensors": ".safetensors"}
#: the ``.npz`` member holding the network's description (JSON)
METADATA_MEMBER = "ferronet.json"
#: the largest description read from an ``.npz``
METADATA_LIMIT = 1 << 20
#: dtype kinds a weight file may hold for a parameter: float, int, uint
REAL_KINDS = "fiu"


class MissingStateWarning(UserWarning):
    """A weight file (the book's) had no persistent layer state; the network kept its own."""


def choose_format(path: PathLike | None, format: str | None = None) -> str:
    """``format`` (``"npz"`` or ``"safetensors"``, any case; ValueError otherwise), or when None the one
    ``path``'s extension names (``.safetensors``), else ``"npz"``."""
    if format is not None:
        chosen = str(format).lower()
        if chosen not in FORMATS:
            raise ValueError(f"unknown weight file format {format!r}; choose one of {sorted(FORMATS)}")
        return chosen
    suffix = Path(os.fspath(path)).suffix.lower() if path is not None else ""
    return next((name for name, ext in FORMATS.items() if ext == suffix), "npz")


def params_path(path: PathLike | None, file_name: PathLike | None = None, format: str = "npz") -> Path:
    """The weight file meant by ``path`` or the book's keyword ``file_name`` (one of them).

    Neither: :data:`DEFAULT_FILE` (with ``format``'s extension).  The
    extension of ``format`` is appended to a name without one (what
    ``np.savez`` does); a name with one is kept as it is.
    """
    if path is not None and file_name is not None:
        raise TypeError("give the file as path or as file_name (the book's keyword), not both")
    chosen = path if path is not None else file_name if file_name is not None else DEFAULT_FILE
    p = Path(os.fspath(chosen))
    if path is None and file_name is None:
        p = p.with_suffix(FORMATS[format])
    return p if p.suffix else p.with_name(p.name + FORMATS[format])


def write_params(target: Path, arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None,
                 format: str = "npz") -> None:
    """Write ``arrays`` and the ``metadata`` strings to ``target`` in ``format``, whatever its name
    says, atomically (see :func:`ferronet.fileio.atomic_write`)."""
    if format == "safetensors":
        safetensors_file.write(target, arrays, metadata or {})
        return
    texts = {METADATA_MEMBER: json.dumps(dict(metadata), indent=1)} if metadata else {}
    with atomic_write(target) as fh:
        write_npz(fh, arrays, texts)


def detect_format(file: Path) -> str:
    """``"npz"``, ``"safetensors"`` or ``"pickle"`` by the file's first bytes; ValueError naming the
    file for anything else (an empty file too), FileNotFoundError when it is missing."""
    with open(file, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(16)
    if is_zip(head):
        return "npz"
    if safetensors_file.is_safetensors(head, size):
        return "safetensors"
    if is_pickle(head):
        return "pickle"
    if not head:
        raise ValueError(f"{file}: the file is empty")
    raise ValueError(f"{file}: neither ferronet's .npz (a zip archive), safetensors, nor the book's pickled "
                     f"weights (it starts with {head[:8]!r})")


def read_params_into(file: Path, params: Mapping[str, np.ndarray], state: Mapping[str, np.ndarray]) -> None:
    """Copy the arrays of ``file`` into ``params`` and ``state`` in place (``np.copyto``).

    An ``.npz`` or safetensors file must hold exactly ``params`` and
    ``state``; the book's pickle must hold ``params`` and may hold
    ``state``.  Every name, shape and dtype is checked before anything is
    copied, so a bad file changes nothing: ValueError naming the file (and
    the first mismatch).  Values are converted to each target's dtype.
    FileNotFoundError when missing.
    """
    kind = detect_format(file)
    if kind == "npz":
        arrays = _read_npz(file, {**params, **state})
    elif kind == "safetensors":
        arrays = _read_safetensors(file, {**params, **state})
    else:
        arrays = _read_book_pickle(file, params, state)
    targets = {**params, **state}
    for name, value in arrays.items():
        np.copyto(targets[name], value, casting="same_kind")


def read_metadata(file: Path) -> dict[str, str]:
    """The description of the network a weight file carries (see
    :mod:`ferronet.networks.architecture`); empty when it has none (the book's pickles)."""
    kind = detect_format(file)
    if kind == "safetensors":
        return safetensors_file.read_header(file).metadata
    if kind == "npz":
        with NpzReader(file) as saved:
            text = saved.read_text(METADATA_MEMBER, METADATA_LIMIT)
        return {} if text is None else architecture.read_metadata_json(text, file)
    return {}


def _check_names(file: Path, names: list[str], required: Mapping[str, np.ndarray],
                 optional: Mapping[str, np.ndarray]) -> None:
    missing = [k for k in required if k not in names]
    unexpected = [k for k in names if k not in required and k not in optional]
    if missing or unexpected:
        raise ValueError(f"{file}: does not match this network: missing {missing}, unexpected {unexpected}")


def _check_array(file: Path, name: str, shape: tuple[int, ...], dtype: np.dtype, target: np.ndarray) -> None:
    if shape != target.shape:
        raise ValueError(f"{file}: parameter {name!r}: the file has shape {shape}, "
                         f"the network has shape {target.shape}")
    if dtype.kind not in REAL_KINDS:
        raise ValueError(f"{file}: parameter {name!r}: the file holds {dtype}, not real numbers")


def _read_npz(file: Path, targets: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every target's array from an ``.npz``, each header checked before any data is read."""
    with NpzReader(file) as saved:
        _check_names(file, [name for name in saved.names if name != METADATA_MEMBER], targets, {})
        for name, target in targets.items():
            _check_array(file, name, *saved.header(name), target)
        return {name: saved.read(name) for name in targets}


def _read_safetensors(file: Path, targets: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every target's array from a safetensors file, its whole header checked before any data is read."""
    header = safetensors_file.read_header(file)
    _check_names(file, list(header.tensors), targets, {})
    for name, target in targets.items():
        entry = header.tensors[name]
        _check_array(file, name, entry.shape, entry.dtype, target)
    return safetensors_file.read_tensors(file, list(targets))


def _read_book_pickle(file: Path, params: Mapping[str, np.ndarray],
                      state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of the book's pickle for ``params`` (and ``state`` when it has them)."""
    loaded = read_book_pickle(file)
    _check_names(file, list(loaded), params, state)
    targets = {**params, **state}
    for name, value in loaded.items():
        _check_array(file, name, value.shape, value.dtype, targets[name])
    absent = [k for k in state if k not in loaded]
    if absent:
        warnings.warn(f"{file}: the book's format holds no {absent}; they keep their current values "
                      f"(for batch normalisation's running statistics, re-estimate them with train-mode "
                      f"forward passes on training data, or save with ferronet's .npz, which keeps them)",
                      MissingStateWarning, stacklevel=4)  # the caller of load_params
    return loaded
