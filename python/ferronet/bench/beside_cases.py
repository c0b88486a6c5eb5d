"""Training steps beside the user's own NumPy code, against the same steps alone.

Users train in a loop beside NumPy code of their own, and every library's
thread pool (ferronet's, OpenBLAS's under NumPy, torch's) can keep the
cores busy after its work.  Group ``beside_numpy`` times two cases together
(a :class:`Bundle`, samples interleaved) for the MLP 784-100-100-10 and for
SimpleConvNet (Adam, batch 100, real Fashion-MNIST batches):

* ``<net> step alone``: each call is ``Sizes.beside_period`` (10) steps;
* ``<net> step beside NumPy``: each call is the same steps, then one NumPy
  ``a @ a`` of a 256x256 float32 ``a``.  The matmul (the case's
  :class:`Load`) is also timed alone; the report takes its time off each
  call before dividing by the steps, so what the two libraries cost each
  other, and only that, is added to the step.  Everything runs as
  imported: NumPy's BLAS jobs on ferronet's threads (``share_blas_threads``),
  PyTorch's rows included (they run in the same process; a PyTorch user
  without ferronet has OpenBLAS's own threads).  The same loops with
  OpenBLAS's own threads are the run with ``FERRONET_SHARE_BLAS_THREADS=0``
  (switching per sample would leave OpenBLAS's worker busy-waiting beside
  the next sample's, see ``numpy_blas``);
* ``<net> step beside NumPy, its BLAS at 1 thread``: the same, each call
  inside ``ferronet.numpy_blas_threads(1)`` (what the README advises for
  BLAS libraries ferronet cannot share: NumPy's matmul then runs on the calling thread
  and leaves no OpenBLAS thread spinning); its matmul is timed under the
  same limit.  Left out without threadpoolctl.

Each sample is taken after its function has run, untimed, for
``Sizes.beside_settle`` seconds (0.2 s): a user's loop is timed in the
state it keeps the machine in.  Without it, a sample after one that left a
BLAS worker busy-waiting (~0.1 s after its last call) would be charged for
a spinner its own loop never starts.

Native and PyTorch; the NumPy backend is left out (optional, and slow).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from ferronet.bench.cases import Built, Bundle, Case, Load, Sizes, normal, seeded
from ferronet.bench.training import SIMPLE_CONVNET, Network, adam_run, epoch_data, mlp
from ferronet.numpy_blas import numpy_blas_threads
from ferronet.optional import MissingDependencyError


def blas_limit_available() -> bool:
    """Whether ``numpy_blas_threads`` works here (threadpoolctl installed)."""
    try:
        numpy_blas_threads(1).restore()
    except MissingDependencyError:
        return False
    return True


def one_blas_thread(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` run with NumPy's BLAS at one thread."""

    def limited() -> Any:
        with numpy_blas_threads(1):
            return fn()

    return limited


def numpy_matmul(n: int) -> Load:
    """The user's NumPy code: ``a @ a`` for an (n, n) float32 ``a``."""
    a = normal(seeded(16), n, n)
    return Load(f"NumPy {n}x{n} @ {n}x{n} float32 matmul", lambda: a @ a)


def steps_bundle(network: Network, *, samples: int, batch: int, sizes: Sizes, torch: ModuleType | None,
                 use_real: bool) -> Bundle:
    """``network``'s steps alone, beside a NumPy matmul every ``sizes.beside_period`` steps, and (with
    threadpoolctl) the same with NumPy's BLAS held at one thread."""
    x, t, source = epoch_data(samples, network.input_shape, use_real)
    period, load = sizes.beside_period, numpy_matmul(sizes.beside_matmul)

    def builder(then: Callable[[], Any] | None, limited: bool = False) -> Callable[[str], Built | None]:
        def build(backend: str) -> Built | None:
            if backend == "numpy" or (backend == "torch" and torch is None):
                return None
            run = adam_run(network, backend, x, t, batch, torch)
            if then is None:
                return Built(lambda: run(period))

            def run_beside() -> None:
                run(period)
                then()

            return Built(one_blas_thread(run_beside) if limited else run_beside)

        return build

    steps = f"batch {batch} ({source}), {period} steps per call"
    alone = Case("beside_numpy", f"{network.name} step alone", steps, builder(None), steps=period,
                 repeats=sizes.beside_repeats, min_time=sizes.together_min_time, settle=sizes.beside_settle,
                 info={"data": source})
    beside = Case("beside_numpy", f"{network.name} step beside NumPy", f"{steps} + {load.what}",
                  builder(load.fn), steps=period, min_time=sizes.together_min_time, load=load,
                  info={"data": source, "alone": alone.label})
    if not blas_limit_available():
        return Bundle((alone, beside))
    limited_load = Load(f"{load.what}, one BLAS thread", one_blas_thread(load.fn))
    limited = Case("beside_numpy", f"{network.name} step beside NumPy, its BLAS at 1 thread",
                   f"{steps} + {limited_load.what}, each call in numpy_blas_threads(1)",
                   builder(load.fn, limited=True), steps=period, min_time=sizes.together_min_time,
                   load=limited_load, info={"data": source, "alone": alone.label})
    return Bundle((alone, beside, limited))


def suite(sizes: Sizes, torch: ModuleType | None, use_real: bool) -> Iterator[Bundle]:
    """The MLP's steps, then SimpleConvNet's."""
    yield steps_bundle(mlp(sizes.net), samples=sizes.epoch_samples, batch=sizes.batch, sizes=sizes, torch=torch,
                       use_real=use_real)
    yield steps_bundle(SIMPLE_CONVNET, samples=sizes.convnet_samples, batch=sizes.convnet_batch, sizes=sizes,
                       torch=torch, use_real=use_real)
