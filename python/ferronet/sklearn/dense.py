"""The network of the MLP estimators: the book's fully connected MultiLayerNet."""

from __future__ import annotations

import numbers
from typing import Any

from ferronet.networks import MultiLayerNet


def layer_sizes(hidden_layer_sizes: Any) -> list[int]:
    """``hidden_layer_sizes`` as a list of widths: an int is one hidden layer, a sequence one per layer."""
    if isinstance(hidden_layer_sizes, numbers.Integral):
        return [int(hidden_layer_sizes)]
    return [int(size) for size in hidden_layer_sizes]


class DenseNetwork:
    """Builds ``network_`` for :class:`~ferronet.sklearn.MLPClassifier` and
    :class:`~ferronet.sklearn.MLPRegressor`: a :class:`~ferronet.networks.MultiLayerNet`
    ``n_features_in_ -> *hidden_layer_sizes -> n_outputs_`` with their ``activation``,
    ``weight_init_std``, ``alpha`` (its ``weight_decay_lambda``), ``dtype`` and loss."""

    def _build_network(self, seed: int | None) -> MultiLayerNet:
        return MultiLayerNet(self.n_features_in_, layer_sizes(self.hidden_layer_sizes), self.n_outputs_,
                             activation=self.activation, weight_init_std=self.weight_init_std,
                             weight_decay_lambda=self.alpha, dtype=self._network_dtype(), seed=seed,
                             loss=self.network_loss)
