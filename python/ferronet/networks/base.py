"""The shared skeleton of the book's networks: ordered layers + a loss layer.

A :class:`LayerNetwork` owns ``params`` (name -> array, all in one float
dtype, C-contiguous), an ordered dict ``layers`` run front to back by
``predict``, and a ``last_layer`` that turns scores and targets into a loss.
Each parameter is bound to one attribute of one layer (``'W1'`` ->
``layers['Affine1'].W``); the layer's gradient for it is the attribute
with a ``d`` in front (``dW``, ``db``, ``dgamma``, ...), as in the book.

Subclasses build their parameters and layers in ``__init__`` with
:meth:`LayerNetwork.add_param` and :meth:`LayerNetwork.add_layer`; the
methods here then give predict / loss / accuracy / gradient /
numerical_gradient / loss_and_gradient for free.  Layers whose ``forward``
takes a ``train_flg`` argument (dropout, batch normalisation) receive it.
"""

from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ferronet import gradient as _gradient

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@functools.lru_cache(maxsize=None)
def _takes_train_flg(layer_type: type) -> bool:
    """Whether ``layer_type.forward`` accepts a ``train_flg`` argument."""
    try:
        return "train_flg" in inspect.signature(layer_type.forward).parameters
    except (TypeError, ValueError):
        return False


class LayerNetwork:
    """Ordered layers, a loss layer, parameters bound to layers, weight decay.

    dtype: float32 or float64, the dtype of every parameter (and so of every
    activation: the layers with parameters convert their input to it).
    weight_decay_lambda: L2 strength; ``loss`` adds ``0.5 * lambda * sum(W**2)``
    and ``gradient`` adds ``lambda * W`` for every parameter registered with
    ``decay=True`` (the weights, not the biases).
    """

    def __init__(self, dtype: DTypeLike = np.float64, weight_decay_lambda: float = 0.0) -> None:
        self.dtype = np.dtype(dtype)
        if self.dtype not in FLOAT_DTYPES:
            raise TypeError(f"a network's dtype must be float32 or float64, got {self.dtype}")
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.params: dict[str, np.ndarray] = {}
        self.layers: OrderedDict[str, Any] = OrderedDict()
        self.last_layer: Any = None
        self._bindings: dict[str, tuple[str, str]] = {}  # param name -> (layer name, attribute)
        self._decayed: list[str] = []  # names of the parameters with weight decay

    # ---------------------------------------------------------------- building

    def add_param(self, name: str, value: ArrayLike, decay: bool = False) -> np.ndarray:
        """Store ``value`` as parameter ``name`` (C-contiguous, in the network's dtype)."""
        self.params[name] = np.ascontiguousarray(value, dtype=self.dtype)
        if decay:
            self._decayed.append(name)
        return self.params[name]

    def add_layer(self, name: str, layer: Any, **bindings: str) -> Any:
        """Append ``layer`` as ``name``; ``bindings`` maps its attributes to parameter names.

        ``add_layer('Affine1', Affine(W, b), W='W1', b='b1')`` says that
        ``params['W1']`` is ``layer.W`` and its gradient is ``layer.dW``.
        """
        if not self.layers and hasattr(layer, "input_grad"):
            layer.input_grad = False  # the first layer's input is data: no gradient needed
        self.layers[name] = layer
        for attr, param_name in bindings.items():
            if param_name not in self.params:
                raise KeyError(f"parameter {param_name!r} must be added before layer {name!r} binds it")
            self._bindings[param_name] = (name, attr)
        return layer

    def _sync_layers(self) -> None:
        """Point the layers at ``params`` again if a caller replaced an entry
        (``net.params['W1'] = loaded``); in-place updates need nothing."""
        for param_name, (layer_name, attr) in self._bindings.items():
            value = self.params[param_name]
            layer = self.layers[layer_name]
            if getattr(layer, attr) is not value:
                setattr(layer, attr, value)

    # ---------------------------------------------------------------- inference

    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """Scores (logits) of ``x``: x (N, ...) -> (N, output_size), in the network's dtype."""
        self._sync_layers()
        for layer in self.layers.values():
            if _takes_train_flg(type(layer)):
                x = layer.forward(x, train_flg=train_flg)
            else:
                x = layer.forward(x)
        return x

    def weight_decay_loss(self) -> float:
        """``0.5 * lambda * sum over decayed weights of sum(W**2)`` (0 when lambda is 0)."""
        if self.weight_decay_lambda == 0:
            return 0.0
        total = 0.0
        for name in self._decayed:
            w = self.params[name].ravel()
            total += float(np.dot(w, w))
        return 0.5 * self.weight_decay_lambda * total

    def loss(self, x: np.ndarray, t: np.ndarray, train_flg: bool = False) -> float:
        """Loss of ``x`` against targets ``t`` (labels (N,) or one-hot (N, C)), weight decay included."""
        y = self.predict(x, train_flg=train_flg)
        return float(self.last_layer.forward(y, t)) + self.weight_decay_loss()

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int | None = None) -> float:
        """Fraction of samples whose largest score is the true class.

        x: (N, ...); t: labels (N,) of any integer dtype or one-hot (N, C).
        ``batch_size`` predicts in chunks (the last partial chunk included),
        to bound memory on large sets.
        """
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=-1)  # one-hot -> labels
        t = t.reshape(-1)  # (N,)
        x = np.asarray(x)
        if x.ndim == 1:
            x = x.reshape(1, -1)  # a single sample
        n = x.shape[0]
        if n == 0:
            raise ValueError("accuracy needs at least one sample")
        step = n if batch_size is None else int(batch_size)
        correct = 0
        for start in range(0, n, step):
            y = self.predict(x[start:start + step])  # (B, C)
            correct += int(np.count_nonzero(np.argmax(y, axis=-1) == t[start:start + step]))
        return correct / n

    # ---------------------------------------------------------------- gradients

    def loss_and_gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """One forward and one backward pass: ``(loss, {param name: gradient})``.

        The gradients have the parameters' shapes and dtype; weight decay is
        included in both the loss and the gradients.
        """
        loss = self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        lam = self.dtype.type(self.weight_decay_lambda)
        grads: dict[str, np.ndarray] = {}
        for name in self.params:
            layer_name, attr = self._bindings[name]
            grads[name] = getattr(self.layers[layer_name], "d" + attr)
        if lam != 0:
            for name in self._decayed:
                grads[name] = grads[name] + lam * self.params[name]
        return loss, grads

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients by backpropagation: ``{param name: array of its shape and dtype}``."""
        return self.loss_and_gradient(x, t)[1]

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients by central differences (slow; for checking), float64 arrays."""

        def loss_at(_: np.ndarray) -> float:
            return self.loss(x, t, train_flg=True)

        return {name: _gradient.numerical_gradient(loss_at, p) for name, p in self.params.items()}
