"""Chapter 7.6: what the first convolution layer learns (``visualize_filter.py``).

The book's ``SimpleConvNet`` (30 filters of 5x5, std 0.01 initial weights)
trains by Adam (lr 0.001, batch 100).  Before training its filters are
noise; after it they are smooth patterns - edges and blobs the later
layers build on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet.experiments.base import Experiment, ExperimentRun, Size, Stopwatch
from ferronet.networks import SimpleConvNet
from ferronet.plot import plot_filters, plot_training_curves
from ferronet.trainer import Trainer

BATCH_SIZE, LEARNING_RATE = 100, 0.001
WEIGHT_INIT_STD = 0.01  # the book's train_convnet.py


def roughness(filters: np.ndarray) -> float:
    """How noisy filters (FN, C, FH, FW) are: the mean squared difference of neighbouring weights over
    the mean squared weight (about 2 for white noise; lower for smooth patterns)."""
    w = np.asarray(filters, dtype=np.float64)
    w = w - w.mean(axis=(2, 3), keepdims=True)
    dy, dx = np.diff(w, axis=2), np.diff(w, axis=3)
    return float((np.mean(dy ** 2) + np.mean(dx ** 2)) / 2 / max(np.mean(w ** 2), 1e-300))


def run(run: ExperimentRun) -> dict[str, Any]:
    data = run.load(images=True)
    n = run.size("train_samples")
    network = SimpleConvNet(weight_init_std=WEIGHT_INIT_STD, dtype=np.float32, seed=run.seed)
    before = network.params["W1"].copy()
    clock = Stopwatch()
    trainer = Trainer(network, data.x_train[:n], data.t_train[:n], data.x_test, data.t_test,
                      epochs=run.size("epochs"), optimizer="Adam", optimizer_param={"lr": LEARNING_RATE},
                      mini_batch_size=BATCH_SIZE, evaluate_sample_num_per_epoch=1000, verbose=False, seed=run.seed)
    trainer.fit()
    after = network.params["W1"].copy()
    test_acc = network.accuracy(data.x_test, data.t_test)
    epochs = trainer.current_epoch
    run.log(f"SimpleConvNet, {epochs} epoch{'s' * (epochs != 1)} on {n} images: test accuracy {100 * test_acc:.2f}% "
            f"({clock.seconds()[0]:.1f} s)")
    run.save(plot_filters(before, after, columns=6, title=f"the {len(before)} first-layer filters of "
                                                          f"SimpleConvNet ({run.data})"), "filters")
    run.save(plot_training_curves(trainer.history, trainer.train_loss_list, title="SimpleConvNet"), "curves")
    return {"test_acc": test_acc, "epochs": trainer.current_epoch,
            "roughness_before": roughness(before), "roughness_after": roughness(after),
            "weight_std_before": before.std(), "weight_std_after": after.std()}


EXPERIMENT = Experiment(
    name="filters", chapter="7.6", run=run,
    summary="SimpleConvNet's 30 first-layer filters before and after training",
    sizes=(Size("epochs", 2, "epochs of training (the book's 20)"),
           Size("train_samples", 60000, "training images")))
