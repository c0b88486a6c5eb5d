"""The figures of a finished training run: learning curves, misclassified test images, confusion matrix.

What ``ferronet train --plot DIR`` writes, and what the convolutional
experiments draw after training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ferronet.plot.confusion import plot_confusion_matrix
from ferronet.plot.curves import plot_training_curves
from ferronet.plot.misclassified import plot_misclassified


def predicted_labels(network: Any, x: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """The network's predicted class of every sample of ``x`` (N, ...): labels (N,) int64."""
    return np.argmax(network.predict(x, batch_size=batch_size), axis=1)


def training_figures(trainer: Any, x_test: np.ndarray, t_test: np.ndarray, *,
                     class_names: Sequence[str] | None = None, title: str | None = None,
                     predicted: np.ndarray | None = None) -> dict[str, Any]:
    """``{'curves': ..., 'misclassified': ..., 'confusion': ...}``: Figures of ``trainer``'s run.

    curves: the Trainer's history and every batch's loss; misclassified and
    confusion: its network on the test set (``predicted`` labels when already
    computed).  class_names label the classes.
    """
    if predicted is None:
        predicted = predicted_labels(trainer.network, x_test)
    return {
        "curves": plot_training_curves(trainer.history, trainer.train_loss_list, title=title),
        "misclassified": plot_misclassified(x_test, t_test, predicted, class_names=class_names),
        "confusion": plot_confusion_matrix(t_test, predicted, class_names=class_names, title="test set"),
    }
