"""The Trainer's per-epoch history: its entries, and the JSON file it is saved to.

``Trainer.history`` is a dict of lists, one entry per finished epoch:

* ``epoch``: 1, 2, ...;
* ``train_loss``: the mean of the epoch's mini-batch losses (penalties included);
* ``train_acc``, ``test_acc``: the accuracies measured at the end of the
  epoch (the book's ``train_acc_list`` / ``test_acc_list``, on the first
  ``evaluate_sample_num_per_epoch`` samples when that is set);
* ``val_loss``, ``val_acc``: on the whole validation set, present only
  when the Trainer has validation data;
* ``lr``: the optimizer's learning rate in the epoch's last update (None
  for an optimizer without ``lr``);
* ``seconds``: the seconds spent training in the epoch, evaluation
  excluded (the Trainer's ``epoch_times``).

The metric names are the ones early stopping and checkpoints monitor
(:mod:`ferronet.training.monitor`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

from ferronet.fileio import atomic_write

PathLike = Union[str, os.PathLike]

#: every key a history may have, in the order they are written
KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_acc", "lr", "seconds")
#: the keys present only with validation data
VALIDATION_KEYS = ("val_loss", "val_acc")


def new_history(validation: bool, test: bool = True) -> dict[str, list[Any]]:
    """An empty history: every key of :data:`KEYS`, the validation ones only when ``validation``,
    ``test_acc`` only when there is a test set (``test``)."""
    return {key: [] for key in KEYS
            if (validation or key not in VALIDATION_KEYS) and (test or key != "test_acc")}


def append_epoch(history: dict[str, list[Any]], logs: Mapping[str, Any]) -> None:
    """Append one epoch's ``logs`` (a value for every key of ``history``)."""
    for key, values in history.items():
        values.append(logs[key])


def _json_number(value: Any) -> Any:
    """``value`` with non-finite floats as None: JSON has no NaN or infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_history(path: PathLike, history: Mapping[str, list[Any]]) -> Path:
    """Write ``history`` to ``path`` as a JSON object of lists, atomically; returns the path.

    A non-finite number (the loss of a diverged run) is written as null.
    The name is used as given.
    """
    target = Path(os.fspath(path))
    lines = [f"  {json.dumps(key)}: {json.dumps([_json_number(v) for v in values], allow_nan=False)}"
             for key, values in history.items()]
    text = "{\n" + ",\n".join(lines) + "\n}\n"  # one key per line
    with atomic_write(target) as fh:
        fh.write(text.encode("utf-8"))
    return target
