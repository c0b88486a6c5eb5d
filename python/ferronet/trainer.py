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
* with ``verbose`` on a terminal (stdout and stderr both), a one-line
  progress bar on stderr and one line per epoch; otherwise (a pipe, a file,
  a notebook) the book's lines on stdout, ``=== epoch:1, train acc:...,
  test acc:... ===`` per epoch and ``=============== Final Test Accuracy
  ===============`` / ``test acc:...`` at the end;
* ``epoch_times`` records the seconds spent training in each epoch.

Additions: ``lr_schedule`` (a :mod:`ferronet.schedules` object) sets the
optimizer's ``lr`` before every update, from the epoch index (default) or
the iteration count (``lr_schedule_per='iteration'``); and after every
update the network's ``apply_constraints()`` runs when it has one (the
max-norm constraint of :mod:`ferronet.regularizers`).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ferronet.optimizers import Optimizer, get_optimizer
from ferronet.rng import generator

_BAR_WIDTH = 30
_BAR_INTERVAL = 0.1  # seconds between progress-bar redraws


def _on_terminal() -> bool:
    """True when stdout and stderr are both terminals (the progress bar is wanted)."""
    streams = (sys.stdout, sys.stderr)
    return all(s is not None and hasattr(s, "isatty") and s.isatty() for s in streams)


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


