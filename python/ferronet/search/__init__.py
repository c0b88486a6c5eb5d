"""Hyper-parameter search on Dask with Optuna (the optional extra ``ferronet[search]``).

:func:`search` is the book's chapter 6 random search (log-uniform learning
rate and weight decay, a validation split, the best network's test
accuracy), with Optuna's samplers (TPE, random) and pruners (median,
successive halving) fed each epoch's validation accuracy by the Trainer,
and the trials running in parallel on a Dask cluster: a local one of worker
processes by default, or any ``dask scheduler`` / ``dask worker`` cluster
(``scheduler=`` or ``client=``).  ``ferronet search MODEL`` is its command line.

One job per module:

* :mod:`~ferronet.search.hyperparameter_search` - :func:`search`;
* :mod:`~ferronet.search.space` - what is sampled (:data:`BOOK_SPACE`, :func:`log_uniform`);
* :mod:`~ferronet.search.networks` - the book's networks for a search (:class:`NetworkSpec`);
* :mod:`~ferronet.search.objective` - one trial, as a worker runs it;
* :mod:`~ferronet.search.runner` - trials on Dask, the study in the search's process (the design);
* :mod:`~ferronet.search.channel` - each epoch's report and the pruner's answer, through the scheduler;
* :mod:`~ferronet.search.cluster` - local clusters, connecting, the workers' ferronet threads;
* :mod:`~ferronet.search.study` - the study's storage (memory, SQLite, PostgreSQL), sampler and pruner;
* :mod:`~ferronet.search.summary` - :class:`SearchResult` and its JSON summary;
* :mod:`~ferronet.search.plots` - pictures of the trials, when :mod:`ferronet.plot` is there.
"""

from __future__ import annotations

#: what this package needs beyond ferronet's own dependencies: (module, distribution)
REQUIREMENTS = (("optuna", "optuna"), ("distributed", "dask[distributed]"))
INSTALL_HINT = "pip install 'ferronet[search]'"


def _missing() -> list[str]:
    missing = []
    for module, distribution in REQUIREMENTS:
        try:
            __import__(module)
        except ImportError:
            missing.append(distribution)
    return missing


if _missing():
    raise ImportError(f"ferronet.search needs {' and '.join(_missing())}: {INSTALL_HINT}")

from ferronet.search.cluster import local_cluster, set_worker_threads  # noqa: E402 - after the check above
from ferronet.search.hyperparameter_search import search  # noqa: E402
from ferronet.search.networks import BOOK_NETWORK, NetworkSpec  # noqa: E402
from ferronet.search.space import BOOK_SPACE, log_uniform  # noqa: E402
from ferronet.search.study import StorageError  # noqa: E402
from ferronet.search.summary import SearchResult  # noqa: E402

__all__ = ["BOOK_NETWORK", "BOOK_SPACE", "NetworkSpec", "SearchResult", "StorageError", "local_cluster",
           "log_uniform", "search", "set_worker_threads"]
