"""NumPy's BLAS threads beside ferronet's: a limit to set around a training loop.

NumPy's BLAS (OpenBLAS in the NumPy wheels) keeps its worker threads
busy-waiting for about 0.1 s after every multi-threaded call (a 256x256
``a @ a`` is enough), ready for the next one.  On a machine with few cores,
such a thread holds a core that ferronet's threads need: a training loop
that calls NumPy's matmul every few steps runs at about the speed of one
native thread (measured in ``ferronet bench``, group ``beside_numpy``).
ferronet's own runtime yields and never waits for a helper that is not
running, so it is never slower than one thread, but it cannot get the core
back from a thread that spins without yielding.

:func:`numpy_blas_threads` limits NumPy's BLAS to ``n`` threads (1: it runs
on the calling thread and starts no worker, so nothing spins), now and until
the end of the ``with`` block or :meth:`BlasLimit.restore`.  It uses
threadpoolctl, which finds the BLAS libraries loaded in the process; it is
opt-in because it changes NumPy's behaviour (large NumPy matmuls then use
one core).  Install with ``pip install 'ferronet[blas]'``.
"""

from __future__ import annotations

import functools
from types import TracebackType
from typing import Any

from ferronet import optional
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
