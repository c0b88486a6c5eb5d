"""Learning on real data: SimpleConvNet, and MultiLayerNetExtend with and without
batch normalisation, on Fashion-MNIST (skipped when the Debian package
dataset-fashion-mnist is not installed; CI installs it)."""

from __future__ import annotations

import numpy as np
from conftest import requires_native
from test_learning_fashion_mnist import fashion_mnist_or_skip

import ferronet
from ferronet.networks import MultiLayerNetExtend, SimpleConvNet
from ferronet.trainer import Trainer


@requires_native  # tens of seconds natively; the NumPy backend needs minutes per epoch
def test_simple_conv_net_reaches_89_percent_within_3_epochs():
    """SimpleConvNet, float32, Adam lr=0.001, batch 100, He initialisation.

    With He init, seeds 0-2 measured 89.4-90.0% after 2 epochs and 90.0-90.6%
    after 3.  The book's ``weight_init_std=0.01`` gets 87.9-88.3% after 3
    epochs (PyTorch's equivalent model: 88.2%), short of 89%.
    """
    (x_train, t_train), (x_test, t_test) = fashion_mnist_or_skip()
    x_train, x_test = x_train.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)  # (N, 784) -> images
    with ferronet.use_backend("native"):
        net = SimpleConvNet(weight_init_std="he", dtype=np.float32, seed=0)
        trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=3, mini_batch_size=100,
                          optimizer="Adam", optimizer_param={"lr": 0.001},
                          evaluate_sample_num_per_epoch=500, verbose=False, seed=0)
        test_acc = []  # on the whole test set, after each epoch
        for _ in range(trainer.epochs):
            for _ in range(trainer.iter_per_epoch):
                trainer.train_step()
            test_acc.append(net.accuracy(x_test, t_test))
    assert max(test_acc) >= 0.89, f"test accuracy after each epoch: {test_acc}"


def epochs_to_reach(net, data, threshold, max_epochs):
    """The first epoch after which the test accuracy is at least ``threshold`` (None: not within max_epochs).

    SGD lr=0.1, batch 100, test accuracy on the whole (small) test set after each epoch.
    """
    trainer = Trainer(net, *data, epochs=max_epochs, mini_batch_size=100, optimizer="SGD",
                      optimizer_param={"lr": 0.1}, verbose=False, seed=0)
    for epoch in range(1, max_epochs + 1):
        for _ in range(trainer.iter_per_epoch):
            trainer.train_step()
        if trainer.test_acc_list[-1] >= threshold:
            return epoch
    return None


def test_batchnorm_reaches_65_percent_in_fewer_epochs(backend):
    """The book's batch-norm experiment (chapter 6) on a 1000-image subset: five hidden layers of 100.

    Measured on the NumPy backend over seeds 0-9, 65% on 2000 test images
    takes 2 epochs with batch normalisation every time (66-72% then) and 4-7
    epochs without (at most 55% after 2), so the assertion has room to spare.
    """
    (x_train, t_train), (x_test, t_test) = fashion_mnist_or_skip()
    data = (x_train[:1000], t_train[:1000], x_test[:2000], t_test[:2000])

    def net(use_batchnorm):
        return MultiLayerNetExtend(784, [100] * 5, 10, weight_init_std="relu", use_batchnorm=use_batchnorm,
                                   dtype=np.float32, seed=0)

    with_bn = epochs_to_reach(net(True), data, 0.65, max_epochs=4)
    without = epochs_to_reach(net(False), data, 0.65, max_epochs=10)
    assert with_bn is not None, "batch normalisation did not reach 65% within 4 epochs"
    assert without is None or with_bn < without, (with_bn, without)
