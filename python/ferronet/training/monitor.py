"""A training metric's best value so far, for early stopping and the best checkpoint.

The metrics are the per-epoch entries of the Trainer's ``history`` (see
:mod:`ferronet.training.history`): a loss improves downwards, an accuracy upwards.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ferronet.ops import _checks

#: metric name -> "min" (lower is better) or "max"
METRICS: dict[str, str] = {"val_loss": "min", "val_acc": "max", "train_loss": "min", "train_acc": "max",
                           "test_acc": "max"}


def check_metric(name: object) -> str:
    """``name`` when it is one of :data:`METRICS`, else ValueError listing them."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; choose one of {sorted(METRICS)}")
    return name  # type: ignore[return-value]


class BestValue:
    """The best value of ``metric`` seen so far and the epoch it came from.

    A value improves on the best when it is better by more than
    ``min_delta`` (>= 0, in the metric's units); the first finite value
    always does, a NaN never does.
    """

    def __init__(self, metric: str, min_delta: float = 0.0) -> None:
        self.metric = check_metric(metric)
        self.mode = METRICS[metric]
        self.min_delta = _checks.non_negative("min_delta", min_delta)
        self.best: float | None = None
        self.epoch: int | None = None  # 1-based, as the Trainer counts finished epochs

    def improves(self, value: float) -> bool:
        """Whether ``value`` would be a new best (nothing is recorded)."""
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float, epoch: int) -> bool:
        """Record ``value`` of ``epoch`` when it improves; returns whether it did."""
        if not self.improves(value):
            return False
        self.best, self.epoch = float(value), int(epoch)
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "best": self.best, "epoch": self.epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("metric") != self.metric:
            raise ValueError(f"the saved best value is of {state.get('metric')!r}, this one monitors {self.metric!r}")
        best, epoch = state.get("best"), state.get("epoch")
        self.best = None if best is None else float(best)
        self.epoch = None if epoch is None else int(epoch)
