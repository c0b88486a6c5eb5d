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


def int_at_least(value: object, least: int, what: str) -> int:
    """``value`` as an int >= ``least`` (TypeError for floats, bools and other types, ValueError below
    ``least``; the messages start with ``what``)."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an int, got bool")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be an int, got {type(value).__name__}") from None
    if number < least:
        raise ValueError(f"{what} must be at least {least}, got {number}")
    return number


def thread_count(n: object, what: str = "the thread count") -> int:
    """``n`` as a thread count: an int >= 1 (see :func:`int_at_least`)."""
    return int_at_least(n, 1, what)


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


def set_buffer_cache(max_bytes: int) -> None:
    """Keep at most ``max_bytes`` of freed native output arrays for reuse (0: keep none).

    A native kernel's output of 16 KiB or more takes its memory from a cache
    of blocks that earlier outputs of the same size gave back when Python
    freed them: a training loop asks for the same sizes every step, and a
    reused block is already mapped (fresh memory costs a page fault per
    4 KiB).  The default keeps up to an eighth of the machine's memory, at
    most 1 GiB.  Lowering the limit frees what is over it.  ``max_bytes``
    must be an int >= 0 (TypeError / ValueError otherwise).
    """
    limit = int_at_least(max_bytes, 0, "max_bytes")
    native = _native()
    if native is not None:
        native.set_buffer_cache_limit(min(limit, 2**63 - 1))


def release_buffers() -> int:
    """Give the memory kept for reuse (see :func:`set_buffer_cache`) back to the system; returns its bytes."""
    native = _native()
    return int(native.release_buffers()) if native is not None else 0


def buffer_cache() -> dict[str, Any]:
    """``{"kept": bytes kept for reuse now, "limit": the most kept, "poison": whether new native outputs
    start as NaN}`` (zeros without the native core).  ``FERRONET_POISON_OUTPUTS=1`` in the environment
    turns the poison on, a debugging switch: a kernel that leaves an element unwritten then shows it."""
    native = _native()
    kept, limit, poison = native.buffer_cache() if native is not None else (0, 0, False)
    return {"kept": int(kept), "limit": int(limit), "poison": bool(poison)}


def build_info() -> dict[str, Any]:
    """The version, whether the native core loaded, its SIMD features, threads, backend."""
    from ferronet.numpy_blas import blas_sharing  # numpy_blas uses this module's thread_count

    native = _native()
    info: dict[str, Any] = {
        "version": __version__,
        "native": native is not None,
        "native_error": backend.NATIVE_ERROR,
        "simd": list(native.simd_features()) if native is not None else [],
        "simd_kernels": native.simd_tier() if native is not None else None,
        "num_threads": get_num_threads(),
        "buffer_cache": buffer_cache(),
        "backend": backend.get_backend(),
        "numpy_blas": blas_sharing(),
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
    if info["native"]:
        cache = info["buffer_cache"]
        poison = " (new outputs start as NaN: FERRONET_POISON_OUTPUTS)" if cache["poison"] else ""
        print(f"  buffers     : {cache['kept'] / 2**20:.1f} MiB kept for reuse, "
              f"at most {cache['limit'] / 2**20:.0f} MiB{poison}")
    print(f"  backend     : {info['backend']}")
    sharing = info["numpy_blas"]
    if sharing["libraries"]:
        names = ", ".join(os.path.basename(path) for path in sharing["libraries"])
        print(f"  NumPy BLAS  : parallel jobs on ferronet's threads ({names}; {sharing['calls']} calls so far)")
    else:
        print("  NumPy BLAS  : its own threads")
