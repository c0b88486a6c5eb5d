"""Saving a figure as a PNG, atomically (:func:`ferronet.fileio.atomic_write`).

The image is rendered in memory first and then written in one go, so a
crash or an error while drawing never leaves a half-written PNG where a
good one was.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Union

from ferronet.fileio import atomic_write

PathLike = Union[str, os.PathLike]

#: Resolution of the saved PNGs (dots per inch); figure sizes are in inches.
DPI = 110


def save_figure(figure: Any, path: PathLike, dpi: int = DPI) -> Path:
    """Write ``figure`` (a matplotlib Figure) to ``path`` as a PNG, atomically; returns the path.

    The name is used as given (PNG whatever its extension); its directory must exist.
    """
    target = Path(os.fspath(path))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    with atomic_write(target) as fh:
        fh.write(buffer.getvalue())
    return target


def finish(figure: Any, path: PathLike | None) -> Any:
    """Save ``figure`` to ``path`` when one is given; return the figure (what every plot function ends with)."""
    if path is not None:
        save_figure(figure, path)
    return figure
