"""Early stopping: end training when a validation metric stops improving, keep the best weights.

``Trainer(..., early_stopping=...)`` takes an :class:`EarlyStopping`, a
patience (an int) or a dict of its arguments
(``{"patience": 3, "monitor": "val_acc"}``); see :func:`from_argument`.
It is a callback (:mod:`ferronet.training.callbacks`), so it can also be passed in
``callbacks=``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ferronet.training import network_state
from ferronet.training.callbacks import Callback
from ferronet.training.monitor import BestValue
from ferronet.ops import _checks


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs in a row.

    monitor: a metric of the Trainer's history (:data:`ferronet.training.monitor.METRICS`),
    ``'val_loss'`` (default, lower is better) or ``'val_acc'`` (higher is
    better); the training metrics ``'train_loss'`` / ``'train_acc'`` work too.
    patience: an int >= 1.  min_delta (>= 0): what counts as an
    improvement, a change by more than that.  restore_best_weights: at the
    end of training (stopped early or not) put back the weights - and batch
    normalisation's running statistics - of the best epoch.

    After training: ``best`` (the best value), ``best_epoch`` (1-based),
    ``stopped_epoch`` (the epoch it stopped after, None when it did not),
    ``wait`` (epochs since the best).
    """

    def __init__(self, patience: int = 5, monitor: str = "val_loss", min_delta: float = 0.0,
                 restore_best_weights: bool = True) -> None:
        self.patience = _checks.integer("patience", patience)
        if self.patience < 1:
            raise ValueError(f"patience must be at least 1, got {self.patience}")
        self._best = BestValue(monitor, min_delta)
        self.monitor = self._best.metric
        self.min_delta = self._best.min_delta
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self._best = BestValue(self.monitor, self.min_delta)
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, Any] | None = None

    @property
    def best(self) -> float | None:
        return self._best.best

    @property
    def best_epoch(self) -> int | None:
        return self._best.epoch

    def on_train_begin(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        if trainer.current_iter == 0:  # a new run; a resumed one keeps what it had
            self._reset()

    def on_epoch_end(self, trainer: Any, logs: Mapping[str, Any]) -> bool | None:
        if self.monitor not in logs:
            raise ValueError(f"early stopping monitors {self.monitor!r}, which this Trainer does not measure "
                             f"(it measures {sorted(logs)}); validation metrics need validation_split= or x_val, t_val")
        if self._best.update(logs[self.monitor], logs["epoch"]):
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = network_state.snapshot(trainer.network)
            return None
        self.wait += 1
        if self.wait < self.patience:
            return None
        self.stopped_epoch = int(logs["epoch"])
        trainer.message(f"early stopping after epoch {self.stopped_epoch}: {self.monitor} has not improved for "
                        f"{self.wait} epochs (best {self.best:.4f} at epoch {self.best_epoch})")
        return False

    def on_train_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            network_state.restore_arrays(trainer.network, self.best_weights)
            trainer.message(f"restored the weights of epoch {self.best_epoch} ({self.monitor} {self.best:.4f})")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._best.state_dict(), "wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "best_weights": self.best_weights}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        best = BestValue(self.monitor, self.min_delta)
        best.load_state_dict(state["best"])
        weights, wait, stopped = state["best_weights"], int(state["wait"]), state["stopped_epoch"]
        if weights is not None and not isinstance(weights, Mapping):
            raise ValueError("early stopping's best weights must be a mapping of arrays")
        self._best = best
        self.wait = wait
        self.stopped_epoch = None if stopped is None else int(stopped)
        self.best_weights = None if weights is None else dict(weights)

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, monitor={self.monitor!r}, min_delta={self.min_delta}, "
                f"restore_best_weights={self.restore_best_weights})")


def from_argument(value: Any) -> EarlyStopping | None:
    """The Trainer's ``early_stopping=``: None, an :class:`EarlyStopping`, a patience (int) or a
    dict of :class:`EarlyStopping`'s arguments."""
    if value is None or isinstance(value, EarlyStopping):
        return value
    if isinstance(value, Mapping):
        return EarlyStopping(**value)
    if isinstance(value, bool):
        raise TypeError("early_stopping takes a patience (an int), a dict of EarlyStopping's arguments or an "
                        "EarlyStopping, not a bool")
    return EarlyStopping(patience=value)
