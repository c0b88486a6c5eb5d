"""MLPRegressor: the book's multi-layer perceptron as a scikit-learn regressor."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import numpy as np
from sklearn.base import RegressorMixin

from ferronet.layers import LossLayer
from ferronet.layers.losses import loss_layer
from ferronet.sklearn.base import NetworkEstimator
from ferronet.sklearn.dense import DenseNetwork


class MLPRegressor(RegressorMixin, DenseNetwork, NetworkEstimator):
    """A fully connected network fitted to one or several real-valued targets.

    The network (``network_``, a :class:`~ferronet.networks.MultiLayerNet`):
    ``n_features_in_`` inputs -> ``hidden_layer_sizes`` (a sequence of widths,
    or an int for one hidden layer) with ``activation`` after each -> one
    linear output per target.  loss: ``'mse'`` (default), ``'l1'`` or
    ``'huber'`` (delta 1), see :data:`ferronet.layers.LOSSES`, or a
    regression :class:`~ferronet.layers.LossLayer` object (``HuberLoss(delta=0.5)``).
    weight_init_std: as in :class:`~ferronet.sklearn.MLPClassifier`.
    The targets are used as given: scale them (``TransformedTargetRegressor``)
    when they are far from unit size.

    y: (n_samples,) or (n_samples, n_targets); ``predict`` returns
    (n_samples,) float64 for one target (also when it was given as a
    column), else (n_samples, n_targets).  ``eval_`` records R² as
    ``'train_r2'`` / ``'valid_r2'``.  The training parameters and the other
    learned attributes are described in :mod:`ferronet.sklearn.base`.
    """

    score_name = "r2"
    target_checks = MappingProxyType({"multi_output": True, "y_numeric": True})

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu",
                 weight_init_std: float | str = "relu", loss: str | LossLayer = "mse", optimizer: str = "adam",
                 learning_rate: float = 0.001, alpha: float = 0.0, epochs: int = 50, batch_size: int = 100,
                 early_stopping: bool = False, validation_fraction: float | None = None,
                 n_iter_no_change: int = 10, random_state: Any = None, dtype: str = "float64",
                 verbose: bool = False) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.weight_init_std = weight_init_std
        self.loss = loss
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

    @property
    def network_loss(self) -> str | LossLayer:
        """The network's ``loss=``: the ``loss`` parameter (a copy of a layer object, which training
        must not change), checked to be a regression loss."""
        loss = copy.deepcopy(self.loss) if isinstance(self.loss, LossLayer) else self.loss
        kind = loss if isinstance(loss, LossLayer) else loss_layer(loss)
        if kind.task != "regression":
            raise ValueError(f"MLPRegressor needs a regression loss, 'mse', 'l1', 'huber' or a LossLayer object "
                             f"such as HuberLoss(delta=0.5); got {self.loss!r}")
        return loss

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch on (X, y), continuing the network of earlier calls (or of ``fit``); returns self."""
        return self._partial_fit(X, y)

    def _targets(self, y: np.ndarray, reset: bool, classes: Any = None) -> np.ndarray:
        """y as (N, n_outputs_) in the network's dtype; ``reset`` learns ``n_outputs_``."""
        t = np.asarray(y, dtype=self._network_dtype()).reshape(len(y), -1)  # (N, K)
        if reset:
            self.n_outputs_ = t.shape[1]
        elif t.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {t.shape[1]} targets per sample, the network was fitted to {self.n_outputs_}")
        return t

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs: (n_samples,) for one target, else (n_samples, n_targets); float64."""
        y = self._scores(X)  # (N, K)
        return y.ravel() if self.n_outputs_ == 1 else y

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y may be (n_samples, n_targets): one output each
        return tags
