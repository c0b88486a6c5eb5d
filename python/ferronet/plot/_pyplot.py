"""matplotlib, imported when a figure is first drawn, with one clear error when it is missing.

matplotlib is an optional extra of ferronet (``pip install 'ferronet[plot]'``),
so nothing in :mod:`ferronet.plot` imports it at module level: importing the
package always works, and drawing without matplotlib raises
:class:`PlotDependencyError` saying how to install it.

Backend: without a display (a Unix without ``DISPLAY`` or
``WAYLAND_DISPLAY``: a server, CI, an ssh session) and when the user has
not chosen a backend (``MPLBACKEND`` unset and ``matplotlib.pyplot`` not yet
imported), the non-interactive Agg backend is selected, so figures render
to files and nothing tries to open a window.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

#: How to get what :mod:`ferronet.plot` needs.
INSTALL_HINT = "pip install 'ferronet[plot]'"


class PlotDependencyError(ImportError):
    """matplotlib is not installed; the message says how to install it."""


def plotting_available() -> bool:
    """True when matplotlib can be imported (so :mod:`ferronet.plot` can draw)."""
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return False
    return True


def has_display() -> bool:
    """Whether a window could open: always on Windows and macOS, elsewhere when X11 or Wayland is there."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def pyplot() -> Any:
    """``matplotlib.pyplot``, on the Agg backend when there is no display (see the module's docstring).

    Raises :class:`PlotDependencyError` when matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise PlotDependencyError(f"ferronet.plot draws with matplotlib, which is not installed: "
                                  f"{INSTALL_HINT}") from exc
    if "matplotlib.pyplot" not in sys.modules and "MPLBACKEND" not in os.environ and not has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def require_plotting() -> None:
    """Raise :class:`PlotDependencyError` now unless matplotlib is installed (check before a long run)."""
    pyplot()
