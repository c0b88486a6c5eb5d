"""Mini-batch training loop (the book's ``Trainer``, with its bookkeeping fixed).

Differences from the book's class, same constructor arguments:

* an epoch is ``ceil(N / mini_batch_size)`` steps (an integer), and every
  training sample is used exactly once per epoch: each epoch draws a fresh
  permutation and walks it in batches, the last partial batch included;
* accuracies are evaluated at the end of each real epoch (not after step 1);
* each step runs one forward and one backward pass (``loss_and_gradient``
  when the network has it) instead of an extra forward pass for the loss;
* ``seed`` makes the shuffling, and so the loss history, reproducible;
  without it the shuffling draws from NumPy's global generator, as the
  book's ``np.random.choice`` does, so ``np.random.seed`` repeats a run;
* ``optimizer_param`` is copied, never modified;
* ``epochs`` may be fractional, as in the book: ``epochs=0.5`` trains
  ``int(0.5 * iter_per_epoch)`` steps (at least one step for any positive
  ``epochs``); accuracies are still measured at each whole epoch, and the
  final test accuracy after the last step;
* with ``verbose`` on a terminal (stdout and stderr both), a ``tqdm``
  progress bar per epoch on stderr (running loss and accuracy, steps per
  second) and one line per epoch; otherwise (a pipe, a file, a notebook)
  the book's lines on stdout, ``=== epoch:1, train acc:..., test acc:...
  ===`` per epoch and ``=============== Final Test Accuracy
  ===============`` / ``test acc:...`` at the end (:mod:`ferronet.training.progress`);
* ``epoch_times`` records the seconds spent training in each epoch.

Additions, all keyword arguments after the book's:

* ``lr_schedule`` (a :mod:`ferronet.schedules` object) sets the
  optimizer's ``lr`` before every update, from the epoch index (default)
  or the iteration count (``lr_schedule_per='iteration'``); after every
  update the network's ``apply_constraints()`` runs when it has one (the
  max-norm constraint of :mod:`ferronet.regularizers`);
* ``clip_norm``: clip the gradients to this global norm before each update
  (given to the optimizer, see :mod:`ferronet.clipping`);
* validation data: ``validation_split=f`` holds out ``floor(f * N)``
  training samples, drawn once from the Trainer's generator (so ``seed``,
  or ``np.random.seed`` without it, repeats the split), or ``x_val=,
  t_val=`` gives a set; its loss and accuracy are measured after each epoch;
* ``early_stopping``: a patience, a dict of arguments or an
  :class:`ferronet.training.early_stopping.EarlyStopping` (monitors ``val_loss``
  by default, restores the best weights at the end);
* ``augment``: ``augment(x_batch, rng) -> x_batch`` applied to the inputs
  of every training mini-batch (see :class:`Trainer`);
* ``callbacks``: :mod:`ferronet.training.callbacks` (``on_train_begin``,
  ``on_epoch_end``, ``on_train_end``; ``trainer.stop_training = True`` or
  ``on_epoch_end`` returning False stops);
* ``history``: the per-epoch metrics (:mod:`ferronet.training.history`), written
  as JSON after every epoch to ``history_path`` or by :meth:`Trainer.save_history`;
* ``checkpoint=PATH`` writes ``PATH-best.npz``, ``PATH-last.npz`` and
  ``PATH-state.npz`` after every epoch; ``resume=PATH`` continues a
  killed run to the same result as an uninterrupted one
  (:mod:`ferronet.training.checkpoint`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Union

import numpy as np

from ferronet.training import early_stopping as early_stopping_module
from ferronet.training import network_state, progress, validation
from ferronet.training.callbacks import CallbackList
from ferronet.training.checkpoint import (TRAINER_STATE, Checkpoint, CheckpointError, check_directory,
                                 checkpoint_of_state_file, read_training_state)
from ferronet.training.early_stopping import EarlyStopping
from ferronet.training.history import VALIDATION_KEYS, append_epoch, new_history, write_history
from ferronet.ops import _checks
from ferronet.optimizers import Optimizer, get_optimizer
from ferronet.rng import generator

PathLike = Union[str, os.PathLike]


def _check_epochs(epochs: float) -> float:
    """``epochs`` as a finite number >= 0 (an int stays an int)."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, float, np.integer, np.floating)):
        raise TypeError(f"epochs must be a number, got {type(epochs).__name__}")
    if not math.isfinite(epochs) or epochs < 0:
        raise ValueError(f"epochs must be a finite number >= 0, got {epochs}")
    return int(epochs) if float(epochs).is_integer() else float(epochs)


