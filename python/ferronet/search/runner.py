"""Trials on Dask workers, the study in this process: ask, submit, answer each epoch, tell.

How trials talk to the study.  Every Optuna call happens here, in the
process that runs the search; the workers only train:

1. ``study.ask(space)`` samples a trial's hyper-parameters here, and the
   trial is submitted to the cluster (:func:`ferronet.search.objective.run_trial`)
   with its params, its seed and the data (scattered to the workers once);
2. after every epoch the trial sends its validation accuracy back through
   the scheduler (:mod:`ferronet.search.channel`); here it is reported to
   the study (``trial.report``), the pruner decides (``trial.should_prune``)
   and the answer goes back: the Trainer goes on or stops;
3. when the task ends, ``study.tell`` records it: finished (its last
   validation accuracy), pruned, or failed - the task raised, or its worker
   process died (Dask's ``KilledWorker``) - with the error kept in the
   trial's user attributes.  The search goes on.

Why not let the workers open the study themselves (a storage they share)?
Because then every worker needs the database and its driver and a network
path to it, in-memory studies are impossible, SQLite sees concurrent
writers, samplers run in many processes with their own random states (a
seeded random sampler would hand every worker the same configurations),
and a worker that dies leaves its trial RUNNING until some heartbeat
notices.  Here the storage has one writer, the sampler one random state
(so a seeded search is reproducible, see :func:`ferronet.search.search`),
and a dead worker is a failed trial as soon as Dask reports it.  The price
is one round trip through the scheduler per epoch, milliseconds against an
epoch's seconds.

No more trials run at once than the cluster has task threads (or
``parallel``): a trial is asked only when a worker can start it, so the
sampler always knows every result that has come in.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState

from ferronet.search.channel import ABORT, GO_ON, PRUNE, EpochReporter, Report, ReportDesk
from ferronet.search.cluster import slots_by_host, task_slots
from ferronet.search.objective import TrialData, TrialOutcome, TrialSettings, run_trial
from ferronet.search.summary import describe_params, json_safe

#: seconds the search waits for a report before it looks at the running tasks again
POLL_SECONDS = 0.05
#: seconds to wait for a first worker when the cluster has none
WORKER_WAIT_SECONDS = 120


def trial_seed(seed: int, number: int) -> int:
    """The seed of trial ``number`` of a search seeded ``seed`` (its network's and its Trainer's)."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def failure_message(exc: BaseException) -> str:
    """What a failed trial records: the exception in one line, or that its worker process died."""
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return "its worker process died (KilledWorker)"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class _RunningTrial:
    trial: optuna.Trial
    seed: int
    future: Any
    reported: set[int] = field(default_factory=set)


