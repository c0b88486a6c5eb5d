"""Thread count and a description of the build (``show_config``)."""

from __future__ import annotations

import operator
import os
import warnings
from typing import Any

from ferronet import backend
from ferronet._version import __version__


def _native() -> Any:
    if not backend.native_available():
        return None
    from ferronet import _native

    return _native


def thread_count(n: object, what: str = "the thread count") -> int:
    """``n`` as a thread count: an int >= 1 (TypeError for floats, bools and other types, ValueError
    below 1; the messages start with ``what``)."""
    if isinstance(n, bool):
        raise TypeError(f"{what} must be an int, got bool")
    try:
        count = operator.index(n)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be an int, got {type(n).__name__}") from None
    if count < 1:
        raise ValueError(f"{what} must be at least 1, got {count}")
    return count


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in the native kernels.

    ``n`` must be an int >= 1 (TypeError for floats, bools and other types,
    ValueError below 1).  More threads than :func:`max_threads` (a few per
    CPU) only add contention: the count is capped there, with a
    ``RuntimeWarning``.  Small problems stay on one thread whatever ``n``
    is, and while other runnable threads (another process, NumPy's BLAS
    workers) leave fewer than ``n`` CPUs free a kernel runs on fewer; its
    result is the same either way.  The NumPy backend is not affected (its BLAS reads
    ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` at start-up).
    """
    count = thread_count(n)
    native = _native()
    if native is None:
        return
    effective = int(native.set_num_threads(count))
    if effective < count:
        warnings.warn(f"ferronet uses at most {effective} threads on this machine "
                      f"({os.cpu_count()} CPUs); {count} were asked for", RuntimeWarning, stacklevel=2)


def max_threads() -> int:
    """The most threads :func:`set_num_threads` accepts here (a few per CPU)."""
    native = _native()
    if native is None:
        return 4 * (os.cpu_count() or 1)
    return int(native.max_threads())


def get_num_threads() -> int:
    """Threads the native kernels may use (the CPU count when never set)."""
    native = _native()
    if native is None:
        return os.cpu_count() or 1
    return int(native.get_num_threads())


def build_info() -> dict[str, Any]:
    """The version, whether the native core loaded, its SIMD features, threads, backend."""
    native = _native()
    info: dict[str, Any] = {
        "version": __version__,
        "native": native is not None,
        "native_error": backend.NATIVE_ERROR,
        "simd": list(native.simd_features()) if native is not None else [],
        "simd_kernels": native.simd_tier() if native is not None else None,
        "num_threads": get_num_threads(),
        "backend": backend.get_backend(),
    }
    if native is not None:
        info["native_version"] = native.__version__
    return info


def show_config() -> None:
    """Print :func:`build_info` in a readable form."""
    info = build_info()
    print(f"ferronet {info['version']}")
    if info["native"]:
        print(f"  native core : loaded (version {info['native_version']})")
        print(f"  SIMD        : {', '.join(info['simd']) or 'none detected'} "
              f"(element-wise kernels use {info['simd_kernels']})")
    else:
        print(f"  native core : NOT loaded ({info['native_error']})")
    print(f"  threads     : {info['num_threads']}")
    print(f"  backend     : {info['backend']}")
