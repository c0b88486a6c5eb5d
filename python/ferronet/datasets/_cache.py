"""Where ferronet keeps data: the data directory and the ``.npz`` array cache.

The data directory is ``$FERRONET_DATA_DIR``, else ``$XDG_CACHE_HOME/ferronet``,
else ``~/.cache/ferronet``.  Downloads go to ``<data dir>/<data set>/``; parsed
arrays to ``<data dir>/npz/<data set>-<source>-<stamp>.npz`` where ``source``
hashes the directory the files came from and ``stamp`` their sizes and
modification times, so editing or replacing a source file forces a re-parse.
The cache is never written beside the source files (they may be read-only).

A cache file is written atomically (``ferronet.fileio.atomic_write``) and is
used only when it holds exactly the arrays the source files' headers
promise, checked from its ``.npy`` headers before any data is read, with
every member's CRC verified.  Anything else (truncated, garbage, keys
missing, other shapes) counts as no cache: the sources are parsed again
and the file rewritten.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ferronet.fileio import TEMP_MARK, NpzReader, atomic_write

#: What a cache file must hold: array name -> (shape, dtype).
Layout = Mapping[str, tuple[tuple[int, ...], np.dtype]]

#: Bump when the cached layout changes, to ignore older cache files.
CACHE_FORMAT = 1


def data_dir() -> Path:
    """The directory for downloaded files and the array cache (not created here)."""
    explicit = os.environ.get("FERRONET_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ferronet"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(dataset: str, sources: Sequence[Path]) -> Path:
    """The cache file for ``dataset`` parsed from the files ``sources``."""
    resolved = [Path(p).resolve() for p in sources]
    origin = _digest("\n".join(str(p.parent) for p in resolved))
    stamps = []
    for p in resolved:
        st = p.stat()
        stamps.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    stamp = _digest(f"v{CACHE_FORMAT}\n" + "\n".join(stamps))
    return data_dir() / "npz" / f"{dataset}-{origin}-{stamp}.npz"


def load(path: Path, layout: Layout) -> dict[str, np.ndarray] | None:
    """The arrays cached at ``path``, or None unless it holds every array of ``layout`` as described.

    A missing, unreadable, truncated or corrupt file, a missing key or a
    shape or dtype other than ``layout``'s all give None: a damaged cache
    is no cache.  Shapes are checked from the headers before data are read.
    """
    try:
        with NpzReader(path) as npz:
            for key, (shape, dtype) in layout.items():
                if key not in npz.names or npz.header(key) != (tuple(shape), np.dtype(dtype)):
                    return None
            return {key: npz.read(key) for key in layout}
    except (OSError, ValueError):
        return None


def _is_stale(candidate: Path, current: Path) -> bool:
    """Whether ``candidate`` is an older cache of ``current``'s origin, or a temporary file a killed writer left."""
    prefix = current.name.rsplit("-", 1)[0] + "-"  # "<data set>-<source>-"
    if candidate == current:
        return False
    if candidate.name.startswith(prefix) and candidate.name.endswith(".npz"):
        return True
    return candidate.name.startswith("." + prefix) and TEMP_MARK in candidate.name


def store(path: Path, arrays: Mapping[str, np.ndarray]) -> bool:
    """Write ``arrays`` to ``path`` atomically; drop stale caches and temporary files of the same origin.

    Returns False (and changes nothing) when the cache directory is not
    writable: caching is an optimisation, never a reason to fail.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as fh:
            np.savez(fh, **arrays)
        for old in path.parent.iterdir():
            if _is_stale(old, path):
                old.unlink(missing_ok=True)
    except OSError:
        return False
    return True
