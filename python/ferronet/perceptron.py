"""The perceptron of chapter 2: logic gates, and Rosenblatt's learning rule.

A :class:`Perceptron` outputs ``1`` when ``x . w + b > 0`` and ``0``
otherwise (the step activation).  The gates :func:`AND`, :func:`NAND` and
:func:`OR` are single perceptrons with the book's weights and biases
(:data:`BOOK_GATES`); :func:`XOR` is the book's two-layer composition
``AND(NAND(x1, x2), OR(x1, x2))``, since no single perceptron computes it.

:meth:`Perceptron.fit` learns weights with Rosenblatt's rule.  It always
stops: after an epoch without a mistake (converged), after ``max_epochs``,
or as soon as the weights at the start of an epoch repeat those of an
earlier epoch.  Each epoch visits the samples in the same order and the rule
is deterministic, so a repeated state means the same mistakes forever: the
data are *proved* not linearly separable (XOR is the classic case).  Not
converging is recorded on the perceptron and reported with a
:class:`ConvergenceWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike

from ferronet.functions import step_function

#: The book's gates: name -> (weights, bias).
BOOK_GATES: Mapping[str, tuple[tuple[float, float], float]] = MappingProxyType({
    "AND": ((0.5, 0.5), -0.7),
    "NAND": ((-0.5, -0.5), 0.7),
    "OR": ((0.5, 0.5), -0.2),
})


class ConvergenceWarning(UserWarning):
    """:meth:`Perceptron.fit` stopped without classifying every sample correctly."""


class Perceptron:
    """``y = 1 if x . w + b > 0 else 0``.

    w: the weights (n,) (float64), or None to create zeros at the first
    :meth:`fit` (one weight per input column).  b: the bias.

    After :meth:`fit`: ``converged`` (bool), ``separable`` (True when it
    converged, False when a repeated state proved the data not linearly
    separable, None when ``max_epochs`` ran out first), ``epochs_run`` and
    ``errors_per_epoch`` (mistakes made in each epoch).
    """

    def __init__(self, w: ArrayLike | None = None, b: float = 0.0) -> None:
        self.w: np.ndarray | None = None if w is None else np.array(w, dtype=np.float64).reshape(-1)
        self.b = float(b)
        self.converged: bool | None = None
        self.separable: bool | None = None
        self.epochs_run = 0
        self.errors_per_epoch: list[int] = []

    def _inputs(self, x: ArrayLike) -> np.ndarray:
        """x as float64 (n,) or (N, n), checked against the weights."""
        if self.w is None:
            raise RuntimeError("this perceptron has no weights yet: give w or call fit first")
        a = np.asarray(x, dtype=np.float64)
        if a.ndim not in (1, 2) or a.shape[-1] != self.w.size:
            raise ValueError(f"x must have shape ({self.w.size},) or (N, {self.w.size}), got {a.shape}")
        return a

    def predict(self, x: ArrayLike) -> int | np.ndarray:
        """0/1 output: x (n,) -> an int; x (N, n) -> (N,) int64."""
        a = self._inputs(x)
        y = step_function(a @ self.w + self.b)  # () or (N,)
        return int(y) if a.ndim == 1 else y

    def fit(self, x: ArrayLike, t: ArrayLike, max_epochs: int = 100, lr: float = 1.0) -> Perceptron:
        """Rosenblatt's rule on x (N, n) and 0/1 targets t (N,); returns self.

        For each sample in order: ``y = predict(x_i)``; on a mistake
        ``w += lr * (t_i - y) * x_i`` and ``b += lr * (t_i - y)``.  Starts
        from the current weights (zeros when there are none).  Stops after
        the first epoch without a mistake, after ``max_epochs`` epochs
        (an int >= 1), or when an epoch starts from the weights and bias of
        an earlier one (then ``separable`` is False: the same epochs would
        repeat forever).  Warns :class:`ConvergenceWarning` when it did not
        converge.
        """
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, np.integer)) or max_epochs < 1:
            raise ValueError(f"max_epochs must be an int >= 1, got {max_epochs!r}")
        xs = np.asarray(x, dtype=np.float64)
        ts = np.asarray(t).reshape(-1)
        if xs.ndim != 2 or len(xs) != len(ts) or len(xs) == 0:
            raise ValueError(f"fit needs x (N, n) and t (N,) with N >= 1, got {xs.shape} and {ts.shape}")
        if not np.isin(ts, (0, 1)).all():
            raise ValueError("targets must be 0 or 1")
        if self.w is None:
            self.w = np.zeros(xs.shape[1])
        self._inputs(xs)  # checks the width against existing weights

        self.converged, self.separable = False, None
        self.epochs_run, self.errors_per_epoch = 0, []
        seen: set[tuple[bytes, float]] = set()  # the state at the start of each epoch
        while self.epochs_run < max_epochs:
            state = (self.w.tobytes(), self.b)
            if state in seen:
                self.separable = False
                break
            seen.add(state)
            errors = 0
            for xi, ti in zip(xs, ts):
                delta = float(ti) - self.predict(xi)
                if delta:
                    errors += 1
                    self.w += lr * delta * xi
                    self.b += lr * delta
            self.epochs_run += 1
            self.errors_per_epoch.append(errors)
            if errors == 0:
                self.converged = self.separable = True
                break
        if not self.converged:
            why = ("the weights cycle, so the data are not linearly separable" if self.separable is False
                   else f"max_epochs={max_epochs} ran out")
            warnings.warn(f"the perceptron did not converge after {self.epochs_run} epochs: {why} "
                          f"({self.errors_per_epoch[-1]} mistakes in the last epoch)",
                          ConvergenceWarning, stacklevel=2)
        return self


def _gate(name: str, x1: ArrayLike, x2: ArrayLike) -> int | np.ndarray:
    w, b = BOOK_GATES[name]
    pair = np.stack(np.broadcast_arrays(np.asarray(x1), np.asarray(x2)), axis=-1)  # (..., 2)
    y = Perceptron(w, b).predict(pair.reshape(-1, 2)).reshape(pair.shape[:-1])
    return int(y) if y.ndim == 0 else y


def AND(x1: ArrayLike, x2: ArrayLike) -> int | np.ndarray:  # noqa: N802 (the book's name)
    """1 when both inputs are 1 (w = (0.5, 0.5), b = -0.7).  Scalars give an int,
    arrays (broadcast together) an int64 array."""
    return _gate("AND", x1, x2)


def NAND(x1: ArrayLike, x2: ArrayLike) -> int | np.ndarray:  # noqa: N802
    """0 when both inputs are 1 (w = (-0.5, -0.5), b = 0.7)."""
    return _gate("NAND", x1, x2)


def OR(x1: ArrayLike, x2: ArrayLike) -> int | np.ndarray:  # noqa: N802
    """1 when either input is 1 (w = (0.5, 0.5), b = -0.2)."""
    return _gate("OR", x1, x2)


def XOR(x1: ArrayLike, x2: ArrayLike) -> int | np.ndarray:  # noqa: N802
    """1 when exactly one input is 1: the two-layer perceptron ``AND(NAND, OR)``."""
    return AND(NAND(x1, x2), OR(x1, x2))