class DaskTrialRunner:
    """Runs a search's trials on the cluster of ``client`` (see the module's docstring).

    study: the Optuna study (it samples and prunes); space: ``{name:
    distribution}``; settings, data: what every trial shares; seed: the
    search's seed (each trial's seed derives from it and the trial's
    number); parallel: most trials at once (None: the cluster's task
    threads); log: where a line per finished trial goes.
    """

    def __init__(self, client: Any, study: optuna.Study, space: Mapping[str, BaseDistribution],
                 settings: TrialSettings, data: TrialData, seed: int, parallel: int | None = None,
                 log: Callable[[str], None] = print) -> None:
        self.client = client
        self.study = study
        self.space = dict(space)
        self.settings = settings
        self.data = data
        self.seed = seed
        self.parallel = parallel
        self.log = log
        self.search_id = f"ferronet-search-{uuid.uuid4().hex[:12]}"
        self._running: dict[int, _RunningTrial] = {}
        self._data_future: Any = None
        #: this run's trials, in the order they were asked
        self.trials: list[int] = []
        #: the best finished trial of this run (with its weights), None before one finished
        self.best: TrialOutcome | None = None

    # ------------------------------------------------------------------ the loop

    def run(self, n_trials: int, timeout: float | None = None) -> list[int]:
        """Run ``n_trials`` trials (fewer when ``timeout`` seconds pass first: no trial starts after
        that, the running ones finish); returns their numbers.  On an exception (or Ctrl-C) the
        running trials are stopped and recorded as failed before it propagates."""
        deadline = None if timeout is None else time.monotonic() + timeout
        desk = ReportDesk(self.client, self.search_id)
        try:
            while True:
                more = len(self.trials) < n_trials and (deadline is None or time.monotonic() < deadline)
                while more and len(self._running) < self._capacity():
                    self._launch()
                    more = len(self.trials) < n_trials and (deadline is None or time.monotonic() < deadline)
                if not self._running and not more:
                    return list(self.trials)
                report = desk.next_report(POLL_SECONDS)
                if report is not None:
                    self._answer(desk, report)
                for number in [n for n, r in self._running.items() if r.future.done()]:
                    self._finish(number)
                    desk.forget(number)
        except BaseException:
            self._abort(desk)
            raise
        finally:
            desk.close()
            if self._data_future is not None:
                self._data_future.release()
                self._data_future = None

    def _capacity(self) -> int:
        """How many trials may run now: ``parallel``, else the cluster's task threads (waiting for a
        first worker when it has none)."""
        if self.parallel is not None:
            return self.parallel
        slots = task_slots(self.client)
        if slots == 0 and not self._running:
            try:
                self.client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
            except TimeoutError:
                raise RuntimeError(f"the Dask cluster has had no worker for {WORKER_WAIT_SECONDS} s") from None
            slots = task_slots(self.client)
        return slots

    def _data(self) -> Any:
        """The data on the workers: scattered to all of them once, again if every copy was lost.

        Under a key of this search's own (``hash=False``): with the default
        key, a hash of the arrays, a search of the same data right after
        another shares the key the last one is releasing, and the
        scheduler may forget the data under its trials.
        """
        if self._data_future is None or self._data_future.status in ("lost", "error", "cancelled"):
            self._data_future = self.client.scatter(self.data, broadcast=True, hash=False)
        return self._data_future

    # ------------------------------------------------------------------ one trial

    def _launch(self) -> None:
        trial = self.study.ask(self.space)
        seed = trial_seed(self.seed, trial.number)
        trial.set_user_attr("seed", seed)
        reporter = EpochReporter(self.search_id, trial.number)
        future = self.client.submit(run_trial, self.settings, self._data(), trial.number,
                                    self.settings.params(trial.params), seed, reporter,
                                    slots_by_host(self.client), key=f"{self.search_id}-trial-{trial.number}")
        self._running[trial.number] = _RunningTrial(trial, seed, future)
        self.trials.append(trial.number)

    def _answer(self, desk: ReportDesk, report: Report) -> None:
        """Report one epoch to the study and tell the trial whether to go on."""
        running = self._running.get(report.trial)
        if running is None:  # a trial already recorded (Dask ran it again elsewhere): stop it
            desk.answer(report.trial, ABORT)
            return
        if report.step not in running.reported:  # a rerun repeats the epochs already reported
            running.trial.report(report.value, report.step)
            running.reported.add(report.step)
        desk.answer(report.trial, PRUNE if running.trial.should_prune() else GO_ON)

    def _finish(self, number: int) -> None:
        """Tell the study how the finished task ``number`` ended, and log a line."""
        running = self._running.pop(number)
        trial, future = running.trial, running.future
        params = describe_params(trial.params)
        try:
            outcome: TrialOutcome = future.result()
        except Exception as exc:  # noqa: BLE001 - any failure of the trial is recorded, and the search goes on
            message = failure_message(exc)
            trial.set_user_attr("error", message)
            self.study.tell(trial, state=TrialState.FAIL)
            self.log(f"trial {number} failed: {message} | {params}")
            return
        finally:
            future.release()
        for key, value in (("epochs", outcome.epochs), ("seconds", round(outcome.seconds, 3)),
                           ("worker", outcome.worker), ("threads", outcome.threads),
                           ("history", json_safe(outcome.history))):
            trial.set_user_attr(key, value)
        where = (f"{outcome.epochs} epoch{'s' if outcome.epochs != 1 else ''}, {outcome.seconds:.1f} s"
                 + (f" on {outcome.worker}" if outcome.worker else "")
                 + f", {outcome.threads} thread{'s' if outcome.threads != 1 else ''}")
        if outcome.pruned:
            self.study.tell(trial, state=TrialState.PRUNED)
            self.log(f"trial {number} pruned after epoch {outcome.epochs} of {self.settings.epochs}: "
                     f"val acc {outcome.value:.4f} | {params} ({where})")
            return
        self.study.tell(trial, outcome.value)
        self.log(f"trial {number} finished: val acc {outcome.value:.4f} | {params} ({where})")
        if self.best is None or (outcome.value, -outcome.number) > (self.best.value, -self.best.number):
            self.best = outcome

    def _abort(self, desk: ReportDesk) -> None:
        """Stop every running trial and record it as failed (the search is ending on an error)."""
        for number, running in list(self._running.items()):
            try:
                desk.answer(number, ABORT)
                running.future.cancel()
            except Exception:  # noqa: BLE001 - the cluster may be what failed; still record the trial
                pass
            try:
                running.trial.set_user_attr("error", "the search stopped while it ran")
                self.study.tell(running.trial, state=TrialState.FAIL)
            except Exception:  # noqa: BLE001 - the storage may be what failed: its error is the one to see
                pass
        self._running.clear()
