"""Two trainings at once: two SimpleConvNet processes against one alone (group ``two_processes``).

Users run several trainings side by side (a hyper-parameter sweep, two
notebooks).  For a backend (native, torch), two training processes
(``bench/training_process.py``) start once, each at the run's thread count,
build SimpleConvNet and its data and warm up.  A timed call of

* ``SimpleConvNet, 1 process alone`` releases the first process for
  ``Sizes.process_steps`` Adam steps (batch 100) and waits for it;
* ``SimpleConvNet, 2 processes together`` releases both with one start
  signal (the start line written to both pipes back to back) and waits for
  both: 2 x ``process_steps`` steps.

The two are a :class:`Bundle` (samples interleaved); steps/s is the
``rate`` column, the combined figure for the pair.  The side-by-side run
(``bench/side_by_side.py``) starts a pair of processes at each thread count
it compares (the backend ``"native@1"``: processes at 1 thread).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import ModuleType

from ferronet.bench.cases import Built, Bundle, Case, Sizes
from ferronet.bench.released import ReleasedProcesses
from ferronet.bench.side_by_side import parse as parse_backend
from ferronet.bench.training import SIMPLE_CONVNET, uses_real_data


class TrainingProcesses(ReleasedProcesses):
    """``count`` training processes of one backend, started now and released together on each :meth:`release`."""

    def __init__(self, count: int, backend: str, *, network: str, threads: int, steps: int, batch: int,
                 samples: int, use_real: bool) -> None:
        from ferronet.bench.worker import child_env

        cmd = [sys.executable, "-m", "ferronet.bench.training_process", "--network", network, "--backend", backend,
               "--threads", str(threads), "--steps", str(steps), "--batch", str(batch), "--samples", str(samples)]
        if not use_real:
            cmd.append("--random-data")
        self.backend = backend
        super().__init__(cmd, count, child_env(threads), f"{backend} training process")


def two_processes_bundle(sizes: Sizes, threads: int, torch: ModuleType | None, use_real: bool) -> Bundle:
    """SimpleConvNet training: one process alone and two together, native and torch."""
    steps, batch = sizes.process_steps, sizes.convnet_batch
    real = uses_real_data(SIMPLE_CONVNET.input_shape, use_real)
    started: dict[str, TrainingProcesses] = {}

    def builder(count: int):
        def build(backend: str) -> Built | None:
            library, at = parse_backend(backend)  # "native@1": processes at 1 thread (side by side)
            if library == "numpy" or (library == "torch" and torch is None):
                return None
            if backend not in started:
                started[backend] = TrainingProcesses(2, library, network="simple_convnet",
                                                     threads=at or threads, steps=steps, batch=batch,
                                                     samples=sizes.convnet_samples, use_real=real)
            processes = started[backend]
            return Built(lambda: processes.release(count), close=processes.close)

        return build

    data = f"batch {batch} ({'Fashion-MNIST' if real else 'random'})"
    alone = Case("two_processes", f"{SIMPLE_CONVNET.name}, 1 process alone", f"{steps} steps of {data}",
                 builder(1), "steps/s", float(steps), steps=steps, number=1, repeats=sizes.process_repeats,
                 info={"processes": 1}, in_process=False)
    together = Case("two_processes", f"{SIMPLE_CONVNET.name}, 2 processes together",
                    f"2 x {steps} steps of {data}, one start signal", builder(2), "steps/s", float(2 * steps),
                    steps=2 * steps, number=1, repeats=sizes.process_repeats,
                    info={"processes": 2, "alone": alone.label}, in_process=False)
    return Bundle((alone, together))


def suite(sizes: Sizes, threads: int, torch: ModuleType | None, use_real: bool) -> Iterator[Bundle]:
    yield two_processes_bundle(sizes, threads, torch, use_real)
