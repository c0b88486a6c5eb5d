"""One trial: train a network with one set of hyper-parameters, epoch by epoch, reporting each.

:func:`run_trial` is what a Dask worker runs: it sets the worker's ferronet
threads, builds the network with ``build_network(params, seed)``, trains it
with the :class:`~ferronet.trainer.Trainer` on the search's training part
and measures the validation part after every epoch.  A
:class:`PruningCallback` reports each epoch's ``val_acc`` and stops the
Trainer when the search prunes the trial.  The outcome (validation accuracy,
epochs, history and, for a finished trial, the trained weights) goes back to
the search.  An exception raised here is the trial's failure.

A trial is a pure function of its params, its seed, the data and the
search's fixed settings: the same on any worker and at any thread count
(ferronet's kernels give the same sums on any number of threads).
:func:`train_network` is the same training in any process (the search
retrains a best trial of an earlier session with it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ferronet.search.cluster import worker_address, worker_threads
from ferronet.training.callbacks import Callback
from ferronet.training.network_state import snapshot


@dataclass(frozen=True)
class TrialSettings:
    """What every trial of a search shares.

    build_network: ``build_network(params, seed) -> network``, picklable (a
    module-level function, a ``functools.partial`` of one, or a
    :class:`ferronet.search.networks.NetworkSpec`): it runs on the workers.
    epochs: epochs per trial (each one reported, so a pruner may stop it
    after any of them).  batch_size, optimizer, optimizer_param: the
    Trainer's (``params["batch_size"]`` and ``params["lr"]`` win when
    searched or fixed).  fixed_params: values every trial's params hold
    besides the sampled ones.  threads: ferronet threads per trial (None:
    the worker's share of its machine, :func:`ferronet.search.cluster.worker_threads`).
    """

    build_network: Callable[[Mapping[str, Any], int], Any]
    epochs: int
    batch_size: int = 100
    optimizer: str = "SGD"
    optimizer_param: Mapping[str, Any] = field(default_factory=dict)
    fixed_params: Mapping[str, Any] = field(default_factory=dict)
    threads: int | None = None

    def params(self, sampled: Mapping[str, Any]) -> dict[str, Any]:
        """A trial's params: the fixed values and the sampled ones."""
        return {**self.fixed_params, **sampled}


@dataclass(frozen=True)
class TrialData:
    """The search's data as each trial sees it: the training part and the validation part (one split
    for every trial, so their accuracies compare)."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_val: np.ndarray
    t_val: np.ndarray


@dataclass
class TrialOutcome:
    """What a trial sends back: ``value`` is the validation accuracy after its last epoch; ``pruned``
    when the search stopped it (after ``epochs`` epochs); ``weights`` the trained network's arrays
    (finished trials only); ``worker`` the Dask worker's address; ``threads`` its ferronet threads."""

    number: int
    pruned: bool
    value: float
    epochs: int
    history: dict[str, list[Any]]
    seconds: float
    worker: str | None
    threads: int
    weights: dict[str, np.ndarray] | None


class PruningCallback(Callback):
    """Reports every epoch's validation accuracy with ``report(epoch, val_acc) -> pruned``; when the
    answer is to prune, stops the Trainer (``stop_training``) and records the epoch (``pruned_at``)."""

    def __init__(self, report: Callable[[int, float], bool]) -> None:
        self.report = report
        self.pruned_at: int | None = None

    def on_epoch_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        if self.pruned_at is None and self.report(int(logs["epoch"]), float(logs["val_acc"])):
            self.pruned_at = int(logs["epoch"])
            trainer.stop_training = True


def train_network(settings: TrialSettings, data: TrialData, params: Mapping[str, Any], seed: int,
                  callbacks: tuple[Any, ...] = ()) -> tuple[Any, Any]:
    """Build the network of ``params`` with ``seed`` and train it; returns ``(network, trainer)``.

    The Trainer gets ``seed`` too (its shuffling), the validation part as
    ``x_val, t_val`` and no test set: a search never looks at test data.
    """
    from ferronet.trainer import Trainer

    network = settings.build_network(params, seed)
    optimizer_param = dict(settings.optimizer_param)
    if "lr" in params:
        optimizer_param["lr"] = float(params["lr"])
    trainer = Trainer(network, data.x_train, data.t_train, None, None, epochs=settings.epochs,
                      mini_batch_size=int(params.get("batch_size", settings.batch_size)),
                      optimizer=settings.optimizer, optimizer_param=optimizer_param, verbose=False, seed=seed,
                      x_val=data.x_val, t_val=data.t_val, callbacks=list(callbacks))
    trainer.fit()
    return network, trainer


def run_trial(settings: TrialSettings, data: TrialData, number: int, params: Mapping[str, Any], seed: int,
              report: Callable[[int, float], bool], slots_by_host: Mapping[str, int]) -> TrialOutcome:
    """Trial ``number`` on this worker: set the threads, train, report each epoch through ``report``
    (an :class:`ferronet.search.channel.EpochReporter`), and return the :class:`TrialOutcome`."""
    import ferronet

    threads = settings.threads or worker_threads(slots_by_host)
    ferronet.set_num_threads(threads)
    pruning = PruningCallback(report)
    start = time.perf_counter()
    try:
        network, trainer = train_network(settings, data, params, seed, callbacks=(pruning,))
    finally:
        close = getattr(report, "close", None)
        if callable(close):
            close()
    history = {key: list(values) for key, values in trainer.history.items()}
    if not history["val_acc"]:
        raise RuntimeError(f"trial {number} trained no whole epoch (epochs={settings.epochs})")
    pruned = pruning.pruned_at is not None
    return TrialOutcome(number=number, pruned=pruned, value=float(history["val_acc"][-1]),
                        epochs=len(history["val_acc"]), history=history, seconds=time.perf_counter() - start,
                        worker=worker_address(), threads=threads, weights=None if pruned else snapshot(network))
