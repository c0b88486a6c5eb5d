"""``search()``: the book's hyper-parameter search (chapter 6), run as trials on a Dask cluster.

The book holds out 20% of the training data, samples the learning rate and
the weight decay log-uniformly, trains a network per sample and ranks them
by validation accuracy.  :func:`search` does that with Optuna choosing the
samples (TPE, or the book's random sampling) and stopping hopeless trials
after any epoch (median or successive-halving pruning), the trials running
in parallel on Dask workers, and measures the best network once on the test
set.  How the trials talk to the study: :mod:`ferronet.search.runner`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Union

import numpy as np
import optuna
from optuna.distributions import BaseDistribution

from ferronet.search import cluster as cluster_module
from ferronet.search.objective import TrialData, TrialSettings, train_network
from ferronet.search.plots import plot_trials
from ferronet.search.runner import DaskTrialRunner
from ferronet.search.space import BOOK_SPACE, check_space, describe
from ferronet.search.study import ensure_maximizing, open_storage, open_study, redacted, release_connections
from ferronet.search.summary import SearchResult, describe_params, ranking_lines, write_summary
from ferronet.training import validation
from ferronet.training.network_state import restore_arrays

PathLike = Union[str, os.PathLike]

#: the book's share of the training data held out for validation
BOOK_VALIDATION_SPLIT = 0.2
#: the files a search writes into ``output``
SUMMARY_FILE, BEST_WEIGHTS_FILE = "summary.json", "best.npz"


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


def split_data(x: np.ndarray, t: np.ndarray, fraction: float, seed: int) -> TrialData:
    """The training data cut once into a training and a validation part (``fraction`` of it, drawn with
    ``seed``): every trial trains and is compared on the same parts."""
    train_idx, val_idx = validation.split_indices(len(x), fraction, np.random.default_rng(seed))
    return TrialData(x[train_idx], t[train_idx], x[val_idx], t[val_idx])


@contextlib.contextmanager
def _optuna_quiet() -> Iterator[None]:
    """Optuna's own per-trial log lines off (the search prints its own), restored afterwards."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


@contextlib.contextmanager
def dask_client(client: Any = None, scheduler: str | None = None, n_workers: int | None = None) -> Iterator[Any]:
    """The client trials run through: ``client`` as given, a new one of ``scheduler``, or one of a new
    :func:`~ferronet.search.cluster.local_cluster` of ``n_workers`` processes.  What is made here is
    closed on leaving (worker processes included); a given client is left open."""
    if sum(x is not None for x in (client, scheduler, n_workers)) > 1:
        raise ValueError("give at most one of client=, scheduler= and n_workers= (a local cluster's size)")
    if client is not None:
        yield client
        return
    if scheduler is not None:
        own = cluster_module.connect(scheduler)
        try:
            yield own
        finally:
            own.close()
        return
    from distributed import Client

    with cluster_module.local_cluster(n_workers) as local, Client(local) as own:
        yield own


def _best_network(runner: DaskTrialRunner, best: optuna.trial.FrozenTrial, settings: TrialSettings,
                  data: TrialData, log: Callable[[str], None]) -> Any:
    """The best trial's trained network: its weights as its worker sent them, or (a trial of an earlier
    search of the study) trained again here from its params and seed, which gives the same weights."""
    params = settings.params(best.params)
    seed = int(best.user_attrs["seed"])
    if runner.best is not None and runner.best.number == best.number:
        network = settings.build_network(params, seed)
        restore_arrays(network, runner.best.weights)
        return network
    log(f"training the best trial {best.number} (of an earlier search of this study) again to test it")
    network, _ = train_network(settings, data, params, seed)
    return network


