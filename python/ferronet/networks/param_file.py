"""A network's weight file: ferronet's ``.npz``, or the book's pickle, told apart by content.

* :func:`params_path` - the file a ``save_params`` / ``load_params`` call
  means: ``path`` or the book's keyword ``file_name``, with ``.npz``
  appended only to a name without an extension (``params`` ->
  ``params.npz``; ``params.pkl`` stays ``params.pkl``);
* :func:`write_params` - write arrays as ``.npz`` (no pickle), atomically;
* :func:`read_params_into` - copy a file's arrays into a network's, after
  checking every name and shape.  The format comes from the file's first
  bytes, not its name: a zip archive is ferronet's ``.npz`` (read with
  :class:`ferronet.fileio.NpzReader`), a pickle is the book's format (read
  with :func:`ferronet.book_pickle.read_book_pickle`, which runs nothing).

The book's pickles hold the parameters only.  A network with persistent
layer state (batch normalisation's running mean and variance) loads the
parameters from one and keeps its current state, with a
:class:`MissingStateWarning` naming what the file lacks; a pickle that does
hold those arrays (under ferronet's names) loads them too.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Union

import numpy as np

from ferronet.book_pickle import is_pickle, read_book_pickle
from ferronet.fileio import NpzReader, atomic_write, is_zip

PathLike = Union[str, os.PathLike]

#: the file ``save_params()`` and ``load_params()`` use without arguments
DEFAULT_FILE = "params.npz"
#: dtype kinds a weight file may hold for a parameter: float, int, uint
REAL_KINDS = "fiu"


class MissingStateWarning(UserWarning):
    """A weight file (the book's) had no persistent layer state; the network kept its own."""


def params_path(path: PathLike | None, file_name: PathLike | None = None) -> Path:
    """The weight file meant by ``path`` or the book's keyword ``file_name`` (one of them).

    Neither: :data:`DEFAULT_FILE`.  ``.npz`` is appended to a name without
    an extension (what ``np.savez`` does); a name with one is kept as it is.
    """
    if path is not None and file_name is not None:
        raise TypeError("give the file as path or as file_name (the book's keyword), not both")
    chosen = path if path is not None else file_name if file_name is not None else DEFAULT_FILE
    p = Path(os.fspath(chosen))
    return p if p.suffix else p.with_name(p.name + ".npz")


def write_params(target: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``target`` as an ``.npz`` archive, whatever its name says, atomically
    (see :func:`ferronet.fileio.atomic_write`)."""
    with atomic_write(target) as fh:
        np.savez(fh, **arrays)


def read_params_into(file: Path, params: Mapping[str, np.ndarray], state: Mapping[str, np.ndarray]) -> None:
    """Copy the arrays of ``file`` into ``params`` and ``state`` in place (``np.copyto``).

    An ``.npz`` must hold exactly ``params`` and ``state``; the book's pickle
    must hold ``params`` and may hold ``state``.  Every name, shape and
    dtype is checked before anything is copied, so a bad file changes
    nothing: ValueError naming the file (and the first mismatch).  Values
    are converted to each target's dtype.  FileNotFoundError when missing.
    """
    with open(file, "rb") as fh:
        head = fh.read(8)
    if is_zip(head):
        arrays = _read_npz(file, {**params, **state})
    elif is_pickle(head):
        arrays = _read_book_pickle(file, params, state)
    elif not head:
        raise ValueError(f"{file}: the file is empty")
    else:
        raise ValueError(f"{file}: neither ferronet's .npz (a zip archive) nor the book's pickled weights "
                         f"(it starts with {head!r})")
    targets = {**params, **state}
    for name, value in arrays.items():
        np.copyto(targets[name], value, casting="same_kind")


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
        _check_names(file, saved.names, targets, {})
        for name, target in targets.items():
            _check_array(file, name, *saved.header(name), target)
        return {name: saved.read(name) for name in targets}


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
