"""The book's layers: ``forward`` / ``backward`` objects that keep their own state.

Layers call kernels only through :mod:`ferronet.ops`, so they run on both
backends.  Layers with parameters convert their input to the parameters'
dtype; the others pass arrays to the kernels as they are.

The layers a network runs in ``predict`` take ``forward(..., keep_state=True)``;
``keep_state=False`` makes it an inference pass that keeps nothing for
``backward`` (what networks' ``predict`` uses).  Layers that behave differently while training (``Dropout``,
``BatchNormalization``) also take ``train_flg``.
"""

from ferronet.layers.activations import Relu, Sigmoid
from ferronet.layers.affine import Affine
from ferronet.layers.arithmetic import AddLayer, MulLayer
from ferronet.layers.batch_norm import BatchNormalization
from ferronet.layers.convolution import Convolution
from ferronet.layers.dropout import Dropout
from ferronet.layers.pooling import Pooling
from ferronet.layers.softmax_with_loss import SoftmaxWithLoss

__all__ = ["AddLayer", "Affine", "BatchNormalization", "Convolution", "Dropout", "MulLayer", "Pooling", "Relu",
           "Sigmoid", "SoftmaxWithLoss"]
