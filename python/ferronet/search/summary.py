"""What a search found: :class:`SearchResult`, its JSON summary and the book's closing lines.

The summary (written atomically, :func:`write_summary`) holds the study's
name and storage (password masked), the sampler, pruner and seed, the space,
the training settings, the cluster, the counts of finished, pruned and
failed trials, the best trial (params, validation accuracy, test accuracy,
seed) and one entry per trial of the study (state, params, validation
accuracy, epochs trained, seconds, worker, the error of a failed one).
Numbers JSON cannot hold (NaN, infinities) are written as null.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import optuna
from optuna.trial import FrozenTrial, TrialState

from ferronet.fileio import atomic_write

PathLike = Union[str, os.PathLike]

#: the user attributes a search sets on each trial (besides the intermediate values Optuna keeps)
TRIAL_ATTRS = ("seed", "epochs", "seconds", "worker", "threads", "error", "history")


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as None and NumPy scalars as Python numbers, recursively."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # a NumPy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def trial_record(trial: FrozenTrial) -> dict[str, Any]:
    """One trial of the study as the summary lists it."""
    record: dict[str, Any] = {"number": trial.number, "state": trial.state.name.lower(), "params": trial.params,
                              "val_acc": trial.value if trial.values else None}
    record.update({key: trial.user_attrs[key] for key in TRIAL_ATTRS
                   if key in trial.user_attrs and key != "history"})
    if trial.intermediate_values:
        record["val_acc_per_epoch"] = [trial.intermediate_values[s] for s in sorted(trial.intermediate_values)]
    return json_safe(record)


@dataclass
class SearchResult:
    """The outcome of :func:`ferronet.search.search`.

    study: the Optuna study (every trial, of this search and of earlier ones
    in the same storage); trials: the numbers of this search's trials;
    best_trial: the study's best finished trial (None when none finished);
    test_acc: the best trial's network measured on the test set (None
    without one); best_network: that network, trained (None when no trial
    finished); summary_path, plot_paths: the files written; seed: the seed
    every random choice came from (drawn when none was given).
    """

    study: optuna.Study
    trials: list[int]
    best_trial: FrozenTrial | None
    test_acc: float | None
    best_network: Any
    seed: int
    settings: dict[str, Any]
    seconds: float
    summary_path: Path | None = None
    plot_paths: list[Path] = field(default_factory=list)

    @property
    def best_params(self) -> dict[str, Any] | None:
        """The best trial's sampled hyper-parameters."""
        return None if self.best_trial is None else dict(self.best_trial.params)

    @property
    def best_value(self) -> float | None:
        """The best trial's validation accuracy."""
        return None if self.best_trial is None else self.best_trial.value

    def counts(self) -> dict[str, int]:
        """``{"complete": n, "pruned": n, "fail": n}`` over this search's trials."""
        states = {t.number: t.state for t in self.study.get_trials(deepcopy=False)}
        names = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.FAIL: "fail"}
        out = dict.fromkeys(names.values(), 0)
        for number in self.trials:
            name = names.get(states.get(number))
            if name:
                out[name] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (see the module's docstring)."""
        best = None
        if self.best_trial is not None:
            best = {"trial": self.best_trial.number, "params": self.best_trial.params,
                    "val_acc": self.best_trial.value, "test_acc": self.test_acc,
                    "seed": self.best_trial.user_attrs.get("seed"),
                    "epochs": self.best_trial.user_attrs.get("epochs")}
        return json_safe({"study_name": self.study.study_name, **self.settings, "seed": self.seed,
                          "seconds": self.seconds, "this_search": {"trials": self.trials, **self.counts()},
                          "best": best, "trials": [trial_record(t) for t in self.study.get_trials(deepcopy=False)]})


def write_summary(path: PathLike, result: SearchResult) -> Path:
    """Write ``result.to_dict()`` to ``path`` as indented JSON, atomically; returns the path."""
    target = Path(os.fspath(path))
    text = json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"
    with atomic_write(target) as fh:
        fh.write(text.encode("utf-8"))
    return target


def describe_params(params: Mapping[str, Any]) -> str:
    """``lr:0.00123, weight_decay:3.4e-06``: params as the book prints them."""
    return ", ".join(f"{name}:{value:.4g}" if isinstance(value, float) else f"{name}:{value}"
                     for name, value in params.items())


def ranking_lines(trials: Sequence[FrozenTrial], top: int = 5) -> list[str]:
    """The book's closing lines for the ``top`` best finished trials:
    ``Best-1(val acc:0.83) | lr:0.0042, weight_decay:1.3e-07``."""
    finished = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: -t.value)
    return [f"Best-{rank}(val acc:{t.value:.4f}) | {describe_params(t.params)}  [trial {t.number}]"
            for rank, t in enumerate(finished[:top], start=1)]
