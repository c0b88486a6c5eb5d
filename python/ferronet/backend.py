"""Which implementation of the kernels runs: ``"native"`` (Rust) or ``"numpy"``.

The policy only: the choice is process-wide.  It starts from the
``FERRONET_BACKEND`` environment variable, else ``"native"`` when the
compiled core loaded, else ``"numpy"`` with one warning.  ``use_backend``
switches it for a block.  ``ferronet.ops`` reads it on every kernel call.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator

BACKENDS = ("native", "numpy")

try:
    from ferronet import _native  # noqa: F401 - only whether it loads matters here

    NATIVE_ERROR: str | None = None
except ImportError as exc:  # the wheel was not built, or built for another platform
    NATIVE_ERROR = str(exc)

_active = "numpy"


def native_available() -> bool:
    """True when the compiled Rust core (``ferronet._native``) was imported."""
    return NATIVE_ERROR is None


def get_backend() -> str:
    """The active backend's name: ``"native"`` or ``"numpy"``."""
    return _active


def set_backend(name: str) -> None:
    """Make ``name`` (``"native"`` or ``"numpy"``) the active backend."""
    global _active
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
    if name == "native" and not native_available():
        raise RuntimeError(f"the native backend is not available: {NATIVE_ERROR}")
    _active = name


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
    elif native_available():
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
