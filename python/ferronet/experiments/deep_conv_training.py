"""The book's DeepConvNet trained the way chapter 8's experiments train it (``misclassified``,
``half-float``): float32, Adam (lr 0.001), batch 100, on the run's first ``train_samples`` images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferronet.experiments.base import ExperimentRun, Stopwatch
from ferronet.networks import DeepConvNet
from ferronet.trainer import Trainer

BATCH_SIZE, LEARNING_RATE = 100, 0.001


@dataclass
class TrainedDeepConvNet:
    """What the training left: the network, its Trainer, the test images (N, 1, 28, 28) float32 and
    labels (N,) it was evaluated on, the data set's class names, the number of training images and the
    training's wall seconds."""

    network: DeepConvNet
    trainer: Trainer
    x_test: np.ndarray
    t_test: np.ndarray
    class_names: tuple[str, ...]
    train_samples: int
    seconds: float


def train_deep_conv_net(run: ExperimentRun) -> TrainedDeepConvNet:
    """Train a DeepConvNet (seeded by the run) for the run's ``epochs`` on ``train_samples`` images,
    evaluated on the first ``test_samples`` test images."""
    data = run.load(images=True)
    n, n_test = run.size("train_samples"), run.size("test_samples")
    x_test, t_test = data.x_test[:n_test], data.t_test[:n_test]
    network = DeepConvNet(dtype=np.float32, seed=run.seed)
    clock = Stopwatch()
    trainer = Trainer(network, data.x_train[:n], data.t_train[:n], x_test, t_test, epochs=run.size("epochs"),
                      mini_batch_size=BATCH_SIZE, optimizer="Adam", optimizer_param={"lr": LEARNING_RATE},
                      evaluate_sample_num_per_epoch=1000, verbose=False, seed=run.seed)
    trainer.fit()
    return TrainedDeepConvNet(network, trainer, x_test, t_test, tuple(data.class_names), n, clock.seconds()[0])
