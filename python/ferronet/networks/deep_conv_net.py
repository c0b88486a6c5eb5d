"""The deep convolutional network of chapter 8 (VGG-like, He initialisation):

    conv - relu - conv - relu - pool -
    conv - relu - conv - relu - pool -
    conv - relu - conv - relu - pool -
    affine - relu - dropout - affine - dropout - softmax

``batchnorm=True`` inserts a per-channel BatchNormalization between every
convolution and its ReLU (not in the book; off by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ferronet import initializers
from ferronet.layers import Affine, BatchNormalization, Convolution, Dropout, LossLayer, Pooling, activation_layer
from ferronet.networks.base import LayerNetwork
from ferronet.networks.layer_list import LayerList
from ferronet.geometry import conv_output_shape, input_shape, pool_output_shape
from ferronet.rng import child_seed, generator


def _book_conv(filter_num: int, pad: int) -> Mapping[str, int]:
    return MappingProxyType({"filter_num": filter_num, "filter_size": 3, "pad": pad, "stride": 1})


DROPOUT_RATIO = 0.5  # the book's, after both Affine layers


class DeepConvNet(LayerNetwork):
    """The book's eight-layer network for (C, H, W) images (99%+ on MNIST in the book).

    Six 3x3 convolutions of 16, 16, 32, 32, 64, 64 filters (pads 1, 1, 1, 2,
    1, 1, stride 1; each ``conv_param_i`` may set 'filter_num',
    'filter_size', 'pad', 'stride'), a 2x2 max pooling after every second
    one, then Affine (hidden_size) -> ReLU -> Dropout(0.5) -> Affine
    (output_size) -> Dropout(0.5) -> SoftmaxWithLoss, as in the book.

    Parameters ``W1 .. W6`` (FN, C, FS, FS) and ``b1 .. b6`` for the
    convolutions, ``W7`` (flattened size, hidden_size), ``b7``, ``W8``
    (hidden_size, output_size), ``b8``, all in ``dtype``.  Weights are He
    initialised by default (``weight_init_std='he'``), std
    ``sqrt(2 / fan_in)`` with fan_in = C*FS*FS of the layer's input (the
    book's ``pre_node_nums``, here computed from ``input_dim`` rather than
    fixed for 1x28x28); weight_init_std also takes a number (the std) or any
    initializer's name (:mod:`ferronet.initializers`).  Biases start at zero.
    weight_decay_lambda, l1_lambda, max_norm: L2, L1 and the max-norm
    constraint on W1 .. W8 (:mod:`ferronet.regularizers`; none by default,
    as in the book).
    ``layers`` is a :class:`~ferronet.networks.layer_list.LayerList`: the
    book's list, indexed as the book does (``layers[0]`` is the first
    convolution, ``layers[15]`` and ``layers[18]`` the Affine layers; the
    book's ``(0, 2, 5, 7, 10, 12, 15, 18)`` hold ``W1 .. W8``), whose layers
    also have names: ``Conv1 .. Conv6``, ``Relu1 .. Relu7``, ``Pool1 ..
    Pool3``, ``Affine1``, ``Affine2``, ``Dropout1``, ``Dropout2``
    (``layers['Conv1']``, ``layers.items()``).  seed: seeds the weights and the dropout masks (None: both
    come from NumPy's global generator, as in the book; see :mod:`ferronet.rng`).
    activation: any name in :data:`ferronet.layers.ACTIVATIONS` for all seven
    activations (default 'relu'), named after its class (``Relu1``,
    ``ELU1``, ...); 'prelu' adds ``alpha1 .. alpha6`` (one slope per channel
    of each convolution) and ``alpha7`` (hidden_size,).
    Inputs x (N, C, H, W), float32 or float64 (converted to ``dtype``);
    scores (N, output_size).  loss: the output layer, ``"softmax_ce"`` (the
    book's) or another name of :data:`ferronet.layers.LOSSES` (see
    :class:`~ferronet.networks.base.LayerNetwork`).
    batchnorm: True inserts ``BatchNorm1 .. BatchNorm6``, a per-channel
    :class:`~ferronet.layers.BatchNormalization` after each convolution (before
    its activation), with parameters ``gamma1 .. gamma6`` (ones) and ``beta1 ..
    beta6`` (zeros), one per filter, and running statistics saved with the
    weights; the book's layer indices above then no longer hold (use the names).
    False (the default) builds exactly the book's network: the same layers,
    parameters and random draws, so its weight files are unchanged.
    dropout_ratio: the ratio of both Dropout layers (default 0.5, the book's).
    """

    layer_container = LayerList

    def __init__(self, input_dim: Sequence[int] = (1, 28, 28),
                 conv_param_1: Mapping[str, Any] = _book_conv(16, 1),
                 conv_param_2: Mapping[str, Any] = _book_conv(16, 1),
                 conv_param_3: Mapping[str, Any] = _book_conv(32, 1),
                 conv_param_4: Mapping[str, Any] = _book_conv(32, 2),
                 conv_param_5: Mapping[str, Any] = _book_conv(64, 1),
                 conv_param_6: Mapping[str, Any] = _book_conv(64, 1),
                 hidden_size: int = 50, output_size: int = 10,
                 dtype: DTypeLike = np.float64, seed: int | None = None,
                 weight_init_std: float | str = "he", weight_decay_lambda: float = 0,
                 l1_lambda: float = 0, max_norm: float | None = None, activation: str = "relu",
                 loss: str | LossLayer = "softmax_ce", batchnorm: bool = False,
                 dropout_ratio: float = DROPOUT_RATIO) -> None:
        super().__init__(dtype=dtype, weight_decay_lambda=weight_decay_lambda, l1_lambda=l1_lambda,
                         max_norm=max_norm, loss=loss)
        activation_class = activation_layer(activation)
        self.batchnorm = bool(batchnorm)
        rng = generator(seed)
        shape = input_shape(input_dim)  # (C, H, W) entering the next layer
        conv_params = (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5, conv_param_6)
        acts = pools = 0
        for i, param in enumerate(conv_params, start=1):
            fn, fs = param["filter_num"], param["filter_size"]
            stride, pad = param.get("stride", 1), param.get("pad", 0)
            w, b = f"W{i}", f"b{i}"
            self.add_weight(w, (fn, shape[0], fs, fs), weight_init_std, rng)
            self.add_param(b, initializers.zeros((fn,), dtype))
            self.add_layer(f"Conv{i}", Convolution(self.params[w], self.params[b], stride, pad), W=w, b=b)
            shape = conv_output_shape(shape, fn, fs, stride, pad)  # (FN, oh, ow)
            if self.batchnorm:
                gamma = self.add_param(f"gamma{i}", np.ones(fn))
                beta = self.add_param(f"beta{i}", np.zeros(fn))
                self.add_layer(f"BatchNorm{i}", BatchNormalization(gamma, beta, per_channel=True),
                               gamma=f"gamma{i}", beta=f"beta{i}")
            acts += 1
            self.add_activation(f"{activation_class.__name__}{acts}", activation_class, fn, acts, rng)
            if i % 2 == 0:
                pools += 1
                self.add_layer(f"Pool{pools}", Pooling(pool_h=2, pool_w=2, stride=2))
                shape = pool_output_shape(shape)  # (FN, oh // 2, ow // 2)

        flat = int(np.prod(shape))
        self.add_weight("W7", (flat, hidden_size), weight_init_std, rng)
        self.add_param("b7", initializers.zeros((hidden_size,), dtype))
        self.add_weight("W8", (hidden_size, output_size), weight_init_std, rng)
        self.add_param("b8", initializers.zeros((output_size,), dtype))
        self.add_layer("Affine1", Affine(self.params["W7"], self.params["b7"]), W="W7", b="b7")
        self.add_activation(f"{activation_class.__name__}{acts + 1}", activation_class, hidden_size, acts + 1, rng)
        self.add_layer("Dropout1", Dropout(dropout_ratio, seed=child_seed(seed, rng)))
        self.add_layer("Affine2", Affine(self.params["W8"], self.params["b8"]), W="W8", b="b8")
        self.add_layer("Dropout2", Dropout(dropout_ratio, seed=child_seed(seed, rng)))