def steps_for(epochs: float, iter_per_epoch: int) -> int:
    """Optimizer steps in ``epochs`` epochs: ``int(epochs * iter_per_epoch)`` as the book counts,
    robust to rounding (0.29 * 100 is 29 steps, not 28) and at least 1 when ``epochs > 0``."""
    if epochs == 0:
        return 0
    exact = epochs * iter_per_epoch
    return max(1, math.floor(exact + 1e-9 * max(1.0, exact)))


def _make_optimizer(optimizer: str | Optimizer, optimizer_param: Mapping[str, Any], clip_norm: float | None) -> Any:
    """The optimizer named (built from a copy of ``optimizer_param``) or given, clipping at ``clip_norm``."""
    if isinstance(optimizer, str):
        param = dict(optimizer_param)
        if clip_norm is not None:
            if param.get("clip_norm", clip_norm) != clip_norm:
                raise ValueError(f"clip_norm is given twice: {clip_norm} and optimizer_param's {param['clip_norm']}")
            param["clip_norm"] = clip_norm
        return get_optimizer(optimizer, **param)
    if clip_norm is not None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"clip_norm= needs a ferronet optimizer, got {type(optimizer).__name__}; clip the "
                            f"gradients yourself with ferronet.clipping.clip_grads")
        optimizer.clip_norm = _checks.positive("clip_norm", clip_norm)
    return optimizer


def _current_lr(optimizer: Any) -> float | None:
    lr = getattr(optimizer, "lr", None)
    return None if lr is None else float(lr)


def _measure(network: Any, x: np.ndarray, t: np.ndarray) -> float:
    """The network's score on (x, t): ``score`` when it has one (accuracy for a
    classifier, R² for a regression), else the book's ``accuracy``."""
    score = getattr(network, "score", None)
    return float(score(x, t) if callable(score) else network.accuracy(x, t))


def _batch_accuracy(network: Any, t_batch: np.ndarray) -> float | None:
    """The accuracy of the last training batch from the loss layer's kept output (``last_layer.y``,
    (B, C)), or None when the network does not keep one (or is not a softmax classifier)."""
    last = getattr(network, "last_layer", None)
    if getattr(last, "task", "classification") != "classification":
        return None
    y = getattr(last, "y", None)
    if not isinstance(y, np.ndarray) or y.ndim != 2 or len(y) != len(t_batch):
        return None
    labels = np.argmax(t_batch, axis=1) if t_batch.ndim == 2 else t_batch.reshape(-1)
    return float(np.mean(np.argmax(y, axis=1) == labels))


#: the sections of a Trainer's state that are mappings, and the entries each must have
_STATE_LAYOUT: dict[str, tuple[str, ...]] = {
    "network": ("type", "arrays"),
    "optimizer": ("type", "scalars", "state"),
    "random": ("trainer", "layers", "numpy_global"),
    "progress": ("current_iter", "current_epoch", "order", "epoch_loss_sum", "epoch_steps", "epoch_train_seconds",
                 "stop_training"),
    "data": ("samples_given", "train_size", "batch_size", "validation_size", "validation_indices"),
    "lists": ("train_loss_list", "train_acc_list", "test_acc_list", "epoch_times"),
    "history": (),
}


