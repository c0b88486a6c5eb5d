"""How the Trainer shows its progress: a tqdm bar on a terminal, the book's lines elsewhere.

:func:`reporter` picks one of:

* :class:`TerminalProgress` (``verbose`` and both stdout and stderr are
  terminals): a ``tqdm`` bar per epoch on stderr with the running mean
  loss and accuracy of the epoch's mini-batches and the steps per second,
  cleared at the end of the epoch and replaced by one line on stdout
  (``epoch 1/5: train loss ..., train acc ..., test acc ... (2.10 s)``);
* :class:`BookLines` (``verbose`` elsewhere: a pipe, a file, a notebook):
  the book's lines on stdout, ``=== epoch:1, train acc:..., test acc:... ===``
  (with ``, val loss:..., val acc:...`` before `` ===`` when there is
  validation data) and ``=============== Final Test Accuracy ===============``
  / ``test acc:...`` at the end;
* :class:`Silent` (not ``verbose``): nothing.

Each has ``step(epoch, done, total, loss, acc)`` after every optimizer
step, ``end_epoch(logs)``, ``message(text)`` for other news (early
stopping, resuming) and ``end_train(final_test_acc)``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

#: seconds between bar redraws, and before the first one (short runs show no bar)
_BAR_INTERVAL = 0.1


def on_terminal() -> bool:
    """True when stdout and stderr are both terminals (the progress bar is wanted)."""
    streams = (sys.stdout, sys.stderr)
    return all(s is not None and hasattr(s, "isatty") and s.isatty() for s in streams)


class Silent:
    """Shows nothing."""

    #: whether ``step`` uses the mini-batch accuracy (the Trainer computes it only then)
    wants_accuracy = False

    def __init__(self, epochs: float) -> None:
        self.epochs = epochs

    def step(self, epoch: int, done: int, total: int, loss: float, acc: float | None) -> None:
        """After an optimizer step: ``done`` of the ``total`` steps of epoch ``epoch`` (1-based)."""

    def end_epoch(self, logs: Mapping[str, Any]) -> None:
        """After an epoch's evaluation; ``logs`` is its history entry (:mod:`ferronet.training.history`)."""

    def message(self, text: str) -> None:
        """A line of news."""

    def end_train(self, final_test_acc: float) -> None:
        """After the final evaluation."""


class BookLines(Silent):
    """The book's lines on stdout."""

    def end_epoch(self, logs: Mapping[str, Any]) -> None:
        extra = f", val loss:{logs['val_loss']}, val acc:{logs['val_acc']}" if "val_acc" in logs else ""
        test = f", test acc:{logs['test_acc']}" if "test_acc" in logs else ""
        print(f"=== epoch:{logs['epoch']}, train acc:{logs['train_acc']}{test}{extra} ===", flush=True)

    def message(self, text: str) -> None:
        print(text, flush=True)

    def end_train(self, final_test_acc: float) -> None:
        print("=============== Final Test Accuracy ===============")
        print(f"test acc:{final_test_acc}", flush=True)


class TerminalProgress(BookLines):
    """A tqdm bar per epoch on stderr, one summary line per epoch on stdout."""

    wants_accuracy = True

    def __init__(self, epochs: float) -> None:
        super().__init__(epochs)
        self._bar: Any = None
        self._loss_sum = 0.0
        self._acc_sum = 0.0
        self._acc_steps = 0
        self._steps = 0

    def step(self, epoch: int, done: int, total: int, loss: float, acc: float | None) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done - 1, desc=f"epoch {epoch}/{self.epochs:g}", unit="step",
                             file=sys.stderr, leave=False, dynamic_ncols=True, mininterval=_BAR_INTERVAL,
                             delay=_BAR_INTERVAL)
            self._loss_sum = self._acc_sum = 0.0
            self._steps = self._acc_steps = 0
        self._steps += 1
        self._loss_sum += loss
        postfix = {"loss": f"{self._loss_sum / self._steps:.4f}"}
        if acc is not None:
            self._acc_steps += 1
            self._acc_sum += acc
            postfix["acc"] = f"{self._acc_sum / self._acc_steps:.4f}"
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)
        if done == total:
            self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def end_epoch(self, logs: Mapping[str, Any]) -> None:
        self._close_bar()
        parts = [f"train loss {logs['train_loss']:.4f}", f"train acc {logs['train_acc']:.4f}"]
        if "val_acc" in logs:
            parts += [f"val loss {logs['val_loss']:.4f}", f"val acc {logs['val_acc']:.4f}"]
        if "test_acc" in logs:
            parts.append(f"test acc {logs['test_acc']:.4f}")
        if logs.get("lr") is not None:
            parts.append(f"lr {logs['lr']:.3g}")
        print(f"epoch {logs['epoch']}/{self.epochs:g}: {', '.join(parts)} ({logs['seconds']:.2f} s)", flush=True)

    def message(self, text: str) -> None:
        self._close_bar()
        print(text, flush=True)

    def end_train(self, final_test_acc: float) -> None:
        self._close_bar()
        print(f"final test accuracy: {final_test_acc:.4f}", flush=True)


def reporter(verbose: bool, epochs: float) -> Silent:
    """The progress display for a Trainer: see the module's docstring."""
    if not verbose:
        return Silent(epochs)
    return TerminalProgress(epochs) if on_terminal() else BookLines(epochs)
