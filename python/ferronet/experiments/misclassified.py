"""Chapter 8.1: what a deep network still gets wrong (``misclassified_mnist.py``).

The book's ``DeepConvNet`` (six 3x3 convolutions, He initialisation,
dropout) trains by Adam (lr 0.001, batch 100) and classifies the test set.
The first 20 misclassified test images, each with its true and predicted
class, show mistakes a person could make too (on Fashion-MNIST: shirts,
T-shirts, pullovers and coats); the confusion matrix says which classes
it mixes up.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet.experiments.base import Experiment, ExperimentRun, Size
from ferronet.experiments.deep_conv_training import train_deep_conv_net
from ferronet.plot import confusion_matrix, predicted_labels, training_figures

#: the most frequent mistakes listed in the summary
TOP_CONFUSIONS = 5


def run(run: ExperimentRun) -> dict[str, Any]:
    trained = train_deep_conv_net(run)
    network, trainer, x_test, t_test = trained.network, trained.trainer, trained.x_test, trained.t_test
    predicted = predicted_labels(network, x_test)
    test_acc = float(np.mean(predicted == t_test))
    epochs = trainer.current_epoch
    run.log(f"DeepConvNet, {epochs} epoch{'s' * (epochs != 1)} on {trained.train_samples} images: test accuracy "
            f"{100 * test_acc:.2f}% ({trained.seconds:.1f} s)")
    figures = training_figures(trainer, x_test, t_test, class_names=trained.class_names, title="DeepConvNet",
                               predicted=predicted)
    for stem in ("misclassified", "confusion", "curves"):
        run.save(figures[stem], stem)
    counts = confusion_matrix(t_test, predicted, len(trained.class_names))
    off = counts * (1 - np.eye(len(counts), dtype=np.int64))
    pairs = np.dstack(np.unravel_index(np.argsort(-off, axis=None, kind="stable"), off.shape))[0][:TOP_CONFUSIONS]
    names = trained.class_names
    return {"test_acc": test_acc, "misclassified": int(off.sum()), "test_samples": len(t_test),
            "class_accuracy": {names[c]: counts[c, c] / max(counts[c].sum(), 1) for c in range(len(counts))},
            "top_confusions": [{"true": names[i], "predicted": names[j], "count": counts[i, j]} for i, j in pairs]}


EXPERIMENT = Experiment(
    name="misclassified", chapter="8.1", run=run,
    summary="DeepConvNet's misclassified test images with true/predicted labels, and its confusion matrix",
    sizes=(Size("epochs", 1, "epochs of training (the book's 20)"),
           Size("train_samples", 60000, "training images"),
           Size("test_samples", 10000, "test images classified", scales=False)))
