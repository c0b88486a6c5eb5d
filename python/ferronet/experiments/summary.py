"""An experiment's JSON summary: what ran, on what, how long it took, and what came out."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ferronet.fileio import atomic_write


def plain(value: Any) -> Any:
    """``value`` as JSON data: NumPy numbers and arrays become Python ones, paths their names,
    non-finite floats None (JSON has no NaN); mappings and sequences recursively."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, Path):
        return value.name
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value


def environment() -> dict[str, Any]:
    """Where it ran: ferronet's version, backend and threads, the machine's cores."""
    import ferronet

    return {"ferronet": ferronet.__version__, "backend": ferronet.get_backend(),
            "threads": ferronet.get_num_threads(), "cpu_count": os.cpu_count()}


def write_summary(path: Path, summary: Mapping[str, Any]) -> Path:
    """Write ``summary`` as indented JSON to ``path``, atomically; returns the path."""
    text = json.dumps(plain(summary), indent=2, allow_nan=False) + "\n"
    with atomic_write(path) as fh:
        fh.write(text.encode("utf-8"))
    return path
