"""NumPy's BLAS threads beside ferronet's.

NumPy's BLAS (OpenBLAS in the NumPy wheels) keeps its worker threads
busy-waiting for about 0.1 s after every multi-threaded call (a 256x256
``a @ a`` is enough), ready for the next one.  On a machine with few cores
such a thread holds a core that ferronet's threads need: a training loop
that calls NumPy's matmul every few steps ran at about the speed of one
native thread.

Two remedies live here:

* :func:`share_blas_threads` (on from ``import ferronet``): OpenBLAS 0.3.27
  and later can hand its parallel jobs to a callback instead of its own
  threads.  ferronet's callback runs them on its own workers, which sleep
  soon after a call (``rust/kernels/parallel/gang.rs``).  NumPy keeps its
  thread count, its kernels and its results, bit for bit; only the threads
  that run the jobs change.  ``FERRONET_SHARE_BLAS_THREADS=0`` in the
  environment leaves NumPy's BLAS alone; ``share_blas_threads(False)`` gives
  it back its own threads.  Other BLAS libraries (MKL, Accelerate, an
  OpenBLAS older than 0.3.27) are left alone.
* :func:`numpy_blas_threads` limits NumPy's BLAS to ``n`` threads (1: it
  runs on the calling thread and starts no worker, so nothing spins), now
  and until the end of the ``with`` block or :meth:`BlasLimit.restore`.  It
  works with any BLAS threadpoolctl finds; it is opt-in because large NumPy
  matmuls then use one core.  Install with ``pip install 'ferronet[blas]'``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from ferronet import backend, optional
from ferronet.config import thread_count


class BlasLimit:
    """NumPy's BLAS held at a thread count until :meth:`restore` (or the end of a ``with`` block)."""

    def __init__(self, limiter: Any, threads: int) -> None:
        self._limiter = limiter  # threadpoolctl's limiter, holding the original counts
        self.threads = threads
        self._restored = False

    def restore(self) -> None:
        """Give NumPy's BLAS back the thread counts it had before (once; later calls do nothing)."""
        if not self._restored:
            self._restored = True
            self._limiter.restore_original_limits()

    def __enter__(self) -> BlasLimit:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.restore()

    def __repr__(self) -> str:
        state = "restored" if self._restored else "in effect"
        return f"BlasLimit(threads={self.threads}, {state})"


def numpy_blas_threads(n: int) -> BlasLimit:
    """Limit the BLAS libraries in this process (NumPy's OpenBLAS, MKL, ...) to ``n`` threads.

    ``n`` is an int >= 1 (TypeError / ValueError otherwise).  The limit holds
    from this call until the returned :class:`BlasLimit` is restored, which
    a ``with`` block does at its end::

        with ferronet.numpy_blas_threads(1):
            for x, t in batches:
                optimizer.update(net.params, net.gradient(x, t))
                ... NumPy code of your own, matmuls included ...

    Needs threadpoolctl (``pip install 'ferronet[blas]'``).
    """
    threads = thread_count(n, "the BLAS thread count")
    return BlasLimit(_controller().limit(limits=threads, user_api="blas"), threads)


@functools.cache
def _controller() -> Any:
    """threadpoolctl's view of the thread pools loaded in the process, looked up once (NumPy's BLAS is
    loaded with NumPy, before ferronet): each later limit is then a few library calls, not a search."""
    return optional.require("threadpoolctl").ThreadpoolController()


# --- NumPy's BLAS jobs on ferronet's threads -------------------------------------------------------

SHARE_ENV = "FERRONET_SHARE_BLAS_THREADS"

# OpenBLAS's setter under the names its builds export: NumPy's wheels (ILP64, prefixed), SciPy's
# (LP64, prefixed), plain builds.
_SETTER_NAMES = (
    "scipy_openblas_set_threads_callback_function64_",
    "scipy_openblas_set_threads_callback_function",
    "openblas_set_threads_callback_function64_",
    "openblas_set_threads_callback_function",
)

# library path -> the library, for those whose jobs run on ferronet's threads now
_shared: dict[str, _OpenBlas] = {}


class _OpenBlas:
    """One loaded OpenBLAS: where its parallel jobs run."""

    def __init__(self, setter: Any) -> None:
        self._setter = setter

    def jobs_to(self, address: ctypes.c_void_p | None) -> None:
        """Hand the parallel jobs to the callback at ``address`` (None: to OpenBLAS's own threads)."""
        self._setter(address)


def share_blas_threads(share: bool = True) -> tuple[str, ...]:
    """Run the parallel jobs of the OpenBLAS libraries loaded in this process on ferronet's threads
    (``share=True``; ``import ferronet`` does it) or on OpenBLAS's own threads again (``False``).

    Returns the paths of the libraries whose jobs run on ferronet's threads after the call (empty
    without the native core, or when no loaded BLAS offers the callback: OpenBLAS >= 0.3.27).  A
    library loaded later (SciPy's, say) is covered by calling this again.  BLAS calls from several
    Python threads run one at a time on ferronet's threads (OpenBLAS gives each job a scratch buffer
    by its index).  Before the first library's jobs move, it waits (at most 0.5 s; ~5 ms when nothing
    spins) until OpenBLAS's own worker has stopped busy-waiting.  ``share`` must be a bool (TypeError
    otherwise).
    """
    if not isinstance(share, bool):
        raise TypeError(f"share must be a bool, got {type(share).__name__}")
    if not share:
        for library in _shared.values():
            library.jobs_to(None)
        _shared.clear()
        return ()
    if not backend.native_available():
        return ()
    import numpy  # noqa: F401 - loads NumPy's BLAS (``import ferronet`` may come first)

    from ferronet import _native

    address = ctypes.c_void_p(_native._openblas_callback_address())
    for path in _loaded_openblas_paths():
        if path in _shared:
            continue
        library = _open_openblas(path)
        if library is not None:
            if not _shared:
                _wait_for_blas_threads_to_sleep()
            library.jobs_to(address)
            _shared[path] = library
    return tuple(sorted(_shared))