def search(build_network: Callable[[Mapping[str, Any], int], Any], x_train: np.ndarray, t_train: np.ndarray,
           x_test: np.ndarray | None = None, t_test: np.ndarray | None = None, *,
           space: Mapping[str, BaseDistribution] | None = None, fixed_params: Mapping[str, Any] | None = None,
           n_trials: int = 20, epochs: int = 5, batch_size: int = 100, optimizer: str = "SGD",
           optimizer_param: Mapping[str, Any] | None = None, validation_split: float = BOOK_VALIDATION_SPLIT,
           sampler: str | optuna.samplers.BaseSampler = "tpe",
           pruner: str | optuna.pruners.BasePruner | None = "median", seed: int | None = None,
           storage: PathLike | None = None, study_name: str = "ferronet-search", study: optuna.Study | None = None,
           client: Any = None, scheduler: str | None = None, n_workers: int | None = None,
           parallel: int | None = None, threads: int | None = None, timeout: float | None = None,
           output: PathLike | None = None, verbose: bool = True) -> SearchResult:
    """Search hyper-parameters of ``build_network(params, seed)`` on Dask; returns a :class:`SearchResult`.

    The data: ``x_train, t_train`` are cut once into a training part and a
    validation part (``validation_split`` of it, the book's 0.2, drawn with
    ``seed``); ``x_test, t_test`` (optional) are used once, on the best network.

    The trials: ``n_trials`` of them (fewer if ``timeout`` seconds pass
    first), each training ``build_network(params, seed)`` (picklable: it
    runs on the workers; :class:`ferronet.search.networks.NetworkSpec`
    builds the book's networks) for ``epochs`` epochs with ``optimizer``
    (``optimizer_param``; the book's SGD by default) and ``batch_size``.
    ``params`` holds a sample of ``space`` (default :data:`~ferronet.search.space.BOOK_SPACE`:
    ``lr`` and ``weight_decay``, log-uniform) and ``fixed_params``; ``lr``
    and ``batch_size`` in it set the Trainer's.  A trial's score is its
    validation accuracy after its last epoch; each epoch's is reported, and
    the ``pruner`` may stop the trial there.  A trial that raises, or whose
    worker dies, is recorded as failed and the search goes on.

    The study: ``sampler`` ("tpe", "random" or an Optuna sampler),
    ``pruner`` ("median", "successive-halving", "none"/None or an Optuna
    pruner), seeded by ``seed``, in ``storage`` (None: in memory; a path or
    ``sqlite:///`` URL; a ``postgresql://`` URL), named ``study_name``
    (continued when it exists); or a ``study`` of your own (then those four
    are ignored).

    The cluster: ``client`` (a ``distributed.Client``), ``scheduler`` (an
    address ``tcp://HOST:PORT``: ``dask scheduler`` and ``dask worker`` on
    any machines), or by default a local cluster of ``n_workers`` worker
    processes (one per core).  ``parallel`` caps the trials running at once
    (default: the cluster's task threads); ``threads`` sets each trial's
    ferronet threads (default: its machine's cores over the trials running
    there).

    Reproducible: with a ``seed`` (None draws one, kept in the result), each
    trial's seed is a function of the search's and the trial's number, and
    a trial's training is a function of its params and seed.  So the random
    sampler gives the same configuration to each trial number, and without a
    pruner the same results, on any cluster; with TPE or a pruner the
    samples and pruning depend on which results came in first, and a search
    repeats exactly when its trials run one at a time (``parallel=1`` or one
    worker).

    Writes (with ``output``, a directory created if needed): ``summary.json``
    (:mod:`ferronet.search.summary`), ``best.npz`` (the best network's
    weights, ``load_params``) and the plots of :mod:`ferronet.search.plots`
    when :mod:`ferronet.plot` is available.  ``verbose`` prints a line per
    trial and the book's ranking at the end.
    """
    started = time.perf_counter()
    log: Callable[[str], None] = print if verbose else (lambda line: None)
    n_trials, epochs, batch_size = (_positive_int(name, value) for name, value in
                                    (("n_trials", n_trials), ("epochs", epochs), ("batch_size", batch_size)))
    if parallel is not None:
        parallel = _positive_int("parallel", parallel)
    if threads is not None:
        threads = _positive_int("threads", threads)
    if not callable(build_network):
        raise TypeError(f"build_network must be a function build_network(params, seed) -> network, "
                        f"got {type(build_network).__name__}")
    if len(x_train) != len(t_train):
        raise ValueError(f"x_train and t_train differ in length: {len(x_train)} vs {len(t_train)}")
    if (x_test is None) != (t_test is None):
        raise ValueError("give both x_test and t_test, or neither")
    fixed = dict(fixed_params or {})
    space = check_space(BOOK_SPACE if space is None else space, fixed)
    seed = secrets.randbits(31) if seed is None else _seed(seed)
    data = split_data(x_train, t_train, validation_split, seed)
    out = None if output is None else _output_directory(output)
    settings = TrialSettings(build_network, epochs, batch_size, optimizer, dict(optimizer_param or {}), fixed,
                             threads)
    if study is not None:
        ensure_maximizing(study)
        return _search(study, "given", settings, space, data, x_test, t_test, n_trials, timeout, seed, client,
                       scheduler, n_workers, parallel, out, log, started)
    database = open_storage(storage)
    try:
        with _optuna_quiet():
            study = open_study(database, study_name, sampler, pruner, seed)
        where = "in memory" if database is None else redacted(database.url)
        return _search(study, where, settings, space, data, x_test, t_test, n_trials, timeout, seed, client,
                       scheduler, n_workers, parallel, out, log, started)
    finally:
        release_connections(database)  # the returned study connects again when it is read


