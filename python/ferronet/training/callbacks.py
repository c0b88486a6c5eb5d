"""Callbacks: user code the Trainer runs at the start, after every epoch and at the end.

The protocol (every method optional; :class:`Callback` is a base class
with all three doing nothing, but any object with some of them works):

* ``on_train_begin(trainer, logs)`` - when ``trainer.train()`` (or
  ``fit()``) starts, ``logs`` empty.  On a resumed run the Trainer has
  already been put back at the saved epoch (``trainer.current_iter > 0``);
* ``on_epoch_end(trainer, logs)`` - after each epoch's evaluation, also
  when you call ``train_step()`` yourself; ``logs`` is the epoch's entry
  of ``trainer.history`` (:mod:`ferronet.training.history`: ``epoch``,
  ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc`` with
  validation data, ``test_acc``, ``lr``, ``seconds``);
* ``on_train_end(trainer, logs)`` - after the last step, before the final
  test accuracy is measured (so a callback may still change the weights:
  :class:`ferronet.training.early_stopping.EarlyStopping` restores the best);
  ``logs`` is the last epoch's entry ({} when none finished).

A plain function ``f(trainer, logs)`` is taken as ``on_epoch_end``.

**Stopping**: ``on_epoch_end`` returning ``False`` (exactly; None and
anything else mean go on) or setting ``trainer.stop_training = True``
ends training after the current step.  ``stop_training`` stays set, so a
later ``train()`` trains no further until it is set back to False.

**Checkpoints**: a callback with ``state_dict()`` (returning plain data,
see :mod:`ferronet.training.state_file`) and ``load_state_dict(state)`` is saved
with the Trainer's checkpoints and restored on resume, so that a resumed
run continues it exactly; callbacks without them are assumed stateless.
A resumed run must be given callbacks of the same classes in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: the protocol's methods
HOOKS = ("on_train_begin", "on_epoch_end", "on_train_end")


class Callback:
    """Base class for callbacks: override any of the hooks (see the module's docstring)."""

    def on_train_begin(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        """Training starts (or resumes)."""

    def on_epoch_end(self, trainer: Any, logs: Mapping[str, Any]) -> bool | None:
        """An epoch ended; return False to stop training."""
        return None

    def on_train_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        """Training ended, before the final test accuracy is measured."""


class EpochEndFunction(Callback):
    """A plain function ``f(trainer, logs)`` run as ``on_epoch_end``."""

    def __init__(self, function: Callable[[Any, Mapping[str, Any]], Any]) -> None:
        self.function = function

    def on_epoch_end(self, trainer: Any, logs: Mapping[str, Any]) -> Any:
        return self.function(trainer, logs)

    def __repr__(self) -> str:
        return f"EpochEndFunction({getattr(self.function, '__name__', self.function)!r})"


def as_callback(obj: Any) -> Any:
    """``obj`` as a callback: an object with at least one hook as it is, a function wrapped.

    TypeError for anything else.
    """
    if any(callable(getattr(obj, hook, None)) for hook in HOOKS):
        return obj
    if callable(obj):
        return EpochEndFunction(obj)
    raise TypeError(f"a callback needs on_train_begin, on_epoch_end or on_train_end, or must be a function "
                    f"f(trainer, logs); got {type(obj).__name__}")


class CallbackList:
    """The Trainer's callbacks, run in order."""

    def __init__(self, callbacks: Sequence[Any]) -> None:
        if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence):
            raise TypeError(f"callbacks must be a list of callbacks, got {type(callbacks).__name__}")
        self.callbacks = [as_callback(c) for c in callbacks]

    def __len__(self) -> int:
        return len(self.callbacks)

    def _run(self, hook: str, trainer: Any, logs: Mapping[str, Any]) -> list[Any]:
        return [getattr(c, hook)(trainer, logs) for c in self.callbacks if callable(getattr(c, hook, None))]

    def train_begin(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        self._run("on_train_begin", trainer, logs)

    def epoch_end(self, trainer: Any, logs: Mapping[str, Any]) -> bool:
        """Run every ``on_epoch_end`` (all of them, even after a stop request); True when one returned False."""
        return any(result is False for result in self._run("on_epoch_end", trainer, logs))

    def train_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        self._run("on_train_end", trainer, logs)

    def state_dict(self) -> list[dict[str, Any]]:
        """``[{"type": class name, "state": state_dict() or None}]``, one per callback."""
        return [{"type": type(c).__name__,
                 "state": c.state_dict() if callable(getattr(c, "state_dict", None)) else None}
                for c in self.callbacks]

    def check_state_dict(self, states: Any) -> None:
        """ValueError unless ``states`` (from :meth:`state_dict`) fits these callbacks."""
        if not isinstance(states, list) or len(states) != len(self.callbacks):
            count = len(states) if isinstance(states, list) else "no"
            raise ValueError(f"the checkpoint has {count} callbacks, this Trainer has {len(self.callbacks)}")
        for i, (c, saved) in enumerate(zip(self.callbacks, states)):
            if not isinstance(saved, Mapping) or saved.get("type") != type(c).__name__:
                kind = saved.get("type") if isinstance(saved, Mapping) else saved
                raise ValueError(f"callback {i} is a {type(c).__name__}, the checkpoint's is {kind!r}")
            if saved.get("state") is not None and not callable(getattr(c, "load_state_dict", None)):
                raise ValueError(f"callback {i} ({type(c).__name__}) has saved state but no load_state_dict")

    def load_state_dict(self, states: list[Mapping[str, Any]]) -> None:
        self.check_state_dict(states)
        for c, saved in zip(self.callbacks, states):
            if saved.get("state") is not None:
                c.load_state_dict(saved["state"])
