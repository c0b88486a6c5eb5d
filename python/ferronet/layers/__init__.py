"""The book's layers: ``forward`` / ``backward`` objects that keep their own state.

Layers call kernels only through :mod:`ferronet.ops`, so they run on both
backends.  Layers with parameters convert their input to the parameters'
dtype; the others pass arrays to the kernels as they are.
"""

from ferronet.layers.activations import Relu, Sigmoid
from ferronet.layers.affine import Affine
from ferronet.layers.arithmetic import AddLayer, MulLayer
from ferronet.layers.softmax_with_loss import SoftmaxWithLoss

__all__ = ["AddLayer", "Affine", "MulLayer", "Relu", "Sigmoid", "SoftmaxWithLoss"]
