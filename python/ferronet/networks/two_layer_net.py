"""The two-layer network of chapters 4 and 5: Affine -> activation (ReLU) -> Affine -> SoftmaxWithLoss."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from ferronet import initializers
from ferronet.layers import Affine, LossLayer, activation_layer
from ferronet.networks.base import LayerNetwork
from ferronet.rng import generator


class TwoLayerNet(LayerNetwork):
    """A one-hidden-layer classifier: Affine1 -> activation -> Affine2.

    Parameters: ``W1`` (input_size, hidden_size), ``b1`` (hidden_size,),
    ``W2`` (hidden_size, output_size), ``b2`` (output_size,), all in ``dtype``.
    activation: any name in :data:`ferronet.layers.ACTIVATIONS`; 'relu' (the
    default) is chapter 5's layered net, 'sigmoid' chapter 4's.  The layer is
    named after its class (``Relu1``, ``Sigmoid1``, ...); 'prelu' adds the
    parameter ``alpha1`` (hidden_size,).
    weight_init_std: the weights' standard deviation (the book's 0.01), or
    an initializer's name (:mod:`ferronet.initializers`: 'he', 'xavier',
    'glorot_uniform', ...); biases start at 0.
    weight_decay_lambda, l1_lambda, max_norm: regularisation of W1 and W2
    (:mod:`ferronet.regularizers`; none by default, as in the book).
    seed: seeds the weight initialisation (None: NumPy's global generator, see
    :mod:`ferronet.rng`).
    loss: the output layer, ``"softmax_ce"`` (the book's) or another name of
    :data:`ferronet.layers.LOSSES` (see :class:`~ferronet.networks.base.LayerNetwork`).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 weight_init_std: float | str = 0.01, dtype: DTypeLike = np.float64,
                 seed: int | None = None, weight_decay_lambda: float = 0, l1_lambda: float = 0,
                 max_norm: float | None = None, activation: str = "relu",
                 loss: str | LossLayer = "softmax_ce") -> None:
        super().__init__(dtype=dtype, weight_decay_lambda=weight_decay_lambda, l1_lambda=l1_lambda,
                         max_norm=max_norm, loss=loss)
        activation_class = activation_layer(activation)
        rng = generator(seed)
        self.add_weight("W1", (input_size, hidden_size), weight_init_std, rng)
        self.add_param("b1", initializers.zeros((hidden_size,), dtype))
        self.add_weight("W2", (hidden_size, output_size), weight_init_std, rng)
        self.add_param("b2", initializers.zeros((output_size,), dtype))

        self.add_layer("Affine1", Affine(self.params["W1"], self.params["b1"]), W="W1", b="b1")
        self.add_activation(f"{activation_class.__name__}1", activation_class, hidden_size, 1, rng)
        self.add_layer("Affine2", Affine(self.params["W2"], self.params["b2"]), W="W2", b="b2")
