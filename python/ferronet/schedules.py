"""Learning-rate schedules, usable with any optimizer.

A schedule is a function of a step count ``n`` (an int >= 0) returning a
multiplier of the base learning rate: ``schedule(n)`` is 1.0 where the
schedule leaves the rate alone.  What a step is depends on who counts:

* with :class:`ferronet.trainer.Trainer`, ``Trainer(..., lr_schedule=s)``
  counts epochs by default (``n`` = the index of the epoch being trained:
  0 during the first), or iterations with ``lr_schedule_per='iteration'``
  (``n`` = the number of updates made before this one);
* in a hand-written loop, call ``s.apply(optimizer, n)`` before the
  update; it sets ``optimizer.lr = base * s(n)``.

``apply`` remembers the optimizer's rate the first time it sees it, as
``optimizer.initial_lr``, and scales that base from then on (so the rate
never compounds).  Any object with an ``lr`` attribute works, the book's
own optimizer classes included.

The schedules:

* :class:`StepDecay` ``(step_size, gamma=0.1)``: ``gamma ** (n // step_size)``;
* :class:`ExponentialDecay` ``(gamma)``: ``gamma ** n``;
* :class:`CosineDecay` ``(total_steps, warmup_steps=0, min_factor=0.0)``:
  a linear warm-up to 1 over ``warmup_steps`` steps, then half a cosine
  down to ``min_factor`` at ``total_steps``, and ``min_factor`` after.
"""

from __future__ import annotations

import math
from typing import Any

from ferronet.ops import _checks


def _count(name: str, value: object, minimum: int) -> int:
    """An int argument >= ``minimum`` (TypeError for floats, bools, strings; ValueError below it)."""
    n = _checks.integer(name, value)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return n


def _fraction(name: str, value: object, zero_allowed: bool) -> float:
    """A finite real number in [0, 1], or (0, 1] unless ``zero_allowed``."""
    v = _checks.finite(name, value)
    if not (0.0 <= v <= 1.0) or (v == 0.0 and not zero_allowed):
        raise ValueError(f"{name} must lie in {'[0' if zero_allowed else '(0'}, 1], got {v}")
    return v


class LRSchedule:
    """Base class: ``schedule(n)`` is the learning-rate multiplier at step ``n >= 0``."""

    def __call__(self, step: int) -> float:
        return self.factor(_count("step", step, 0))

    def factor(self, step: int) -> float:
        """The multiplier at ``step`` (already checked to be an int >= 0)."""
        raise NotImplementedError

    def apply(self, optimizer: Any, step: int) -> float:
        """Set ``optimizer.lr`` to its base rate times ``self(step)`` and return the new rate.

        The base rate is ``optimizer.initial_lr``, recorded from
        ``optimizer.lr`` on the first call.
        """
        multiplier = self(step)
        if getattr(optimizer, "initial_lr", None) is None:
            optimizer.initial_lr = optimizer.lr
        optimizer.lr = optimizer.initial_lr * multiplier
        return optimizer.lr

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class StepDecay(LRSchedule):
    """``gamma ** (step // step_size)``: the rate drops by ``gamma`` every ``step_size`` steps.

    step_size: an int >= 1; gamma: in (0, 1].
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _count("step_size", step_size, 1)
        self.gamma = _fraction("gamma", gamma, zero_allowed=False)

    def factor(self, step: int) -> float:
        return self.gamma ** (step // self.step_size)


class ExponentialDecay(LRSchedule):
    """``gamma ** step``: the rate shrinks by ``gamma`` every step.  gamma: in (0, 1]."""

    def __init__(self, gamma: float) -> None:
        self.gamma = _fraction("gamma", gamma, zero_allowed=False)

    def factor(self, step: int) -> float:
        return self.gamma**step


class CosineDecay(LRSchedule):
    """Linear warm-up, then cosine decay (Loshchilov & Hutter's SGDR without restarts).

    * ``step < warmup_steps``: ``(step + 1) / warmup_steps`` (the first
      step already moves; the rate reaches the base at the end of warm-up);
    * ``warmup_steps <= step < total_steps``:
      ``min_factor + (1 - min_factor) * (1 + cos(pi * p)) / 2`` with
      ``p = (step - warmup_steps) / (total_steps - warmup_steps)``, from 1 down;
    * ``step >= total_steps``: ``min_factor``.

    total_steps: an int >= 1; warmup_steps: an int in [0, total_steps);
    min_factor: in [0, 1].
    """

    def __init__(self, total_steps: int, warmup_steps: int = 0, min_factor: float = 0.0) -> None:
        self.total_steps = _count("total_steps", total_steps, 1)
        self.warmup_steps = _count("warmup_steps", warmup_steps, 0)
        if self.warmup_steps >= self.total_steps:
            raise ValueError(f"warmup_steps ({self.warmup_steps}) must be smaller than total_steps "
                             f"({self.total_steps})")
        self.min_factor = _fraction("min_factor", min_factor, zero_allowed=True)

    def factor(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if step >= self.total_steps:
            return self.min_factor
        progress = (step - self.warmup_steps) / (self.total_steps - self.warmup_steps)
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))