class Trainer:
    """Train ``network`` with mini-batches and record its learning curves.

    network: has ``loss(x, t)``, ``gradient(x, t)``, ``accuracy(x, t)`` and a
    ``params`` dict (optionally ``loss_and_gradient(x, t)``).
    x_train (N, ...), t_train (N,) labels or (N, C) one-hot; likewise the test set.
    epochs: how long to train, a number >= 0 (fractions allowed, see above).
    optimizer: a name for :func:`ferronet.optimizers.get_optimizer` (any case)
    or an optimizer object; optimizer_param: the keyword arguments for a
    named optimizer (copied, never modified; ignored for an object).
    evaluate_sample_num_per_epoch: evaluate the per-epoch accuracies on the
    first that many samples of each set (None: all of them).
    lr_schedule: None, or a schedule (:class:`ferronet.schedules.LRSchedule`)
    applied before every update: ``lr_schedule.apply(optimizer, n)`` with
    ``n`` the index of the current epoch (``lr_schedule_per='epoch'``, 0 in
    the first) or the number of updates made so far (``'iteration'``).

    Attributes: ``train_loss_list`` (one loss per step), ``train_acc_list`` /
    ``test_acc_list`` (one per epoch), ``epoch_times`` (training seconds per
    epoch, evaluation excluded), ``iter_per_epoch``, ``max_iter``,
    ``current_iter``, ``current_epoch``.
    """

    def __init__(self, network: Any, x_train: np.ndarray, t_train: np.ndarray,
                 x_test: np.ndarray, t_test: np.ndarray, epochs: float = 20, mini_batch_size: int = 100,
                 optimizer: str | Optimizer = "SGD",
                 optimizer_param: Mapping[str, Any] = MappingProxyType({"lr": 0.01}),
                 evaluate_sample_num_per_epoch: int | None = None, verbose: bool = True,
                 seed: int | None = None, lr_schedule: Any = None, lr_schedule_per: str = "epoch") -> None:
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
        self.lr_schedule = lr_schedule
        self.lr_schedule_per = lr_schedule_per
        self.network = network
        self.verbose = verbose
        self.x_train = x_train
        self.t_train = t_train
        self.x_test = x_test
        self.t_test = t_test
        self.epochs = _check_epochs(epochs)
        self.batch_size = int(mini_batch_size)
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        if isinstance(optimizer, str):
            self.optimizer = get_optimizer(optimizer, **dict(optimizer_param))
        else:
            self.optimizer = optimizer

        self.train_size = len(x_train)
        self.iter_per_epoch = math.ceil(self.train_size / self.batch_size)
        self.max_iter = steps_for(self.epochs, self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0

        self.rng = generator(seed)
        self._order: np.ndarray | None = None  # this epoch's permutation of the training set
        self._epoch_train_seconds = 0.0
        self._last_draw = time.perf_counter()  # the bar first appears after _BAR_INTERVAL of work
        self._bar_visible = False
        self._terminal = _on_terminal()  # progress bar, or the book's lines

        self.train_loss_list: list[float] = []
        self.train_acc_list: list[float] = []
        self.test_acc_list: list[float] = []
        self.epoch_times: list[float] = []
        self.final_test_acc: float | None = None

    # ------------------------------------------------------------------ steps

    def _next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next mini-batch of this epoch's permutation (a new permutation at epoch start)."""
        step_in_epoch = self.current_iter % self.iter_per_epoch
        if step_in_epoch == 0 or self._order is None:
            self._order = self.rng.permutation(self.train_size)  # (N,)
        idx = self._order[step_in_epoch * self.batch_size:(step_in_epoch + 1) * self.batch_size]  # (B,)
        return self.x_train[idx], self.t_train[idx]

    def _loss_and_gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        net = self.network
        if hasattr(net, "loss_and_gradient"):
            return net.loss_and_gradient(x, t)
        grads = net.gradient(x, t)  # a network of the book's shape: the loss costs a second pass
        return float(net.loss(x, t)), grads

    def train_step(self) -> float:
        """One optimizer step on the next mini-batch; returns its loss.

        After the last step of an epoch, the epoch's accuracies are evaluated.
        """
        start = time.perf_counter()
        x_batch, t_batch = self._next_batch()
        loss, grads = self._loss_and_gradient(x_batch, t_batch)
        if self.lr_schedule is not None:
            per_epoch = self.lr_schedule_per == "epoch"
            self.lr_schedule.apply(self.optimizer,
                                   self.current_iter // self.iter_per_epoch if per_epoch else self.current_iter)
        self.optimizer.update(self.network.params, grads)
        if hasattr(self.network, "apply_constraints"):
            self.network.apply_constraints()
        self.train_loss_list.append(float(loss))
        self.current_iter += 1
        self._epoch_train_seconds += time.perf_counter() - start

        if self.verbose and self._terminal:
            self._draw_bar()
        if self.current_iter % self.iter_per_epoch == 0:
            self._end_epoch()
        return float(loss)

    def _end_epoch(self) -> None:
        self.current_epoch += 1
        self.epoch_times.append(self._epoch_train_seconds)
        self._epoch_train_seconds = 0.0

        n = self.evaluate_sample_num_per_epoch
        x_tr, t_tr, x_te, t_te = self.x_train, self.t_train, self.x_test, self.t_test
        if n is not None:
            x_tr, t_tr, x_te, t_te = x_tr[:n], t_tr[:n], x_te[:n], t_te[:n]
        train_acc = float(self.network.accuracy(x_tr, t_tr))
        test_acc = float(self.network.accuracy(x_te, t_te))
        self.train_acc_list.append(train_acc)
        self.test_acc_list.append(test_acc)
        if self.verbose and self._terminal:
            self._clear_bar()
            print(f"epoch {self.current_epoch}/{self.epochs:g}: train acc {train_acc:.4f}, "
                  f"test acc {test_acc:.4f}, loss {self.train_loss_list[-1]:.4f} "
                  f"({self.epoch_times[-1]:.2f} s)", flush=True)
        elif self.verbose:
            print(f"=== epoch:{self.current_epoch}, train acc:{train_acc}, test acc:{test_acc} ===", flush=True)

    def train(self) -> None:
        """Run the remaining steps of ``epochs`` epochs, then measure the final test accuracy."""
        while self.current_iter < self.max_iter:
            self.train_step()
        ended_on_an_epoch = self.current_iter > 0 and self.current_iter % self.iter_per_epoch == 0
        if self.evaluate_sample_num_per_epoch is None and ended_on_an_epoch:
            self.final_test_acc = self.test_acc_list[-1]  # just measured on the whole test set
        else:
            self.final_test_acc = float(self.network.accuracy(self.x_test, self.t_test))
        if self.verbose and self._terminal:
            self._clear_bar()
            print(f"final test accuracy: {self.final_test_acc:.4f}", flush=True)
        elif self.verbose:
            print("=============== Final Test Accuracy ===============")
            print(f"test acc:{self.final_test_acc}", flush=True)

    # ------------------------------------------------------------------ progress bar

    def _draw_bar(self) -> None:
        """Redraw the one-line bar on stderr, at most every _BAR_INTERVAL seconds."""
        now = time.perf_counter()
        if now - self._last_draw < _BAR_INTERVAL:
            return
        self._last_draw = now
        self._bar_visible = True
        done = self.current_iter % self.iter_per_epoch or self.iter_per_epoch
        filled = _BAR_WIDTH * done // self.iter_per_epoch
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        loss = self.train_loss_list[-1] if self.train_loss_list else float("nan")
        sys.stderr.write(f"\repoch {self.current_epoch + 1}/{self.epochs:g} [{bar}] "
                         f"{done}/{self.iter_per_epoch} loss {loss:.4f}")
        sys.stderr.flush()

    def _clear_bar(self) -> None:
        if self._bar_visible:
            sys.stderr.write("\r" + " " * (_BAR_WIDTH + 60) + "\r")
            sys.stderr.flush()
            self._bar_visible = False
