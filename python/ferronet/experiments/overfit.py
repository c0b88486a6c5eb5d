"""Chapter 6.4: overfitting, and two cures (``overfit_weight_decay.py``, ``overfit_dropout.py``).

A seven-layer ReLU network (784-100x6-10) trained by SGD (lr 0.01, batch
100) on only 300 images learns them almost perfectly while its test
accuracy stays far lower: it overfits.  Weight decay (lambda 0.1) and
dropout (ratio 0.2) each keep the training accuracy down and narrow the
gap between training and test accuracy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet.experiments.base import Experiment, ExperimentRun, Size, Stopwatch
from ferronet.networks import MultiLayerNet, MultiLayerNetExtend
from ferronet.plot import plot_curve_panels
from ferronet.trainer import Trainer

HIDDEN = [100] * 6
BATCH_SIZE, LEARNING_RATE = 100, 0.01
WEIGHT_DECAY, DROPOUT = 0.1, 0.2
STYLES = {"train": {"color": "#1f77b4"}, "test": {"color": "#d62728", "linestyle": "--"}}


def networks(seed: int) -> dict[str, Any]:
    """The three networks compared, by label: plain, with weight decay, with dropout."""
    return {
        "no regularisation": MultiLayerNet(784, HIDDEN, 10, dtype=np.float32, seed=seed),
        f"weight decay {WEIGHT_DECAY:g}": MultiLayerNet(784, HIDDEN, 10, weight_decay_lambda=WEIGHT_DECAY,
                                                        dtype=np.float32, seed=seed),
        f"dropout {DROPOUT:g}": MultiLayerNetExtend(784, HIDDEN, 10, use_dropout=True, dropout_ratio=DROPOUT,
                                                    dtype=np.float32, seed=seed),
    }


def run(run: ExperimentRun) -> dict[str, Any]:
    data = run.load(images=False)
    n, epochs, n_test = run.size("train_samples"), run.size("epochs"), run.size("test_samples")
    x, t = data.x_train[:n], data.t_train[:n]
    x_test, t_test = data.x_test[:n_test], data.t_test[:n_test]
    panels, results = {}, {}
    for label, network in networks(run.seed).items():
        clock = Stopwatch()
        trainer = Trainer(network, x, t, x_test, t_test, epochs=epochs, mini_batch_size=BATCH_SIZE,
                          optimizer="SGD", optimizer_param={"lr": LEARNING_RATE}, verbose=False, seed=run.seed)
        trainer.fit()
        train_acc, test_acc = trainer.train_acc_list[-1], trainer.test_acc_list[-1]
        results[label] = {"train_acc": train_acc, "test_acc": test_acc, "gap": train_acc - test_acc,
                          "best_test_acc": max(trainer.test_acc_list)}
        panels[f"{label}: gap {100 * (train_acc - test_acc):.1f} points"] = {
            "train": trainer.train_acc_list, "test": trainer.test_acc_list}
        run.log(f"{label}: train {100 * train_acc:.1f}%, test {100 * test_acc:.1f}%, gap "
                f"{100 * (train_acc - test_acc):.1f} points ({clock.seconds()[0]:.1f} s)")
    run.save(plot_curve_panels(panels, x=np.arange(1, epochs + 1), columns=3, ylim=(0, 1), styles=STYLES,
                               title=f"{n} training images, {len(x_test)} test images: SGD lr {LEARNING_RATE}, "
                                     f"784-100x6-10"), "accuracy")
    return results


EXPERIMENT = Experiment(
    name="overfit", chapter="6.4", run=run,
    summary="a big network on 300 images overfits; weight decay and dropout narrow the train/test gap",
    sizes=(Size("epochs", 200, "epochs of each run (the book's 201 and 301)"),
           Size("train_samples", 300, "training images (the book's 300)", scales=False),
           Size("test_samples", 10000, "test images measured after every epoch", scales=False)))
