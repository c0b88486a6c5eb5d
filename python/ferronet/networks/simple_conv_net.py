"""The simple convolutional network of chapter 7:
Conv -> ReLU -> Pool -> Affine -> ReLU -> Affine -> SoftmaxWithLoss (or another activation for ReLU)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ferronet import initializers
from ferronet.layers import Affine, Convolution, LossLayer, Pooling, activation_layer
from ferronet.networks.base import LayerNetwork
from ferronet.geometry import conv_output_shape, input_shape, pool_output_shape
from ferronet.rng import generator

BOOK_CONV_PARAM: Mapping[str, int] = MappingProxyType({"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1})


class SimpleConvNet(LayerNetwork):
    """The book's convolutional network for (C, H, W) images.

    Layers ``Conv1`` (``filter_num`` square ``filter_size`` filters) ->
    ``Relu1`` -> ``Pool1`` (2x2 max, stride 2) -> ``Affine1`` (hidden_size) ->
    ``Relu2`` -> ``Affine2`` (output_size) -> SoftmaxWithLoss.
    Parameters ``W1`` (FN, C, FS, FS), ``b1`` (FN,), ``W2`` (FN*ph*pw, hidden),
    ``b2``, ``W3`` (hidden, output), ``b3``, all in ``dtype``.
    conv_param: any of 'filter_num', 'filter_size', 'pad', 'stride'; the
    missing ones take the book's values (30, 5, 0, 1).  Unlike the book, a
    non-square input or an odd convolution output is sized correctly.
    weight_init_std: the weights' std (the book's 0.01), or an
    initializer's name ('relu'/'he', 'sigmoid'/'xavier', 'glorot_uniform',
    ...: :mod:`ferronet.initializers`), scaled by each layer's fans (the
    filters' fan-in C*FS*FS, fan-out FN*FS*FS).
    weight_decay_lambda, l1_lambda, max_norm: L2, L1 and the max-norm
    constraint on W1, W2, W3 (:mod:`ferronet.regularizers`; a filter is
    one unit of W1).  seed: seeds the weights (None: NumPy's global
    generator, see :mod:`ferronet.rng`).
    activation: any name in :data:`ferronet.layers.ACTIVATIONS` for both
    activations (default 'relu'); the layers are named after its class
    (``Relu1``, ``GELU2``); 'prelu' adds ``alpha1`` (filter_num,), one slope
    per channel, and ``alpha2`` (hidden_size,).
    Inputs x (N, C, H, W), float32 or float64 (converted to ``dtype``);
    scores (N, output_size).  loss: the output layer, ``"softmax_ce"`` (the
    book's) or another name of :data:`ferronet.layers.LOSSES` (see
    :class:`~ferronet.networks.base.LayerNetwork`).
    """

    def __init__(self, input_dim: Sequence[int] = (1, 28, 28), conv_param: Mapping[str, Any] = BOOK_CONV_PARAM,
                 hidden_size: int = 100, output_size: int = 10, weight_init_std: float | str = 0.01,
                 dtype: DTypeLike = np.float64, seed: int | None = None, weight_decay_lambda: float = 0,
                 l1_lambda: float = 0, max_norm: float | None = None, activation: str = "relu",
                 loss: str | LossLayer = "softmax_ce") -> None:
        super().__init__(dtype=dtype, weight_decay_lambda=weight_decay_lambda, l1_lambda=l1_lambda,
                         max_norm=max_norm, loss=loss)
        activation_class = activation_layer(activation)
        unknown = set(conv_param) - set(BOOK_CONV_PARAM)
        if unknown:
            raise ValueError(f"unknown conv_param keys {sorted(unknown)}; use {sorted(BOOK_CONV_PARAM)}")
        conv = {**BOOK_CONV_PARAM, **conv_param}
        filter_num, filter_size, stride, pad = conv["filter_num"], conv["filter_size"], conv["stride"], conv["pad"]
        in_shape = input_shape(input_dim)
        conv_shape = conv_output_shape(in_shape, filter_num, filter_size, stride, pad)  # (FN, oh, ow)
        pool_size = int(np.prod(pool_output_shape(conv_shape)))  # FN * ph * pw

        rng = generator(seed)
        self.add_weight("W1", (filter_num, in_shape[0], filter_size, filter_size), weight_init_std, rng)
        self.add_param("b1", initializers.zeros((filter_num,), dtype))
        self.add_weight("W2", (pool_size, hidden_size), weight_init_std, rng)
        self.add_param("b2", initializers.zeros((hidden_size,), dtype))
        self.add_weight("W3", (hidden_size, output_size), weight_init_std, rng)
        self.add_param("b3", initializers.zeros((output_size,), dtype))

        self.add_layer("Conv1", Convolution(self.params["W1"], self.params["b1"], stride, pad), W="W1", b="b1")
        name = activation_class.__name__
        self.add_activation(f"{name}1", activation_class, filter_num, 1, rng)
        self.add_layer("Pool1", Pooling(pool_h=2, pool_w=2, stride=2))
        self.add_layer("Affine1", Affine(self.params["W2"], self.params["b2"]), W="W2", b="b2")
        self.add_activation(f"{name}2", activation_class, hidden_size, 2, rng)
        self.add_layer("Affine2", Affine(self.params["W3"], self.params["b3"]), W="W3", b="b3")