def _search(study: optuna.Study, where: str, settings: TrialSettings, space: Mapping[str, BaseDistribution],
            data: TrialData, x_test: np.ndarray | None, t_test: np.ndarray | None, n_trials: int,
            timeout: float | None, seed: int, client: Any, scheduler: str | None, n_workers: int | None,
            parallel: int | None, out: Path | None, log: Callable[[str], None], started: float) -> SearchResult:
    """:func:`search` once its arguments are checked and its study is open: run, test, report, write."""
    epochs, fixed = settings.epochs, dict(settings.fixed_params)
    batch_size, optimizer = settings.batch_size, settings.optimizer
    optimizer_param = dict(settings.optimizer_param)
    with dask_client(client, scheduler, n_workers) as dask, _optuna_quiet():
        workers = len(dask.nthreads())
        slots = cluster_module.task_slots(dask)
        log(f"study {study.study_name!r} ({where}, {len(study.trials)} trials so far): {n_trials} trials of "
            f"{epochs} epoch{'s' if epochs != 1 else ''}, {type(study.sampler).__name__}, "
            f"{type(study.pruner).__name__}, seed {seed}; {len(data.x_train)} training / {len(data.x_val)} "
            f"validation samples; {workers} Dask worker{'s' if workers != 1 else ''} at "
            f"{dask.scheduler.address}, {parallel or slots} trial{'s' if (parallel or slots) != 1 else ''} at once")
        runner = DaskTrialRunner(dask, study, space, settings, data, seed, parallel=parallel, log=log)
        trials = runner.run(n_trials, timeout=timeout)
        cluster_info = {"scheduler": dask.scheduler.address, "workers": workers, "task_slots": slots,
                        "parallel": parallel or slots, "local": client is None and scheduler is None}

    finished = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    best = study.best_trial if finished else None
    network = test_acc = None
    if best is not None:
        network = _best_network(runner, best, settings, data, log)
        if x_test is not None:
            test_acc = float(network.accuracy(x_test, t_test))
    result = SearchResult(study=study, trials=trials, best_trial=best, test_acc=test_acc, best_network=network,
                          seed=seed, seconds=time.perf_counter() - started, settings={
                              "storage": where, "sampler": type(study.sampler).__name__,
                              "pruner": type(study.pruner).__name__, "space": describe(space),
                              "fixed_params": fixed, "epochs": epochs, "batch_size": batch_size,
                              "optimizer": optimizer, "optimizer_param": dict(optimizer_param or {}),
                              "train_samples": len(data.x_train), "validation_samples": len(data.x_val),
                              "test_samples": None if x_test is None else len(x_test), "cluster": cluster_info})
    _report(result, log)
    if out is not None:
        _write_outputs(result, space, epochs, out, log)
    return result


def _seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0 or None, got {seed!r}")
    return int(seed)


def _output_directory(output: PathLike) -> Path:
    """``output`` as a directory, created when its parent exists (FileNotFoundError otherwise)."""
    path = Path(os.fspath(output))
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the output directory's parent {path.parent} does not exist")
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"the output {path} is not a directory")
    path.mkdir(exist_ok=True)
    return path


def _report(result: SearchResult, log: Callable[[str], None]) -> None:
    """The book's ranking of the best trials, then the best one's test accuracy."""
    counts = result.counts()
    log(f"{len(result.trials)} trials in {result.seconds:.1f} s: {counts['complete']} finished, "
        f"{counts['pruned']} pruned, {counts['fail']} failed")
    log("=========== Hyper-Parameter Optimization Result ===========")
    for line in ranking_lines(result.study.get_trials(deepcopy=False)):
        log(line)
    if result.best_trial is None:
        log("no trial finished: there is no best configuration")
        return
    test = "" if result.test_acc is None else f", test accuracy {100 * result.test_acc:.2f}%"
    log(f"best: trial {result.best_trial.number}, val acc {result.best_trial.value:.4f}{test} | "
        f"{describe_params(result.best_trial.params)}")


def _write_outputs(result: SearchResult, space: Mapping[str, BaseDistribution], epochs: int, out: Path,
                   log: Callable[[str], None]) -> None:
    """best.npz, the plots, then summary.json (last: it names the others)."""
    written = []
    if result.best_network is not None:
        written.append(Path(result.best_network.save_params(out / BEST_WEIGHTS_FILE)))
    result.plot_paths = plot_trials(result.study.get_trials(deepcopy=False), space, epochs, out, log)
    result.summary_path = write_summary(out / SUMMARY_FILE, result)
    log("wrote " + ", ".join(str(p) for p in [result.summary_path, *written, *result.plot_paths]))
