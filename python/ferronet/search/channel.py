"""How a trial running on a Dask worker reports each epoch and hears whether to stop.

The study lives in the process that runs the search (:mod:`ferronet.search.runner`);
a trial's Trainer runs on some worker.  After every epoch the trial's
:class:`EpochReporter` sends ``(trial, epoch, val_acc)`` to the search and
waits for the answer: go on, or stop (pruned).  Both ways go through queues
held by the Dask scheduler (``distributed.Queue``), which every worker and
the client already reach, so nothing else needs a network path between
machines:

* one queue of reports per search, ``<search id>-reports``, read by the
  search (:class:`ReportDesk`);
* one queue of answers per trial, ``<search id>-trial-<number>``, read by
  that trial.

The trial waits for each answer (at most :data:`ANSWER_TIMEOUT` seconds, then
its task fails), so a pruner decides on exactly the epochs reported, and a
pruned Trainer stops after the epoch it was pruned at.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from distributed import Queue

#: seconds a trial waits for the answer to a report before it gives up (and fails)
ANSWER_TIMEOUT = 600.0

#: the answers a trial can hear
GO_ON, PRUNE, ABORT = "go on", "prune", "abort"


class SearchAborted(RuntimeError):
    """The search ended while this trial was running (told by the search, or it stopped answering)."""


@dataclass(frozen=True)
class Report:
    """One epoch of one trial: its validation accuracy (``value``) after epoch ``step`` (1, 2, ...)."""

    trial: int
    step: int
    value: float


def _answers_name(search_id: str, trial: int) -> str:
    return f"{search_id}-trial-{trial}"


class EpochReporter:
    """The worker's end: ``reporter(step, value)`` reports one epoch and returns True when the trial is pruned.

    Picklable (it holds names; the queues are opened on the worker at the first report).
    """

    def __init__(self, search_id: str, trial: int, timeout: float = ANSWER_TIMEOUT) -> None:
        self.search_id = search_id
        self.trial = trial
        self.timeout = timeout
        self._queues: tuple[Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"search_id": self.search_id, "trial": self.trial, "timeout": self.timeout, "_queues": None}

    def __call__(self, step: int, value: float) -> bool:
        if self._queues is None:
            self._queues = (Queue(f"{self.search_id}-reports"), Queue(_answers_name(self.search_id, self.trial)))
        reports, answers = self._queues
        reports.put({"trial": self.trial, "step": int(step), "value": float(value)})
        try:
            answer = answers.get(timeout=self.timeout)
        except TimeoutError:
            raise SearchAborted(f"trial {self.trial}: no answer from the search within {self.timeout:g} s "
                                f"of reporting epoch {step}") from None
        if answer == ABORT:
            raise SearchAborted(f"trial {self.trial}: the search was stopped")
        return answer == PRUNE

    def close(self) -> None:
        """Release the queues on the scheduler (after the trial's last report)."""
        if self._queues is not None:
            for queue in self._queues:
                queue.close()
            self._queues = None


class ReportDesk:
    """The search's end: reads every trial's reports and answers each trial."""

    def __init__(self, client: Any, search_id: str) -> None:
        self.client = client
        self.search_id = search_id
        self._reports = Queue(f"{search_id}-reports", client=client)
        self._pending: deque[dict[str, Any]] = deque()  # reports read from the queue, not yet returned
        self._answers: dict[int, Any] = {}

    def next_report(self, timeout: float) -> Report | None:
        """The next report, waiting at most ``timeout`` seconds (None when none came).

        The queue is read whole (``get(batch=True)``, which never waits)
        and, when empty, read again after ``timeout`` seconds here: a
        ``get(timeout=...)`` that times out is an exception in the
        scheduler, which logs its traceback (twenty a second, for ever).
        """
        if not self._pending:
            self._pending.extend(self._reports.get(batch=True))
        if not self._pending:
            time.sleep(timeout)
            self._pending.extend(self._reports.get(batch=True))
        if not self._pending:
            return None
        message = self._pending.popleft()
        return Report(int(message["trial"]), int(message["step"]), float(message["value"]))

    def answer(self, trial: int, answer: str) -> None:
        """Send ``answer`` (:data:`GO_ON`, :data:`PRUNE` or :data:`ABORT`) to ``trial``."""
        if trial not in self._answers:
            self._answers[trial] = Queue(_answers_name(self.search_id, trial), client=self.client)
        self._answers[trial].put(answer)

    def forget(self, trial: int) -> None:
        """The trial has ended: release its queue of answers."""
        queue = self._answers.pop(trial, None)
        if queue is not None:
            queue.close()

    def close(self) -> None:
        """Release the queue of reports.  The answers of trials never forgotten (those answered
        :data:`ABORT`) stay on the scheduler until their trials read them."""
        self._answers.clear()
        self._reports.close()
