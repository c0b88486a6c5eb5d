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

from ferronet.experiments.base import Experiment, ExperimentRun, Size, Stopwatch
from ferronet.networks import DeepConvNet
from ferronet.plot import confusion_matrix, predicted_labels, training_figures
from ferronet.trainer import Trainer

BATCH_SIZE, LEARNING_RATE = 100, 0.001
#: the most frequent mistakes listed in the summary
TOP_CONFUSIONS = 5


def run(run: ExperimentRun) -> dict[str, Any]:
    data = run.load(images=True)
    n, n_test = run.size("train_samples"), run.size("test_samples")
    x_test, t_test = data.x_test[:n_test], data.t_test[:n_test]
    network = DeepConvNet(dtype=np.float32, seed=run.seed)
    clock = Stopwatch()
    trainer = Trainer(network, data.x_train[:n], data.t_train[:n], x_test, t_test, epochs=run.size("epochs"),
                      mini_batch_size=BATCH_SIZE, optimizer="Adam", optimizer_param={"lr": LEARNING_RATE},
                      evaluate_sample_num_per_epoch=1000, verbose=False, seed=run.seed)
    trainer.fit()
    predicted = predicted_labels(network, x_test)
    test_acc = float(np.mean(predicted == t_test))
    epochs = trainer.current_epoch
    run.log(f"DeepConvNet, {epochs} epoch{'s' * (epochs != 1)} on {n} images: test accuracy {100 * test_acc:.2f}% "
            f"({clock.seconds()[0]:.1f} s)")
    figures = training_figures(trainer, x_test, t_test, class_names=data.class_names, title="DeepConvNet",
                               predicted=predicted)
    for stem in ("misclassified", "confusion", "curves"):
        run.save(figures[stem], stem)
    counts = confusion_matrix(t_test, predicted, len(data.class_names))
    off = counts * (1 - np.eye(len(counts), dtype=np.int64))
    pairs = np.dstack(np.unravel_index(np.argsort(-off, axis=None, kind="stable"), off.shape))[0][:TOP_CONFUSIONS]
    names = data.class_names
    return {"test_acc": test_acc, "misclassified": int(off.sum()), "test_samples": len(t_test),
            "class_accuracy": {names[c]: counts[c, c] / max(counts[c].sum(), 1) for c in range(len(counts))},
            "top_confusions": [{"true": names[i], "predicted": names[j], "count": counts[i, j]} for i, j in pairs]}


EXPERIMENT = Experiment(
    name="misclassified", chapter="8.1", run=run,
    summary="DeepConvNet's misclassified test images with true/predicted labels, and its confusion matrix",
    sizes=(Size("epochs", 1, "epochs of training (the book's 20)"),
           Size("train_samples", 60000, "training images"),
           Size("test_samples", 10000, "test images classified", scales=False)))
