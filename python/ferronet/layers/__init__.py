"""The book's layers: ``forward`` / ``backward`` objects that keep their own state.

Layers call kernels only through :mod:`ferronet.ops`, so they run on both
backends.  Layers with parameters convert their input to the parameters'
dtype; the others pass arrays to the kernels as they are.

Every layer a network runs follows one protocol (:class:`ferronet.layers.base.Layer`):
``forward(x, train_flg=True, keep_state=True)``, ``backward(dout)``, and the
declared ``params`` (parameter -> gradient attribute) and ``persistent``
state; ``keep_state=False`` makes ``forward`` an inference pass that keeps
nothing for ``backward`` (what networks' ``predict`` uses).  Output layers
follow :class:`ferronet.layers.base.LossLayer`: ``forward(x, t)``, ``backward(dout=1)``;
``LOSSES`` / :func:`loss_layer` name them for the networks' ``loss=``.
"""

from ferronet.layers.activations import (ACTIVATIONS, ELU, GELU, Activation, Identity, LeakyReLU, PReLU, ReLU6, Relu,
                                         RReLU, SiLU, Sigmoid, Softplus, Swish, Tanh, activation_layer)
from ferronet.layers.affine import Affine
from ferronet.layers.arithmetic import AddLayer, MulLayer
from ferronet.layers.base import Layer, LossLayer
from ferronet.layers.batch_norm import BatchNormalization
from ferronet.layers.convolution import Convolution
from ferronet.layers.dropout import Dropout
from ferronet.layers.elementwise_losses import HuberLoss, L1Loss, MSELoss, SigmoidWithLoss
from ferronet.layers.kl_div_loss import KLDivLoss
from ferronet.layers.losses import LOSSES, loss_layer
from ferronet.layers.pooling import Pooling
from ferronet.layers.softmax_with_loss import SoftmaxWithLoss

__all__ = ["ACTIVATIONS", "ELU", "GELU", "LOSSES", "Activation", "AddLayer", "Affine", "BatchNormalization",
           "Convolution", "Dropout", "HuberLoss", "Identity", "KLDivLoss", "L1Loss", "Layer", "LeakyReLU", "LossLayer",
           "MSELoss", "MulLayer", "PReLU", "Pooling", "RReLU", "ReLU6", "Relu", "SiLU", "Sigmoid", "SigmoidWithLoss",
           "SoftmaxWithLoss", "Softplus", "Swish", "Tanh", "activation_layer", "loss_layer"]
