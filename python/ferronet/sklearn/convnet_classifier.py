"""ConvNetClassifier: the book's convolutional network as a scikit-learn classifier of images."""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet.geometry import Shape3
from ferronet.networks import SimpleConvNet
from ferronet.sklearn import images
from ferronet.sklearn.base import NO_TARGETS
from ferronet.sklearn.classifier import NetworkClassifier


class ConvNetClassifier(NetworkClassifier):
    """The book's SimpleConvNet as a classifier: conv -> activation -> 2x2 max pool -> affine ->
    activation -> affine, trained with softmax cross-entropy.

    Images: X is either flat rows (n_samples, C*H*W), each a C-ordered
    (C, H, W) image (what ``load_fashion_mnist()`` gives, and what a
    ``Pipeline`` of scikit-learn transformers passes on), or image arrays
    (n_samples, H, W) (one channel) or (n_samples, C, H, W).

    input_shape: (C, H, W) or (H, W) of one sample, for flat rows.  None
    (default): the images' shape for image arrays; for rows, (1, s, s) when
    the number of features is a square s*s (784 -> 28x28), else
    (1, 1, n_features).  The shape found is ``input_shape_``.  Images
    smaller than the network's smallest input (a side of
    ``filter_size + stride - 2*pad``, 6 by default: the convolution must
    leave two pixels for the pooling) are zero-padded around their border
    to it, so any tabular data fits too.

    The network (``network_``, a :class:`~ferronet.networks.SimpleConvNet`):
    ``filter_num`` square ``filter_size`` filters with ``stride`` and zero
    padding ``pad`` (the book's 30, 5, 1, 0), ``hidden_size`` units (100),
    ``activation`` for both activations, ``weight_init_std`` (``'relu'``,
    He's, by default; the book's is 0.01) and one output per class.

    The training parameters and the learned attributes are described in
    :mod:`ferronet.sklearn.base` (``n_features_in_`` counts the values of
    a sample, C*H*W); ``classes_`` holds the labels.
    """

    def __init__(self, input_shape: Any = None, filter_num: int = 30, filter_size: int = 5, stride: int = 1,
                 pad: int = 0, hidden_size: int = 100, activation: str = "relu",
                 weight_init_std: float | str = "relu", optimizer: str = "adam", learning_rate: float = 0.001,
                 alpha: float = 0.0, epochs: int = 10, batch_size: int = 100, early_stopping: bool = False,
                 validation_fraction: float | None = None, n_iter_no_change: int = 10, random_state: Any = None,
                 dtype: str = "float64", verbose: bool = False) -> None:
        self.input_shape = input_shape
        self.filter_num = filter_num
        self.filter_size = filter_size
        self.stride = stride
        self.pad = pad
        self.hidden_size = hidden_size
        self.activation = activation
        self.weight_init_std = weight_init_std
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.epochs = epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    def _validate(self, X: Any, y: Any = NO_TARGETS, reset: bool = False) -> tuple[np.ndarray, Any]:
        """Image arrays validated as rows; ``reset`` settles ``input_shape_``, later image arrays must
        have it."""
        rows, seen = images.flatten_images(X)
        rows, y = super()._validate(rows, y, reset=reset)
        if reset:
            self.input_shape_ = images.image_shape(self.input_shape, seen, self.n_features_in_)
        elif seen is not None and images.as_chw(seen, "the images' shape") != self.input_shape_:
            raise ValueError(f"the images are {tuple(seen)}, the network was fitted to {self.input_shape_}")
        return rows, y

    def _network_shape(self) -> Shape3:
        """The (C, H, W) the network takes: ``input_shape_`` padded to the smallest side it needs."""
        return images.padded_shape(self.input_shape_, images.smallest_side(self.filter_size, self.stride, self.pad))

    def _network_input(self, X: np.ndarray) -> np.ndarray:
        """Rows (N, C*H*W) as zero-padded images (N, *the network's shape)."""
        return images.pad_images(X.reshape(len(X), *self.input_shape_), self._network_shape())

    def _build_network(self, seed: int | None) -> SimpleConvNet:
        conv_param = {"filter_num": self.filter_num, "filter_size": self.filter_size, "stride": self.stride,
                      "pad": self.pad}
        return SimpleConvNet(input_dim=self._network_shape(), conv_param=conv_param, hidden_size=self.hidden_size,
                             output_size=self.n_outputs_, weight_init_std=self.weight_init_std,
                             dtype=self._network_dtype(), seed=seed, weight_decay_lambda=self.alpha,
                             activation=self.activation)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # X may be images (N, H, W) (and (N, C, H, W), which no tag names)
        return tags
