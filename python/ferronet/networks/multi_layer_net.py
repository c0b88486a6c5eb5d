"""The fully connected network of chapter 6: (Affine -> activation) x k -> Affine -> SoftmaxWithLoss."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike

from ferronet import initializers
from ferronet.layers import Affine, LossLayer, activation_layer
from ferronet.networks.base import LayerNetwork
from ferronet.rng import generator


class MultiLayerNet(LayerNetwork):
    """A multi-layer perceptron with optional weight regularisation.

    Layer sizes: input_size -> hidden_size_list[0] -> ... -> output_size.
    Parameters ``W1 .. W{k+1}`` and ``b1 .. b{k+1}`` (k hidden layers), all
    in ``dtype``; layers named as in the book: ``Affine1``,
    ``Activation_function1``, ..., ``Affine{k+1}``.
    activation: any name in :data:`ferronet.layers.ACTIVATIONS` ('relu',
    'sigmoid', 'tanh', 'leaky_relu', 'prelu', 'rrelu', 'relu6', 'softplus',
    'swish', 'silu', 'gelu', 'elu', 'identity'); 'prelu' adds parameters
    ``alpha1 .. alpha{k}``, one slope per unit (0.25 at first, no weight
    decay).  weight_init_std: a number (the std) or an initializer's name
    ('relu'/'he' by default, 'sigmoid'/'xavier', 'glorot_uniform', ...:
    :mod:`ferronet.initializers`), scaled by each layer's fans.
    weight_decay_lambda: loss adds ``0.5 * lambda * sum(W**2)``, gradients
    add ``lambda * W`` (weights only); l1_lambda and max_norm: L1 and the
    max-norm constraint (:mod:`ferronet.regularizers`).  seed: seeds the
    initialisation (None: NumPy's global generator, see :mod:`ferronet.rng`).
    loss: the output layer, ``"softmax_ce"`` (the book's) or another name of
    :data:`ferronet.layers.LOSSES` (see :class:`~ferronet.networks.base.LayerNetwork`):
    ``loss="mse"`` makes it a regression network, ``loss="sigmoid_bce"`` a
    multi-label classifier.
    """

    def __init__(self, input_size: int, hidden_size_list: Sequence[int], output_size: int,
                 activation: str = "relu", weight_init_std: float | str = "relu",
                 weight_decay_lambda: float = 0, dtype: DTypeLike = np.float64,
                 seed: int | None = None, l1_lambda: float = 0, max_norm: float | None = None,
                 loss: str | LossLayer = "softmax_ce") -> None:
        super().__init__(dtype=dtype, weight_decay_lambda=weight_decay_lambda, l1_lambda=l1_lambda,
                         max_norm=max_norm, loss=loss)
        activation_class = activation_layer(activation)
        self.input_size = input_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.output_size = output_size

        rng = generator(seed)
        sizes = [input_size, *self.hidden_size_list, output_size]
        for i in range(1, len(sizes)):
            w, b = f"W{i}", f"b{i}"
            self.add_weight(w, (sizes[i - 1], sizes[i]), weight_init_std, rng)
            self.add_param(b, initializers.zeros((sizes[i],), dtype))
            self.add_layer(f"Affine{i}", Affine(self.params[w], self.params[b]), W=w, b=b)
            if i < len(sizes) - 1:
                self.add_activation(f"Activation_function{i}", activation_class, sizes[i], i, rng)
