"""The protocol every layer follows, with its guards written once.

A :class:`Layer` is a node of the book's computational graph:

* ``forward(x, train_flg=True, keep_state=True) -> out``: ``train_flg``
  matters to the layers that behave differently while training (dropout,
  batch normalisation; the others ignore it); ``keep_state=False`` makes it
  an inference pass that keeps nothing for ``backward`` and leaves what an
  earlier pass kept untouched;
* ``backward(dout) -> dx``: the gradient with respect to ``x`` of the last
  kept forward pass (RuntimeError before any); the gradients of the layer's
  own parameters are stored on it, under the book's names (``dW``, ``db``);
* ``params``: which attributes are trainable parameters, each with the
  attribute holding its gradient (``{"W": "dW", "b": "db"}``);
* ``persistent``: attributes saved with the weights but not trained (batch
  normalisation's running statistics).

Subclasses implement ``_forward(x, train_flg, keep_state)`` and
``_backward(dout)``.  A :class:`LossLayer` is the graph's end:
``forward(x, t) -> float`` and ``backward(dout=1) -> dx``.

Float16: a layer holding float16 parameters (or a parameter-free layer
given float16 input) computes in float32 and returns float16, for inference
only; see :mod:`ferronet.layers.half`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ferronet.layers import half


class Layer:
    """Base of every layer a network runs (see the module docstring)."""

    #: trainable parameter attribute -> the attribute holding its gradient
    params: ClassVar[Mapping[str, str]] = {}
    #: attributes saved and loaded with the parameters, not trained
    persistent: ClassVar[tuple[str, ...]] = ()

    _forwarded = False  # set once a forward pass kept its state
    _half_pass = False  # the kept pass ran in float16 (inference only)

    def forward(self, x: np.ndarray, train_flg: bool = True, keep_state: bool = True) -> np.ndarray:
        half_pass = half.applies(self, x)
        if half_pass:
            out = half.forward(self, x, bool(train_flg), bool(keep_state))
        else:
            out = self._forward(x, bool(train_flg), bool(keep_state))
        if keep_state:
            self._forwarded = True
            self._half_pass = half_pass
        return out

    def backward(self, dout: np.ndarray) -> Any:
        if not self._forwarded:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        if self._half_pass:
            raise TypeError(f"{type(self).__name__}: float16 runs inference only (no backward); train in "
                            f"float32 or float64, then convert the parameters")
        return self._backward(dout)

    def gradients(self) -> dict[str, np.ndarray]:
        """``{parameter attribute: its gradient}`` from the last backward pass."""
        missing = [p for p, g in self.params.items() if getattr(self, g, None) is None]
        if missing:
            raise RuntimeError(f"{type(self).__name__} has no gradient for {missing}: call backward first")
        return {p: getattr(self, g) for p, g in self.params.items()}

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, dout: np.ndarray) -> Any:
        raise NotImplementedError


class LossLayer:
    """Base of the output layers: ``forward(x, t)`` is the mean loss (a float),
    ``backward(dout=1)`` its gradient with respect to ``x``.

    ``task`` says what the scores ``x`` predict, and so how a network
    measures them (``accuracy``, ``score``): ``"classification"`` (one class
    per sample: the largest score), ``"multilabel"`` (independent yes/no
    labels: a score above 0) or ``"regression"`` (the values themselves).
    """

    task: ClassVar[str] = "classification"

    _forwarded = False

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        if getattr(x, "dtype", None) == half.HALF:
            x = x.astype(half.COMPUTE)  # float16 scores: the loss in float32
        loss = self._forward(x, t)
        self._forwarded = True
        return loss

    def backward(self, dout: float = 1) -> np.ndarray:
        if not self._forwarded:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._backward(dout)

    def _forward(self, x: np.ndarray, t: np.ndarray) -> float:
        raise NotImplementedError

    def _backward(self, dout: float) -> np.ndarray:
        raise NotImplementedError
