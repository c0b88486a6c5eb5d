"""Learning on real data: MultiLayerNet on Fashion-MNIST (skipped when the
Debian package dataset-fashion-mnist is not installed; CI installs it)."""

from __future__ import annotations

import numpy as np
import pytest

import ferronet
from ferronet.datasets import load_fashion_mnist
from ferronet.networks import MultiLayerNet
from ferronet.trainer import Trainer


def fashion_mnist_or_skip():
    try:
        return load_fashion_mnist(download=False)
    except (FileNotFoundError, OSError) as exc:
        pytest.skip(f"Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): {exc}")


def test_multilayer_net_reaches_85_percent_in_5_epochs():
    (x_train, t_train), (x_test, t_test) = fashion_mnist_or_skip()
    backend = "native" if ferronet.native_available() else "numpy"
    with ferronet.use_backend(backend):
        net = MultiLayerNet(784, [100, 100], 10, dtype=np.float32, seed=0)
        trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=5, mini_batch_size=100,
                          optimizer="Adam", optimizer_param={"lr": 0.001},
                          evaluate_sample_num_per_epoch=1000, verbose=False, seed=0)
        trainer.train()
        accuracy = net.accuracy(x_test, t_test)
    assert len(trainer.test_acc_list) == 5
    assert accuracy >= 0.85, f"test accuracy {accuracy:.4f} after 5 epochs"
