"""MLPClassifier: the book's multi-layer perceptron as a scikit-learn classifier."""

from __future__ import annotations

from typing import Any

from ferronet.sklearn.classifier import NetworkClassifier
from ferronet.sklearn.dense import DenseNetwork


class MLPClassifier(DenseNetwork, NetworkClassifier):
    """A fully connected network trained with softmax cross-entropy (Raschka's ``NeuralNetMLP``,
    as a standard estimator).

    The network (``network_``, a :class:`~ferronet.networks.MultiLayerNet`):
    ``n_features_in_`` inputs -> ``hidden_layer_sizes`` (a sequence of widths,
    or an int for one hidden layer) with ``activation`` (any name of
    :data:`ferronet.layers.ACTIVATIONS`) after each -> one output per class.
    weight_init_std: the initial weights' std or an initializer's name
    (:mod:`ferronet.initializers`; ``'relu'``, He's, by default).

    The training parameters (``optimizer``, ``learning_rate``, ``alpha``
    (L2), ``epochs``, ``batch_size``, ``early_stopping``,
    ``validation_fraction``, ``n_iter_no_change``, ``random_state``,
    ``dtype``, ``verbose``) and the learned attributes (``network_``,
    ``eval_``, ``n_iter_``, ...) are described in :mod:`ferronet.sklearn.base`;
    ``classes_`` holds the labels (any values scikit-learn takes, strings
    too), in the order of ``predict_proba``'s columns.
    """

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu",
                 weight_init_std: float | str = "relu", optimizer: str = "adam", learning_rate: float = 0.001,
                 alpha: float = 0.0, epochs: int = 50, batch_size: int = 100, early_stopping: bool = False,
                 validation_fraction: float | None = None, n_iter_no_change: int = 10, random_state: Any = None,
                 dtype: str = "float64", verbose: bool = False) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
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
