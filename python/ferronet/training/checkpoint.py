"""Checkpoints: the best and the last weights, and the training state a killed run resumes from.

``Trainer(..., checkpoint=PATH)`` writes three files (a ``.npz`` at the
end of PATH is dropped first, so ``run/ckpt`` and ``run/ckpt.npz`` mean
the same):

* ``PATH-best.npz`` - the weights of the best epoch so far, by the
  monitored metric (early stopping's ``monitor`` when there is early
  stopping, else ``val_loss`` with validation data, else ``test_acc``);
* ``PATH-last.npz`` - the weights after the latest finished epoch (and
  after the last step, when training ends between epochs);
* ``PATH-state.npz`` - everything a resumed run needs: weights, the
  optimizer's state, the Trainer's counters, lists and history, the
  random generators' states, the callbacks' states (see
  :meth:`ferronet.trainer.Trainer.state_dict`).

The two weight files are what ``network.save_params`` writes and load
with ``network.load_params``.  The state file is a
:mod:`ferronet.training.state_file` archive: no pickle, nothing in it is run.
Each file is written atomically (a kill leaves the previous version
intact), the best before the last before the state, after the epoch's
callbacks have run; so the state file always describes an epoch whose
best and last files are already on disk.

``Trainer(..., resume=PATH)`` reads ``PATH-state.npz`` (or PATH itself
when it names an existing file) and continues that run - to the same
weights and history, bit for bit, as a run that was never interrupted.
A damaged file, or one from a different run set-up (another network,
optimizer, batch size, training set size, seed mode), is a
:class:`CheckpointError` naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple, Union

from ferronet.training.monitor import BestValue
from ferronet.networks.param_file import write_params
from ferronet.training.state_file import read_state, write_state

PathLike = Union[str, os.PathLike]

#: what a Trainer's state says it is (``state["kind"]``)
TRAINER_STATE = "ferronet-trainer"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be resumed from: damaged, or from a different set-up."""


class CheckpointPaths(NamedTuple):
    best: Path
    last: Path
    state: Path


def checkpoint_paths(path: PathLike) -> CheckpointPaths:
    """The three files of checkpoint ``path``: ``PATH-best.npz``, ``PATH-last.npz``, ``PATH-state.npz``."""
    base = Path(os.fspath(path))
    if base.suffix == ".npz":
        base = base.with_suffix("")
    if not base.name:
        raise ValueError(f"a checkpoint path needs a file name, got {os.fspath(path)!r}")
    return CheckpointPaths(*(base.with_name(f"{base.name}-{kind}.npz") for kind in ("best", "last", "state")))


def checkpoint_of_state_file(path: PathLike) -> Path:
    """The checkpoint PATH a ``resume=`` path belongs to: ``run/ckpt-state.npz`` -> ``run/ckpt``;
    any other path is its own checkpoint PATH."""
    given = Path(os.fspath(path))
    suffix = "-state.npz"
    return given.with_name(given.name[:-len(suffix)]) if given.name.endswith(suffix) and given.is_file() else given


def state_file_of(path: PathLike) -> Path:
    """The state file ``resume=path`` means: ``path`` itself when it is an existing file, else ``PATH-state.npz``."""
    given = Path(os.fspath(path))
    return given if given.is_file() else checkpoint_paths(given).state


def check_directory(path: Path, what: str) -> None:
    """FileNotFoundError (NotADirectoryError) now, rather than after an epoch, when ``path``'s directory is missing."""
    directory = path.parent
    if not directory.exists():
        raise FileNotFoundError(f"{what} {path}: the directory {directory} does not exist")
    if not directory.is_dir():
        raise NotADirectoryError(f"{what} {path}: {directory} is not a directory")


def save_weights(network: Any, path: Path) -> None:
    """``network.save_params(path)`` (atomic), or the same archive of ``network.params`` for a network without it."""
    if callable(getattr(network, "save_params", None)):
        network.save_params(path)
    else:
        write_params(path, dict(network.params))


class Checkpoint:
    """Writes a Trainer's checkpoint files (see the module's docstring).

    path: the checkpoint's PATH; monitor: the metric that picks the best epoch.
    ``best`` tracks it; ``saved_iter`` is the iteration of the last state written.
    """

    def __init__(self, path: PathLike, monitor: str) -> None:
        self.paths = checkpoint_paths(path)
        check_directory(self.paths.state, "checkpoint")
        self.best = BestValue(monitor)
        self.saved_iter: int | None = None

    def epoch_end(self, trainer: Any, logs: dict[str, Any]) -> None:
        """After an epoch (its callbacks run): the best weights when they improved, the last, the state."""
        if self.best.update(logs[self.best.metric], logs["epoch"]):
            save_weights(trainer.network, self.paths.best)
        self.save_last(trainer)

    def save_last(self, trainer: Any) -> None:
        """The last weights and the training state, now."""
        save_weights(trainer.network, self.paths.last)
        write_state(self.paths.state, trainer.state_dict())
        self.saved_iter = trainer.current_iter

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best.load_state_dict(state["best"])


def read_training_state(path: PathLike) -> tuple[Path, dict[str, Any]]:
    """``(file, state)`` from the state file ``resume=path`` means (see :func:`state_file_of`).

    FileNotFoundError naming the file when it is missing; CheckpointError
    (a ValueError) naming it when it is damaged or not a training state.
    """
    file = state_file_of(path)
    if not file.exists():
        raise FileNotFoundError(f"no checkpoint to resume from: {file} does not exist")
    try:
        state = read_state(file)
    except ValueError as exc:
        raise CheckpointError(str(exc)) from exc
    if state.get("kind") != TRAINER_STATE:
        raise CheckpointError(f"{file}: not a Trainer's training state")
    return file, state