@contextlib.contextmanager
def own_blas_threads() -> Iterator[None]:
    """In the ``with`` block, the shared libraries' BLAS jobs run on OpenBLAS's own threads again (as
    without ferronet); after it, on ferronet's, once OpenBLAS's workers have stopped busy-waiting
    (about 0.1 s after the block's last BLAS call).  :func:`share_blas_threads` is the lasting switch."""
    libraries = list(_shared.values())
    for library in libraries:
        library.jobs_to(None)
    try:
        yield
    finally:
        # not those that share_blas_threads(False) gave back inside the block
        still_shared = [library for library in libraries if library in _shared.values()]
        if still_shared:
            from ferronet import _native

            _wait_for_blas_threads_to_sleep()
            address = ctypes.c_void_p(_native._openblas_callback_address())
            for library in still_shared:
                library.jobs_to(address)


def blas_sharing() -> dict[str, Any]:
    """``{"libraries": paths whose jobs run on ferronet's threads, "calls": BLAS calls run that way so
    far, "workers": ferronet threads started for them}`` (see :func:`share_blas_threads`)."""
    calls, workers = (0, 0)
    if backend.native_available():
        from ferronet import _native

        calls, workers = _native._blas_gangs()
    return {"libraries": sorted(_shared), "calls": int(calls), "workers": int(workers)}


def share_at_import() -> None:
    """What ``import ferronet`` does: :func:`share_blas_threads` unless the environment says no."""
    setting = os.environ.get(SHARE_ENV, "").strip().lower()
    if setting in ("0", "no", "off", "false"):
        return
    if setting not in ("", "1", "yes", "on", "true"):
        warnings.warn(f"{SHARE_ENV}={setting!r} is not one of 0/1 (no/yes, off/on, false/true); "
                      f"sharing NumPy's BLAS threads as by default", RuntimeWarning, stacklevel=2)
    share_blas_threads(True)


def _wait_for_blas_threads_to_sleep(limit: float = 0.5) -> None:
    """Wait, at most ``limit`` seconds, until this process's threads other than the caller and ferronet's
    stop using the CPU (Linux; elsewhere, return at once).

    OpenBLAS's worker busy-waits for ~0.1 s after a call of its own.  One that is busy-waiting when
    the jobs start running on ferronet's workers kept busy-waiting for as long as NumPy calls went
    on (measured over a second): three threads on two cores, and the jobs wait on each other, so a
    256x256 matmul took 4-8 ms instead of 0.2 ms.  Asleep, it stays asleep.  The check costs ~5 ms.
    """
    me = str(threading.get_native_id())

    def others_cpu_ns() -> int:
        total = 0
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:
            return 0
        for tid in tasks:
            try:
                with open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as comm:
                    if tid == me or comm.read().startswith("ferronet"):
                        continue
                with open(f"/proc/self/task/{tid}/schedstat", encoding="utf-8") as stat:
                    total += int(stat.read().split()[0])
            except (OSError, ValueError, IndexError):  # a thread that ended meanwhile
                continue
        return total

    if not os.path.isdir("/proc/self/task"):
        return
    deadline = time.monotonic() + limit
    last = others_cpu_ns()
    while time.monotonic() < deadline:
        time.sleep(0.005)
        now = others_cpu_ns()
        if now - last < 500_000:  # under 0.5 ms of CPU in 5 ms: nothing spins
            return
        last = now


def _loaded_openblas_paths() -> list[str]:
    """Files of the OpenBLAS libraries this process has loaded: from ``/proc/self/maps`` on Linux,
    and from the directories where NumPy's and SciPy's wheels bundle theirs (opened only if loaded)."""
    paths: set[str] = set()
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and "openblas" in os.path.basename(fields[5]).lower():
                    paths.add(fields[5].rstrip("\n"))
    except OSError:
        pass
    for package in ("numpy", "scipy"):
        module = sys.modules.get(package)
        folder = os.path.dirname(getattr(module, "__file__", None) or "")
        if not folder:
            continue
        for bundle in (folder + ".libs", os.path.join(folder, ".dylibs")):
            try:
                names = os.listdir(bundle)
            except OSError:
                continue
            paths.update(os.path.join(bundle, n) for n in names if "openblas" in n.lower())
    return sorted(p for p in paths if os.path.isfile(p))


def _open_openblas(path: str) -> _OpenBlas | None:
    """The OpenBLAS at ``path`` if the process has loaded it and it offers the threads callback."""
    no_load = getattr(os, "RTLD_NOLOAD", 0)
    if not no_load:  # cannot open without loading: leave it alone
        return None
    try:
        library = ctypes.CDLL(path, mode=no_load | os.RTLD_NOW)
    except OSError:  # not loaded in this process
        return None
    for name in _SETTER_NAMES:
        setter = getattr(library, name, None)
        if setter is not None:
            setter.argtypes = [ctypes.c_void_p]
            setter.restype = None
            return _OpenBlas(setter)
    return None
