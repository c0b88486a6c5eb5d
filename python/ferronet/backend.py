"""Which implementation of the kernels runs: ``"native"`` (Rust) or ``"numpy"``.

The choice is process-wide.  It starts from the ``FERRONET_BACKEND``
environment variable, else ``"native"`` when the compiled core loaded, else
``"numpy"`` with one warning.  ``use_backend`` switches it for a block.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from types import ModuleType

from ferronet.ops import reference

BACKENDS = ("native", "numpy")

try:
    from ferronet.ops import native as _native_ops

    NATIVE_ERROR: str | None = None
except ImportError as exc:  # the wheel was not built, or built for another platform
    _native_ops = None  # type: ignore[assignment]
    NATIVE_ERROR = str(exc)

_active_name = "numpy"
_active_ops: ModuleType = reference


def native_available() -> bool:
    """True when the compiled Rust core (``ferronet._native``) was imported."""
    return _native_ops is not None


def get_backend() -> str:
    """The active backend's name: ``"native"`` or ``"numpy"``."""
    return _active_name


def active_ops() -> ModuleType:
    """The module whose functions ``ferronet.ops`` dispatches to right now."""
    return _active_ops


def set_backend(name: str) -> None:
    """Make ``name`` (``"native"`` or ``"numpy"``) the active backend."""
    global _active_name, _active_ops
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
    if name == "native":
        if _native_ops is None:
            raise RuntimeError(f"the native backend is not available: {NATIVE_ERROR}")
        _active_ops = _native_ops
    else:
        _active_ops = reference
    _active_name = name


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Run a block with another backend, restoring the previous one after it."""
    previous = get_backend()
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


def _initial_backend() -> None:
    requested = os.environ.get("FERRONET_BACKEND", "").strip().lower()
    if requested and requested not in BACKENDS:
        raise ValueError(f"FERRONET_BACKEND={requested!r} is not one of {BACKENDS}")
    if requested == "numpy":
        set_backend("numpy")
    elif _native_ops is not None:
        set_backend("native")
    else:
        warnings.warn(
            f"ferronet's native core could not be loaded ({NATIVE_ERROR}); "
            "using the NumPy backend, which is much slower",
            RuntimeWarning,
            stacklevel=3,
        )
        set_backend("numpy")


_initial_backend()
