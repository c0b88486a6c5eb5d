"""What ferronet's classifiers share: labels of any kind, class probabilities, ``partial_fit(classes=)``.

The labels (ints, strings, any values scikit-learn takes as classes) are
encoded as their indices in ``classes_`` (sorted) for the network's softmax
cross-entropy; ``predict`` maps the largest score back to its label.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from ferronet.functions import softmax
from ferronet.sklearn.base import NetworkEstimator


class NetworkClassifier(ClassifierMixin, NetworkEstimator):
    """A :class:`~ferronet.sklearn.base.NetworkEstimator` whose network ends in softmax
    cross-entropy over ``classes_``: one output per class (one for data of a single class)."""

    score_name = "acc"
    #: the network's ``loss=``
    network_loss = "softmax_ce"

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> NetworkClassifier:
        """One epoch on (X, y), continuing the network of earlier calls (or of ``fit``); returns self.

        classes: every label the data may hold; required in the first call
        (when nothing was fitted yet), optional later (then it must be the
        same set).
        """
        if not hasattr(self, "network_") and classes is None:
            raise ValueError("the first call to partial_fit needs classes=: every label the data may hold")
        return self._partial_fit(X, y, classes)

    def _targets(self, y: np.ndarray, reset: bool, classes: Any = None) -> np.ndarray:
        """y's labels as indices into ``classes_`` (int64); ``reset`` learns ``classes_`` from
        ``classes`` (partial_fit) or from y."""
        check_classification_targets(y)
        if reset:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            self.n_outputs_ = len(self.classes_)
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={np.unique(np.asarray(classes)).tolist()} differs from the classes of the "
                             f"earlier fit, {self.classes_.tolist()}")
        index = np.searchsorted(self.classes_, y)  # (N,)
        known = (index < len(self.classes_)) & (self.classes_[np.minimum(index, len(self.classes_) - 1)] == y)
        if not known.all():
            raise ValueError(f"y holds labels that are not among classes_ {self.classes_.tolist()}: "
                             f"{np.unique(y[~known]).tolist()[:5]}")
        return index.astype(np.int64)

    def predict(self, X: Any) -> np.ndarray:
        """The label of the largest score of each sample: (n_samples,), of ``classes_``'s type."""
        scores = self._scores(X)  # (N, n_classes); raises NotFittedError before classes_ is needed
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """The softmax of the scores: (n_samples, n_classes) float64, columns in ``classes_``'s order."""
        return softmax(self._scores(X))
