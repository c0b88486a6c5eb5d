"""The Dask cluster trials run on, and the ferronet threads of each worker.

* :func:`local_cluster` - worker processes on this machine, on loopback: as
  many as it has cores (or ``n_workers``), one trial at a time each;
* :func:`connect` - a client of an existing cluster (``dask scheduler`` and
  ``dask worker`` processes on one or many machines);
* :func:`worker_threads` - run on a worker: its ferronet threads, so that
  the trials running at once on one machine use its cores and no more
  (workers x task threads x ferronet threads = cores);
* :func:`set_worker_threads` - set that on every worker of a client now
  (for work that is not a search's trial, e.g. scikit-learn through
  joblib's Dask backend).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

#: seconds to wait for a scheduler to answer
CONNECT_TIMEOUT = 20


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def local_cluster(n_workers: int | None = None) -> Any:
    """A ``distributed.LocalCluster`` of ``n_workers`` worker processes (default: one per core) on
    127.0.0.1, each running one task at a time.

    The scheduler's HTTP server (its dashboard, when bokeh is installed)
    listens on a free loopback port: Dask's default, 8787 on every
    interface, is taken by any other cluster on the machine (then Dask
    warns and picks another one anyway).

    The worker processes are started with ``spawn``: each runs the main
    script's top level again, so a script calls this (and
    :func:`ferronet.search.search`) under ``if __name__ == "__main__":``.

    A worker process that dies while running a trial is restarted, and the
    trial fails at once (``allowed-failures`` 0: Dask does not run it again
    elsewhere).  Dask's own log lines below CRITICAL are silenced: the
    search reports what happens to each trial.
    """
    import dask
    from distributed import LocalCluster

    n = usable_cores() if n_workers is None else int(n_workers)
    if n < 1:
        raise ValueError(f"a local cluster needs at least one worker, got {n_workers}")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        try:
            return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL)
        except RuntimeError as exc:  # Dask's "Nanny failed to start.", whatever the cause
            raise RuntimeError(f"the local Dask cluster's worker processes did not start ({exc}); in a "
                               f"script, call the search under if __name__ == '__main__': (each worker "
                               f"process runs the script's top level again)") from exc


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (``tcp://HOST:PORT``).

    ValueError for an address that is not one; OSError (naming the
    address) when no scheduler answers within :data:`CONNECT_TIMEOUT` seconds.
    """
    from distributed import Client

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ValueError(f"a scheduler address is tcp://HOST:PORT, got {address!r}")
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise OSError(f"no Dask scheduler answered at {address} within {CONNECT_TIMEOUT} s ({exc})") from exc


def _host(address: str) -> str:
    """The host of a worker's address (``tcp://10.0.0.5:40123`` -> ``10.0.0.5``)."""
    return urlsplit(address).hostname or address


def slots_by_host(client: Any) -> dict[str, int]:
    """``{host: task threads of all its workers}``: how many trials may run at once on each machine."""
    slots: dict[str, int] = {}
    for address, nthreads in client.nthreads().items():
        slots[_host(address)] = slots.get(_host(address), 0) + int(nthreads)
    return slots


def task_slots(client: Any) -> int:
    """How many tasks the cluster runs at once (the task threads of all its workers)."""
    return sum(int(n) for n in client.nthreads().values())


def worker_address() -> str | None:
    """The address of the Dask worker running this code (None outside a worker)."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None


def worker_threads(slots: Mapping[str, int], worker: Any = None) -> int:
    """Run on a worker: the ferronet threads for one of its tasks, ``cores // tasks at once on this
    machine`` (at least 1); ``slots`` is :func:`slots_by_host` as the search saw it.

    ``worker``: the ``distributed.Worker`` (None: the one running this task;
    ``Client.run`` runs functions outside any task, and passes it).
    """
    if worker is None:
        try:
            from distributed import get_worker

            worker = get_worker()
        except (ImportError, ValueError):
            worker = None
    here = slots.get(_host(worker.address)) if worker is not None else None
    if not here:  # a worker that joined after the search looked, or not a worker
        here = getattr(getattr(worker, "state", None), "nthreads", 1) or 1
    return max(1, usable_cores() // max(1, int(here)))


def set_worker_threads(client: Any) -> dict[str, int]:
    """Set every worker's ferronet threads to its share of its machine (:func:`worker_threads`)
    now; returns ``{worker address: threads}``.  Workers started later keep their default."""
    return client.run(_set_threads, slots_by_host(client))


def _set_threads(slots: Mapping[str, int], dask_worker: Any = None) -> int:
    """Run on a worker by ``Client.run`` (which passes ``dask_worker``): set its ferronet threads to
    :func:`worker_threads`; returns them."""
    import ferronet

    threads = worker_threads(slots, dask_worker)
    ferronet.set_num_threads(threads)
    return threads
