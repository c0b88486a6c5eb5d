"""Where ferronet keeps data: the data directory and the ``.npz`` array cache.

The data directory is ``$FERRONET_DATA_DIR``, else ``$XDG_CACHE_HOME/ferronet``,
else ``~/.cache/ferronet``.  Downloads go to ``<data dir>/<data set>/``; parsed
arrays to ``<data dir>/npz/<data set>-<source>-<stamp>.npz`` where ``source``
hashes the directory the files came from and ``stamp`` their sizes and
modification times, so editing or replacing a source file forces a re-parse.
The cache is never written beside the source files (they may be read-only).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

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


def load(path: Path, keys: Sequence[str]) -> dict[str, np.ndarray] | None:
    """The arrays cached at ``path``, or None when absent, unreadable or incomplete."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not set(keys) <= set(npz.files):
                return None
            return {k: npz[k] for k in keys}
    except (OSError, ValueError, EOFError):
        return None


def store(path: Path, arrays: Mapping[str, np.ndarray]) -> bool:
    """Write ``arrays`` to ``path`` atomically; drop stale caches of the same origin.

    Returns False (and changes nothing) when the cache directory is not
    writable: caching is an optimisation, never a reason to fail.
    """
    prefix = path.name.rsplit("-", 1)[0] + "-"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in path.parent.glob(prefix + "*.npz"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        return False
    return True