def _numpy_global_state() -> dict[str, Any]:
    """NumPy's global generator (``np.random.get_state()``), as plain data."""
    _, key, pos, has_gauss, cached_gaussian = np.random.get_state()
    return {"key": key, "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)}


def _set_numpy_global_state(state: Mapping[str, Any]) -> None:
    np.random.set_state(("MT19937", np.asarray(state["key"], dtype=np.uint32), int(state["pos"]),
                         int(state["has_gauss"]), float(state["cached_gaussian"])))


class Trainer:
    """Train ``network`` with mini-batches and record its learning curves.

    The book's arguments:

    network: has ``loss(x, t)``, ``gradient(x, t)``, ``accuracy(x, t)`` (or
    ``score(x, t)``, preferred: accuracy for a classifier, R² for a regression) and a
    ``params`` dict (optionally ``loss_and_gradient(x, t)``).
    x_train (N, ...), t_train (N,) labels or (N, C) one-hot; likewise the test set,
    which may be None (both x_test and t_test): no ``test_acc`` is measured and
    ``final_test_acc`` stays None.
    epochs: how long to train, a number >= 0 (fractions allowed, see above).
    optimizer: a name for :func:`ferronet.optimizers.get_optimizer` (any case)
    or an optimizer object; optimizer_param: the keyword arguments for a
    named optimizer (copied, never modified; ignored for an object).
    evaluate_sample_num_per_epoch: evaluate the per-epoch train and test
    accuracies on the first that many samples of each set (None: all of them).
    verbose: show progress (see the module's docstring).
    seed: None (NumPy's global generator) or a seed for a private generator
    (shuffling, the validation split, and what ``augment`` draws).

    ferronet's additions:

    lr_schedule: None, or a schedule (:class:`ferronet.schedules.LRSchedule`)
    applied before every update: ``lr_schedule.apply(optimizer, n)`` with
    ``n`` the index of the current epoch (``lr_schedule_per='epoch'``, 0 in
    the first) or the number of updates made so far (``'iteration'``).
    clip_norm: None, or a number > 0: the optimizer clips the gradients to
    that global norm before each update (a named optimizer gets it as
    ``clip_norm=``; an :class:`~ferronet.optimizers.Optimizer` object has
    its ``clip_norm`` set).
    validation_split: None, or a fraction in (0, 1) of the training set
    held out for validation (``floor(f * N)`` samples drawn once; the
    Trainer then trains on the rest). x_val, t_val: a validation set
    instead (both or neither; not with ``validation_split``).
    early_stopping: None, a patience (int), a dict of arguments or an
    :class:`~ferronet.training.early_stopping.EarlyStopping`; it is appended to
    ``callbacks``.
    augment: None, or ``augment(x_batch, rng) -> x_batch``, called on the
    inputs of every training mini-batch before the forward pass (never on
    evaluation data).  ``x_batch`` is a fresh copy, (B, C, H, W) or (B, D)
    float32/float64 as the training set holds it, which the function may
    change in place; ``rng`` is the Trainer's generator (draw every random
    number from it, and a seeded run - or a resumed one - repeats exactly).
    It returns an array of the same shape, best in the same dtype.  An
    augment object with ``state_dict()`` / ``load_state_dict()`` is saved
    in checkpoints.
    callbacks: a list of callbacks (:mod:`ferronet.training.callbacks`).
    checkpoint: None, or a PATH: after every epoch write ``PATH-best.npz``,
    ``PATH-last.npz`` and ``PATH-state.npz`` (:mod:`ferronet.training.checkpoint`).
    resume: None, or the PATH of a checkpoint (or its state file): continue
    that run (weights, optimizer, counters, lists, history, random states,
    callbacks) from where it was saved; ``checkpoint`` defaults to the same
    PATH.  The other arguments must describe the same run (same network,
    optimizer class, data, batch size, seed mode, callbacks); the optimizer's
    hyper-parameters come from the checkpoint.  ``epochs`` may be larger
    than the saved run's, to train on.
    history_path: None, or a file the history is written to as JSON
    (atomically) after every epoch and at the end.

    Attributes: ``train_loss_list`` (one loss per step), ``train_acc_list`` /
    ``test_acc_list`` (one per epoch), ``epoch_times`` (training seconds per
    epoch, evaluation excluded), ``history`` (a dict of per-epoch lists,
    :mod:`ferronet.training.history`), ``final_test_acc``, ``iter_per_epoch``,
    ``max_iter``, ``current_iter``, ``current_epoch``, ``stop_training``,
    ``x_val`` / ``t_val`` (None without validation), ``validation_indices``
    (the held-out samples' indices with ``validation_split``),
    ``callbacks``, ``early_stopping``, ``checkpoint``, ``resumed_from``.
    """

    def __init__(self, network: Any, x_train: np.ndarray, t_train: np.ndarray,
                 x_test: np.ndarray | None, t_test: np.ndarray | None, epochs: float = 20,
                 mini_batch_size: int = 100,
                 optimizer: str | Optimizer = "SGD",
                 optimizer_param: Mapping[str, Any] = MappingProxyType({"lr": 0.01}),
                 evaluate_sample_num_per_epoch: int | None = None, verbose: bool = True,
                 seed: int | None = None, lr_schedule: Any = None, lr_schedule_per: str = "epoch", *,
                 clip_norm: float | None = None, validation_split: float | None = None,
                 x_val: np.ndarray | None = None, t_val: np.ndarray | None = None, early_stopping: Any = None,
                 augment: Any = None, callbacks: Sequence[Any] = (), checkpoint: PathLike | None = None,
                 resume: PathLike | None = None, history_path: PathLike | None = None) -> None:
        if len(x_train) != len(t_train):
            raise ValueError(f"x_train and t_train differ in length: {len(x_train)} vs {len(t_train)}")
        if len(x_train) == 0:
            raise ValueError("the training set is empty")
        if mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
        if lr_schedule_per not in ("epoch", "iteration"):
            raise ValueError(f"lr_schedule_per must be 'epoch' or 'iteration', got {lr_schedule_per!r}")
        if lr_schedule is not None and not callable(getattr(lr_schedule, "apply", None)):
            raise TypeError(f"lr_schedule must be a schedule with an apply(optimizer, step) method "
                            f"(ferronet.schedules), got {type(lr_schedule).__name__}")
        if augment is not None and not callable(augment):
            raise TypeError(f"augment must be a function augment(x_batch, rng) -> x_batch, "
                            f"got {type(augment).__name__}")
        validation.check_given(x_val, t_val)
        if (x_test is None) != (t_test is None):
            raise ValueError("give both x_test and t_test, or neither (no test set)")
        if validation_split is not None and x_val is not None:
            raise ValueError("give validation_split or x_val and t_val, not both")
        self.lr_schedule = lr_schedule
        self.lr_schedule_per = lr_schedule_per
        self.network = network
        self.verbose = verbose
        self.epochs = _check_epochs(epochs)
        self.batch_size = int(mini_batch_size)
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.optimizer = _make_optimizer(optimizer, optimizer_param, clip_norm)
        self.augment = augment
        self.rng = generator(seed)

        self.samples_given = len(x_train)  # before any validation split
        self.validation_indices: np.ndarray | None = None  # (N_val,) int64, with validation_split
        self._split_source = None
        if validation_split is not None:
            train_idx, val_idx = validation.split_indices(len(x_train), validation_split, self.rng)
            self._split_source = (x_train, t_train)
            self.validation_indices = val_idx
            x_val, t_val = x_train[val_idx], t_train[val_idx]
            x_train, t_train = x_train[train_idx], t_train[train_idx]
        self.x_train = x_train
        self.t_train = t_train
        self.x_test = x_test
        self.t_test = t_test
        self.x_val = x_val
        self.t_val = t_val

        self.train_size = len(x_train)
        self.iter_per_epoch = math.ceil(self.train_size / self.batch_size)
        self.max_iter = steps_for(self.epochs, self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0
        self.stop_training = False

        stopper = early_stopping_module.from_argument(early_stopping)
        self.callbacks = CallbackList([*callbacks, *([stopper] if stopper else [])])
        stoppers = [c for c in self.callbacks.callbacks if isinstance(c, EarlyStopping)]
        for c in stoppers:
            if c.monitor in VALIDATION_KEYS and x_val is None:
                raise ValueError(f"early stopping monitors {c.monitor!r}, which needs validation data: "
                                 f"give validation_split= or x_val and t_val")
        #: the run's EarlyStopping (from early_stopping=, else the first in callbacks), or None
        self.early_stopping: EarlyStopping | None = stopper or (stoppers[0] if stoppers else None)
        if resume is not None and checkpoint is None:
            checkpoint = checkpoint_of_state_file(resume)
        if self.early_stopping is not None:
            monitor = self.early_stopping.monitor
        else:
            monitor = "val_loss" if x_val is not None else "test_acc" if x_test is not None else "train_loss"
        self.checkpoint = None if checkpoint is None else Checkpoint(checkpoint, monitor)
        if self.checkpoint is not None and not callable(getattr(self.optimizer, "state_dict", None)):
            raise TypeError(f"checkpoint= needs an optimizer with state_dict() and load_state_dict() "
                            f"(ferronet.optimizers), got {type(self.optimizer).__name__}")
        self.history_path = None if history_path is None else Path(os.fspath(history_path))
        if self.history_path is not None:
            check_directory(self.history_path, "history file")

        self._order: np.ndarray | None = None  # this epoch's permutation of the training set
        self._epoch_loss_sum = 0.0  # over this epoch's steps so far
        self._epoch_steps = 0
        self._epoch_train_seconds = 0.0
        self._progress = progress.reporter(verbose, self.epochs)

        self.train_loss_list: list[float] = []
        self.train_acc_list: list[float] = []
        self.test_acc_list: list[float] = []
        self.epoch_times: list[float] = []
        self.history = new_history(validation=x_val is not None, test=x_test is not None)
        self.final_test_acc: float | None = None
        self.resumed_from: Path | None = None
        self._resume_untold = False
        if resume is not None:
            self._resume(resume)

    # ------------------------------------------------------------------ steps

    def _next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next mini-batch of this epoch's permutation (a new permutation at epoch start)."""
        step_in_epoch = self.current_iter % self.iter_per_epoch
        if step_in_epoch == 0 or self._order is None:
            self._order = self.rng.permutation(self.train_size)  # (N,)
        idx = self._order[step_in_epoch * self.batch_size:(step_in_epoch + 1) * self.batch_size]  # (B,)
        return self.x_train[idx], self.t_train[idx]

    def _augmented(self, x_batch: np.ndarray) -> np.ndarray:
        """``augment(x_batch, rng)``, checked to be an array of x_batch's shape."""
        out = self.augment(x_batch, self.rng)
        if not isinstance(out, np.ndarray) or out.shape != x_batch.shape:
            got = out.shape if isinstance(out, np.ndarray) else type(out).__name__
            raise ValueError(f"augment must return an array of the batch's shape {x_batch.shape}, got {got}")
        return out

    def _loss_and_gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        net = self.network
        if hasattr(net, "loss_and_gradient"):
            return net.loss_and_gradient(x, t)
        grads = net.gradient(x, t)  # a network of the book's shape: the loss costs a second pass
        return float(net.loss(x, t)), grads

    def train_step(self) -> float:
        """One optimizer step on the next mini-batch; returns its loss.

        After the last step of an epoch, the epoch is evaluated and its
        callbacks, checkpoint and history file follow.
        """
        start = time.perf_counter()
        x_batch, t_batch = self._next_batch()
        if self.augment is not None:
            x_batch = self._augmented(x_batch)
        loss, grads = self._loss_and_gradient(x_batch, t_batch)
        if self.lr_schedule is not None:
            per_epoch = self.lr_schedule_per == "epoch"
            self.lr_schedule.apply(self.optimizer,
                                   self.current_iter // self.iter_per_epoch if per_epoch else self.current_iter)
        self.optimizer.update(self.network.params, grads)
        if hasattr(self.network, "apply_constraints"):
            self.network.apply_constraints()
        loss = float(loss)
        self.train_loss_list.append(loss)
        self.current_iter += 1
        self._epoch_loss_sum += loss
        self._epoch_steps += 1
        self._epoch_train_seconds += time.perf_counter() - start

        done = (self.current_iter - 1) % self.iter_per_epoch + 1
        steps_this_epoch = min(self.iter_per_epoch, self.max_iter - (self.current_iter - done))
        acc = _batch_accuracy(self.network, t_batch) if self._progress.wants_accuracy else None
        self._progress.step(self.current_epoch + 1, done, max(done, steps_this_epoch), loss, acc)
        if self.current_iter % self.iter_per_epoch == 0:
            self._end_epoch()
        return loss

    def _evaluate_epoch(self) -> dict[str, Any]:
        """The finished epoch's history entry (accuracies measured now)."""
        n = self.evaluate_sample_num_per_epoch
        x_tr, t_tr = self.x_train[:n], self.t_train[:n]  # n None: all
        logs: dict[str, Any] = {"epoch": self.current_epoch, "train_loss": self._epoch_loss_sum / self._epoch_steps,
                                "train_acc": _measure(self.network, x_tr, t_tr)}
        test_acc = None if self.x_test is None else _measure(self.network, self.x_test[:n], self.t_test[:n])
        if self.x_val is not None:
            logs["val_loss"] = validation.validation_loss(self.network, self.x_val, self.t_val)
            logs["val_acc"] = _measure(self.network, self.x_val, self.t_val)
        if test_acc is not None:
            logs["test_acc"] = test_acc
        logs.update(lr=_current_lr(self.optimizer), seconds=self._epoch_train_seconds)
        return logs

    def _end_epoch(self) -> None:
        self.current_epoch += 1
        logs = self._evaluate_epoch()
        self._epoch_loss_sum, self._epoch_steps, self._epoch_train_seconds = 0.0, 0, 0.0
        self.epoch_times.append(logs["seconds"])
        self.train_acc_list.append(logs["train_acc"])
        if "test_acc" in logs:
            self.test_acc_list.append(logs["test_acc"])
        append_epoch(self.history, logs)
        self._progress.end_epoch(logs)
        if self.callbacks.epoch_end(self, logs):
            self.stop_training = True
        if self.checkpoint is not None:
            self.checkpoint.epoch_end(self, logs)
        if self.history_path is not None:
            self.save_history(self.history_path)

    def _last_logs(self) -> dict[str, Any]:
        """The last finished epoch's history entry ({} before the first)."""
        return {key: values[-1] for key, values in self.history.items() if values}

    def fit(self) -> None:
        """Train to the end without the final evaluation: ``on_train_begin``, the remaining steps of
        ``epochs`` epochs (until a stop request), the last checkpoint, ``on_train_end``
        (early stopping's restore), the history file."""
        if self._resume_untold:
            self._resume_untold = False
            self.message(f"resumed from {self.resumed_from}: epoch {self.current_epoch}, "
                         f"iteration {self.current_iter} of {self.max_iter}")
        self.callbacks.train_begin(self, {})
        while self.current_iter < self.max_iter and not self.stop_training:
            self.train_step()
        if self.checkpoint is not None and self.checkpoint.saved_iter != self.current_iter:
            self.checkpoint.save_last(self)  # training ended between epochs
        self.callbacks.train_end(self, self._last_logs())
        if self.history_path is not None:
            self.save_history(self.history_path)

    def train(self) -> None:
        """:meth:`fit`, then measure the final test accuracy on the whole test set (``final_test_acc``)."""
        self.fit()
        if self.x_test is None:
            return  # no test set: final_test_acc stays None
        ended_on_an_epoch = self.current_iter > 0 and self.current_iter % self.iter_per_epoch == 0
        if self.evaluate_sample_num_per_epoch is None and ended_on_an_epoch and not len(self.callbacks):
            self.final_test_acc = self.test_acc_list[-1]  # just measured on the whole test set, weights unchanged
        else:  # callbacks may have changed the weights (early stopping restores the best)
            self.final_test_acc = _measure(self.network, self.x_test, self.t_test)
        self._progress.end_train(self.final_test_acc)

    def message(self, text: str) -> None:
        """Show a line of news (early stopping, resuming) when ``verbose``."""
        self._progress.message(text)

    def save_history(self, path: PathLike) -> Path:
        """Write :attr:`history` to ``path`` as JSON (atomically, :func:`ferronet.training.history.write_history`)."""
        return write_history(path, self.history)

    # ------------------------------------------------------------------ checkpoints

    def _uses_numpy_global(self) -> bool:
        """Whether this run draws from NumPy's global generator (no seed, or a layer without one)."""
        return network_state.draws_from_numpy_global(self.rng) or network_state.layer_generators(self.network)[1]

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs, as plain data (:mod:`ferronet.training.state_file` writes it).

        ``network`` (its class name and copies of its arrays), ``optimizer``
        (its ``state_dict()``), ``random`` (the Trainer's private generator,
        the layers' private generators, NumPy's global state when the run
        draws from it), ``progress`` (counters, this epoch's permutation and
        sums, ``stop_training``), ``data`` (sizes, the validation indices),
        ``lists`` (the book's three lists and ``epoch_times``), ``history``,
        ``callbacks``, ``checkpoint`` (its best value) and the states of
        ``lr_schedule`` and ``augment`` when they have ``state_dict()``.
        """
        private_layers, _ = network_state.layer_generators(self.network)
        own_global = network_state.draws_from_numpy_global(self.rng)

        def optional_state(obj: Any) -> Any:
            return obj.state_dict() if callable(getattr(obj, "state_dict", None)) else None

        return {
            "kind": TRAINER_STATE,
            "network": {"type": type(self.network).__name__, "arrays": network_state.snapshot(self.network)},
            "optimizer": self.optimizer.state_dict(),
            "random": {"trainer": None if own_global else self.rng.bit_generator.state,
                       "layers": {name: g.bit_generator.state for name, g in private_layers.items()},
                       "numpy_global": _numpy_global_state() if self._uses_numpy_global() else None},
            "progress": {"current_iter": self.current_iter, "current_epoch": self.current_epoch,
                         "order": self._order, "epoch_loss_sum": self._epoch_loss_sum,
                         "epoch_steps": self._epoch_steps, "epoch_train_seconds": self._epoch_train_seconds,
                         "stop_training": bool(self.stop_training)},
            "data": {"samples_given": self.samples_given, "train_size": self.train_size,
                     "batch_size": self.batch_size, "validation_indices": self.validation_indices,
                     "validation_size": None if self.x_val is None else len(self.x_val)},
            "lists": {name: np.asarray(getattr(self, name), dtype=np.float64)
                      for name in ("train_loss_list", "train_acc_list", "test_acc_list", "epoch_times")},
            "history": {key: list(values) for key, values in self.history.items()},
            "callbacks": self.callbacks.state_dict(),
            "checkpoint": None if self.checkpoint is None else self.checkpoint.state_dict(),
            "lr_schedule": optional_state(self.lr_schedule),
            "augment": optional_state(self.augment),
        }

    def _check_state(self, state: Mapping[str, Any]) -> None:
        """ValueError (KeyError for a missing entry) unless ``state`` continues this run."""
        if state["kind"] != TRAINER_STATE:
            raise ValueError("not a Trainer's state")
        for section, keys in _STATE_LAYOUT.items():
            if not isinstance(state[section], Mapping):
                raise ValueError(f"its {section!r} is not a mapping")
            missing = [key for key in keys if key not in state[section]]
            if missing:
                raise KeyError(f"{section}/{missing[0]}")
        net = state["network"]
        if net["type"] != type(self.network).__name__:
            raise ValueError(f"it holds a {net['type']}, this network is a {type(self.network).__name__}")
        network_state.check_arrays(self.network, net["arrays"])
        opt = state["optimizer"]
        if opt["type"] != type(self.optimizer).__name__:
            raise ValueError(f"it was trained with {opt['type']}, this Trainer has {type(self.optimizer).__name__}")
        for name, store in opt["state"].items():
            for key, array in store.items():
                if key not in self.network.params or np.shape(array) != np.shape(self.network.params[key]):
                    raise ValueError(f"optimizer state {name}[{key!r}] does not fit the network's parameters")
        data = state["data"]
        here = {("samples given", "samples_given"): self.samples_given,
                ("training samples", "train_size"): self.train_size,
                ("batch size", "batch_size"): self.batch_size,
                ("validation samples", "validation_size"): None if self.x_val is None else len(self.x_val)}
        differences = [f"{name} {data[key] or 'none'} in it, {value or 'none'} here"
                       for (name, key), value in here.items() if data[key] != value]
        if differences:
            raise ValueError(f"it comes from other data or options: {'; '.join(differences)}")
        if (data["validation_indices"] is None) != (self.validation_indices is None):
            raise ValueError("validation_split differs: give it in both runs or in neither")
        indices = data["validation_indices"]
        if indices is not None and (indices.min() < 0 or indices.max() >= self.samples_given):
            raise ValueError("its validation indices lie outside the training set")
        prog = state["progress"]
        if not 0 <= prog["current_iter"] <= self.max_iter:
            raise ValueError(f"it is at iteration {prog['current_iter']}, past this run's {self.max_iter} "
                             f"(epochs={self.epochs:g}); give at least as many epochs")
        if prog["current_epoch"] != prog["current_iter"] // self.iter_per_epoch:
            raise ValueError("its epoch and iteration counts disagree")
        rand = state["random"]
        if (rand["trainer"] is None) != network_state.draws_from_numpy_global(self.rng):
            mode = "NumPy's global generator (no seed=)" if rand["trainer"] is None else "a private seed="
            raise ValueError(f"it was made by a run drawing from {mode}; resume with the same seed setting")
        if rand["trainer"] is not None and rand["trainer"]["bit_generator"] != type(self.rng.bit_generator).__name__:
            raise ValueError(f"its generator is a {rand['trainer']['bit_generator']}, this Trainer's a "
                             f"{type(self.rng.bit_generator).__name__}")
        layers, _ = network_state.layer_generators(self.network)
        if sorted(rand["layers"]) != sorted(layers):
            raise ValueError(f"its layers with private generators are {sorted(rand['layers'])}, this network's "
                             f"{sorted(layers)} (build the network with the same seed setting)")
        if (rand["numpy_global"] is None) == self._uses_numpy_global():
            raise ValueError("it differs from this run in drawing from NumPy's global generator "
                             "(seed= given to the Trainer or the network in one run only)")
        self.callbacks.check_state_dict(state["callbacks"])
        if set(state["history"]) != set(self.history):
            raise ValueError(f"its history has {sorted(state['history'])}, this Trainer's {sorted(self.history)}")
        if self.checkpoint is not None and state["checkpoint"] is not None:
            if state["checkpoint"]["best"]["metric"] != self.checkpoint.best.metric:
                raise ValueError(f"its best checkpoint was picked by {state['checkpoint']['best']['metric']!r}, "
                                 f"this run's by {self.checkpoint.best.metric!r}")
        for name in ("lr_schedule", "augment"):
            if state[name] is not None and not callable(getattr(getattr(self, name), "load_state_dict", None)):
                raise ValueError(f"it holds a state of {name}, this Trainer's {name} has no load_state_dict")

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state`` (what :meth:`state_dict` returned, e.g. read from a checkpoint).

        Everything is checked before anything changes (ValueError, or
        KeyError for a missing entry, describing the mismatch); then the
        optimizer, the network's arrays, the random generators (NumPy's
        global state included when the run draws from it), the counters,
        lists, history, callbacks and the checkpoint's best value are
        replaced by the saved ones.
        """
        self._check_state(state)
        # what can still refuse the state first; the network and NumPy's global state last
        self.callbacks.load_state_dict(state["callbacks"])
        if self.checkpoint is not None and state["checkpoint"] is not None:
            self.checkpoint.load_state_dict(state["checkpoint"])
        for name in ("lr_schedule", "augment"):
            if state[name] is not None:
                getattr(self, name).load_state_dict(state[name])
        self.optimizer.load_state_dict(state["optimizer"])
        network_state.restore_arrays(self.network, state["network"]["arrays"])
        rand = state["random"]
        if rand["trainer"] is not None:
            self.rng.bit_generator.state = rand["trainer"]
        layers, _ = network_state.layer_generators(self.network)
        for name, saved in rand["layers"].items():
            layers[name].bit_generator.state = saved
        if rand["numpy_global"] is not None:
            _set_numpy_global_state(rand["numpy_global"])
        indices = state["data"]["validation_indices"]
        if indices is not None and not np.array_equal(indices, self.validation_indices):
            self._split_again(np.asarray(indices, dtype=np.int64))
        prog = state["progress"]
        self.current_iter = int(prog["current_iter"])
        self.current_epoch = int(prog["current_epoch"])
        self._order = None if prog["order"] is None else np.asarray(prog["order"], dtype=np.int64)
        self._epoch_loss_sum = float(prog["epoch_loss_sum"])
        self._epoch_steps = int(prog["epoch_steps"])
        self._epoch_train_seconds = float(prog["epoch_train_seconds"])
        self.stop_training = bool(prog["stop_training"])
        for name, values in state["lists"].items():
            setattr(self, name, [float(v) for v in np.asarray(values).tolist()])
        self.history = {key: list(state["history"][key]) for key in self.history}

    def _split_again(self, val_idx: np.ndarray) -> None:
        """Hold out the samples ``val_idx`` (a saved run's split) instead of the ones drawn here."""
        x, t = self._split_source
        keep = np.ones(len(x), dtype=bool)
        keep[val_idx] = False
        self.validation_indices = np.sort(val_idx)
        self.x_val, self.t_val = x[self.validation_indices], t[self.validation_indices]
        self.x_train, self.t_train = x[keep], t[keep]

    def _resume(self, path: PathLike) -> None:
        """Load the checkpoint ``path`` means (:func:`ferronet.training.checkpoint.read_training_state`)."""
        file, state = read_training_state(path)
        try:
            self.load_state_dict(state)
        except KeyError as exc:
            raise CheckpointError(f"{file}: a damaged training state (no entry {exc})") from exc
        except (ValueError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"{file}: cannot continue this run from it: {exc}") from exc
        self.resumed_from = file
        self._resume_untold = True  # said when training goes on (fit)
        if self.checkpoint is not None:
            self.checkpoint.saved_iter = self.current_iter
