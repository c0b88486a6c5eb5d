"""The extended fully connected network of chapter 6: batch normalisation and dropout.

Each hidden layer is Affine -> BatchNormalization -> activation -> Dropout
(the middle two optional), then Affine -> SoftmaxWithLoss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike

from ferronet import initializers
from ferronet.layers import Affine, BatchNormalization, Dropout, LossLayer, activation_layer
from ferronet.networks.base import LayerNetwork
from ferronet.rng import child_seed, generator

BOOK_DROPOUT_RATIO = 0.5


def _pick_dropout_ratio(dropout_ration: float, dropout_ratio: float | None) -> float:
    """The book spells it ``dropout_ration``; ``dropout_ratio`` is accepted too, but not two different values."""
    if dropout_ratio is None:
        return float(dropout_ration)
    if dropout_ration != BOOK_DROPOUT_RATIO and dropout_ration != dropout_ratio:
        raise ValueError(f"dropout_ration={dropout_ration} and dropout_ratio={dropout_ratio} disagree; give one")
    return float(dropout_ratio)


class MultiLayerNetExtend(LayerNetwork):
    """A multi-layer perceptron with optional batch normalisation, dropout and weight decay.

    Layer sizes: input_size -> hidden_size_list[0] -> ... -> output_size.
    Parameters ``W1 .. W{k+1}``, ``b1 .. b{k+1}`` and, with
    ``use_batchnorm``, ``gamma1 .. gamma{k}`` (ones) and ``beta1 .. beta{k}``
    (zeros), all in ``dtype``.  Layers named as in the book: ``Affine{i}``,
    ``BatchNorm{i}``, ``Activation_function{i}``, ``Dropout{i}``.

    activation: any name in :data:`ferronet.layers.ACTIVATIONS` (see
    :class:`MultiLayerNet`; 'prelu' adds ``alpha1 .. alpha{k}``).
    weight_init_std: a number (the std) or an initializer's name
    ('relu'/'he' by default, 'sigmoid'/'xavier', 'glorot_uniform', ...:
    :mod:`ferronet.initializers`).
    weight_decay_lambda, l1_lambda, max_norm: L2, L1 and the max-norm
    constraint on the weights W (not gamma, beta or biases; see
    :mod:`ferronet.regularizers`).
    use_dropout, dropout_ration (the book's spelling) or dropout_ratio:
    the book's dropout after every hidden activation.
    use_batchnorm: batch normalisation (per feature) after every hidden Affine;
    its running statistics are saved by ``save_params``.
    seed: seeds the weights and the dropout masks (None: both come from NumPy's
    global generator, as in the book; see :mod:`ferronet.rng`).
    Inputs x (N, input_size) (or (N, ...) of that many values), float32 or
    float64 (converted to ``dtype``); scores (N, output_size).
    loss: the output layer, ``"softmax_ce"`` (the book's) or another name of
    :data:`ferronet.layers.LOSSES` (see :class:`~ferronet.networks.base.LayerNetwork`).
    """

    def __init__(self, input_size: int, hidden_size_list: Sequence[int], output_size: int,
                 activation: str = "relu", weight_init_std: float | str = "relu",
                 weight_decay_lambda: float = 0, use_dropout: bool = False,
                 dropout_ration: float = BOOK_DROPOUT_RATIO, use_batchnorm: bool = False,
                 dtype: DTypeLike = np.float64, seed: int | None = None,
                 dropout_ratio: float | None = None, l1_lambda: float = 0,
                 max_norm: float | None = None, loss: str | LossLayer = "softmax_ce") -> None:
        super().__init__(dtype=dtype, weight_decay_lambda=weight_decay_lambda, l1_lambda=l1_lambda,
                         max_norm=max_norm, loss=loss)
        activation_class = activation_layer(activation)
        self.input_size = input_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.output_size = output_size
        self.use_dropout = bool(use_dropout)
        self.dropout_ratio = _pick_dropout_ratio(dropout_ration, dropout_ratio)
        self.use_batchnorm = bool(use_batchnorm)

        rng = generator(seed)
        sizes = [input_size, *self.hidden_size_list, output_size]
        for i in range(1, len(sizes)):  # the book draws every weight first
            self.add_weight(f"W{i}", (sizes[i - 1], sizes[i]), weight_init_std, rng)
            self.add_param(f"b{i}", initializers.zeros((sizes[i],), dtype))

        for i in range(1, len(sizes)):
            w, b = f"W{i}", f"b{i}"
            self.add_layer(f"Affine{i}", Affine(self.params[w], self.params[b]), W=w, b=b)
            if i == len(sizes) - 1:
                break  # the output Affine has no normalisation, activation or dropout
            if self.use_batchnorm:
                gamma = self.add_param(f"gamma{i}", np.ones(sizes[i]))
                beta = self.add_param(f"beta{i}", np.zeros(sizes[i]))
                self.add_layer(f"BatchNorm{i}", BatchNormalization(gamma, beta), gamma=f"gamma{i}", beta=f"beta{i}")
            self.add_activation(f"Activation_function{i}", activation_class, sizes[i], i, rng)
            if self.use_dropout:
                self.add_layer(f"Dropout{i}", Dropout(self.dropout_ratio, seed=child_seed(seed, rng)))
