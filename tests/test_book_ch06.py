"""The book's chapter 6 scripts on ferronet: optimizer_compare_naive.py, optimizer_compare_mnist.py,
weight_init_activation_histogram.py, weight_init_compare.py, batch_norm_test.py,
batch_norm_gradient_check.py, overfit_weight_decay.py, overfit_dropout.py,
hyperparameter_optimization.py (iterations, epochs and trials cut down)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from ferronet.datasets import load_mnist
from ferronet.networks import MultiLayerNet, MultiLayerNetExtend
from ferronet.optimizers import SGD, AdaGrad, Adam, Momentum
from ferronet.trainer import Trainer
from ferronet.utils import shuffle_dataset, smooth_curve


def f(x, y):
    return x ** 2 / 20.0 + y ** 2


def df(x, y):
    return x / 10.0, 2.0 * y


def test_optimizer_compare_naive(book_plt):
    init_pos = (-7.0, 2.0)
    params = {}
    params["x"], params["y"] = init_pos[0], init_pos[1]
    grads = {}
    grads["x"], grads["y"] = 0, 0
    optimizers = OrderedDict()
    optimizers["SGD"] = SGD(lr=0.95)
    optimizers["Momentum"] = Momentum(lr=0.1)
    optimizers["AdaGrad"] = AdaGrad(lr=1.5)
    optimizers["Adam"] = Adam(lr=0.3)
    for key in optimizers:
        optimizer = optimizers[key]
        x_history = []
        y_history = []
        params["x"], params["y"] = init_pos[0], init_pos[1]
        for i in range(30):
            x_history.append(params["x"])
            y_history.append(params["y"])
            grads["x"], grads["y"] = df(params["x"], params["y"])
            optimizer.update(params, grads)
        assert f(params["x"], params["y"]) < f(*init_pos) / 10, key


def test_optimizer_compare_mnist(book_mnist, book_plt, capsys):
    np.random.seed(0)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    train_size = x_train.shape[0]
    batch_size = 128
    max_iterations = 60  # the book: 2000
    optimizers = {}
    optimizers["SGD"] = SGD()
    optimizers["Momentum"] = Momentum()
    optimizers["AdaGrad"] = AdaGrad()
    optimizers["Adam"] = Adam()
    networks = {}
    train_loss = {}
    for key in optimizers.keys():
        networks[key] = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10)
        train_loss[key] = []
    for i in range(max_iterations):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        for key in optimizers.keys():
            grads = networks[key].gradient(x_batch, t_batch)
            optimizers[key].update(networks[key].params, grads)
            loss = networks[key].loss(x_batch, t_batch)
            train_loss[key].append(loss)
        if i % 20 == 0:
            print("===========" + "iteration:" + str(i) + "===========")
            for key in optimizers.keys():
                loss = networks[key].loss(x_batch, t_batch)
                print(key + ":" + str(loss))
    assert capsys.readouterr().out.count("iteration:") == 3
    for key in ("Momentum", "AdaGrad", "Adam"):
        assert np.mean(train_loss[key][-10:]) < 0.5 * np.mean(train_loss[key][:10]), key
    assert np.mean(train_loss["Adam"][-10:]) < np.mean(train_loss["SGD"][-10:])  # the book's figure 6-9
    if book_plt is not None:
        markers = {"SGD": "o", "Momentum": "x", "AdaGrad": "s", "Adam": "D"}
        x = np.arange(max_iterations)
        for key in optimizers.keys():
            book_plt.plot(x, smooth_curve(train_loss[key]), marker=markers[key], markevery=10, label=key)
        book_plt.ylim(0, 1)
        book_plt.legend()
        book_plt.show()


def test_weight_init_activation_histogram(book_plt):
    # plain NumPy in the book too: nothing to import from ferronet
    np.random.seed(0)
    input_data = np.random.randn(1000, 100)
    node_num = 100
    hidden_layer_size = 5
    activations = {}
    x = input_data
    for i in range(hidden_layer_size):
        if i != 0:
            x = activations[i - 1]
        w = np.random.randn(node_num, node_num) * np.sqrt(2.0 / node_num)
        a = np.dot(x, w)
        activations[i] = np.maximum(0, a)
    spreads = [a.std() for a in activations.values()]
    assert max(spreads) < 3 * min(spreads)  # He keeps the spread of ReLU activations layer after layer
    if book_plt is not None:
        for i, a in activations.items():
            book_plt.subplot(1, len(activations), i + 1)
            book_plt.hist(a.flatten(), 30, range=(0, 1))
        book_plt.show()


def test_weight_init_compare(book_mnist, book_plt):
    np.random.seed(0)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    train_size = x_train.shape[0]
    batch_size = 128
    max_iterations = 100  # the book: 2000
    weight_init_types = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}
    optimizer = SGD(lr=0.01)
    networks = {}
    train_loss = {}
    for key, weight_type in weight_init_types.items():
        networks[key] = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10,
                                      weight_init_std=weight_type)
        train_loss[key] = []
    for i in range(max_iterations):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        for key in weight_init_types.keys():
            grads = networks[key].gradient(x_batch, t_batch)
            optimizer.update(networks[key].params, grads)
            loss = networks[key].loss(x_batch, t_batch)
            train_loss[key].append(loss)
    final = {key: np.mean(losses[-10:]) for key, losses in train_loss.items()}
    assert final["std=0.01"] > 2.2  # std 0.01 does not learn (the book's figure 6-15)
    assert final["He"] < final["Xavier"] < final["std=0.01"]
    if book_plt is not None:
        x = np.arange(max_iterations)
        for key in weight_init_types.keys():
            book_plt.plot(x, smooth_curve(train_loss[key]), markevery=10, label=key)
        book_plt.ylim(0, 2.5)
        book_plt.legend()
        book_plt.show()


def test_batch_norm_test(book_mnist, capsys):
    np.random.seed(0)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    x_train = x_train[:300]  # the book: 1000
    t_train = t_train[:300]
    max_epochs = 8  # the book: 20
    train_size = x_train.shape[0]
    batch_size = 100
    learning_rate = 0.01

    def __train(weight_init_std):
        bn_network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100],
                                         output_size=10, weight_init_std=weight_init_std, use_batchnorm=True)
        network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100], output_size=10,
                                      weight_init_std=weight_init_std)
        optimizer = SGD(lr=learning_rate)
        train_acc_list = []
        bn_train_acc_list = []
        iter_per_epoch = max(train_size / batch_size, 1)
        epoch_cnt = 0
        for i in range(1000000000):
            batch_mask = np.random.choice(train_size, batch_size)
            x_batch = x_train[batch_mask]
            t_batch = t_train[batch_mask]
            for _network in (bn_network, network):
                grads = _network.gradient(x_batch, t_batch)
                optimizer.update(_network.params, grads)
            if i % iter_per_epoch == 0:
                train_acc = network.accuracy(x_train, t_train)
                bn_train_acc = bn_network.accuracy(x_train, t_train)
                train_acc_list.append(train_acc)
                bn_train_acc_list.append(bn_train_acc)
                print("epoch:" + str(epoch_cnt) + " | " + str(train_acc) + " - " + str(bn_train_acc))
                epoch_cnt += 1
                if epoch_cnt >= max_epochs:
                    break
        return train_acc_list, bn_train_acc_list

    weight_scale_list = np.logspace(0, -4, num=16)[[4, 6]]  # the book: all 16 scales
    for i, w in enumerate(weight_scale_list):
        print("============== " + str(i + 1) + "/2" + " ==============")
        train_acc_list, bn_train_acc_list = __train(w)
        assert len(train_acc_list) == len(bn_train_acc_list) == max_epochs
        assert bn_train_acc_list[-1] > train_acc_list[-1]  # batch norm learns where plain SGD stalls
    assert capsys.readouterr().out.count("epoch:") == 2 * max_epochs


def test_batch_norm_gradient_check(book_mnist, capsys):
    np.random.seed(0)  # the weights come from NumPy's global generator; a fixed draw keeps ReLU's kink away
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[6, 6], output_size=10,  # the book: [100, 100]
                                  use_batchnorm=True)
    x_batch = x_train[:1]
    t_batch = t_train[:1]
    grad_backprop = network.gradient(x_batch, t_batch)
    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    for key in grad_numerical.keys():
        diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
        print(key + ":" + str(diff))
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split(":")[0] for line in lines) == sorted(network.params)
    assert all(np.isfinite(float(line.split(":")[1])) for line in lines)
    # With one sample every batch-normalised value is exactly beta (0), on ReLU's kink, where the
    # central difference sees half a slope: the script's diffs for the last beta are not small there,
    # in the book either.  Three samples are away from the kink, and the gradients agree.
    grad_backprop = network.gradient(x_train[:3], t_train[:3])
    grad_numerical = network.numerical_gradient(x_train[:3], t_train[:3])
    for key in grad_numerical.keys():
        assert np.average(np.abs(grad_backprop[key] - grad_numerical[key])) < 1e-7, key


def test_overfit_weight_decay(book_mnist, capsys):
    np.random.seed(0)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    x_train = x_train[:300]
    t_train = t_train[:300]
    weight_decay_lambda = 0.1
    network = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100], output_size=10,
                            weight_decay_lambda=weight_decay_lambda)
    optimizer = SGD(lr=0.01)
    max_epochs = 11  # the book: 201
    train_size = x_train.shape[0]
    batch_size = 100
    train_acc_list = []
    test_acc_list = []
    iter_per_epoch = max(train_size / batch_size, 1)
    epoch_cnt = 0
    for i in range(1000000000):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)
            print("epoch:" + str(epoch_cnt) + ", train acc:" + str(train_acc) + ", test acc:" + str(test_acc))
            epoch_cnt += 1
            if epoch_cnt >= max_epochs:
                break
    assert len(train_acc_list) == max_epochs
    assert capsys.readouterr().out.splitlines()[-1].startswith("epoch:10, train acc:")
    decay = 0.5 * weight_decay_lambda * sum(np.sum(network.params[f"W{i}"] ** 2) for i in range(1, 8))
    data_loss = network.last_layer.forward(network.predict(x_train), t_train)
    assert network.loss(x_train, t_train) == pytest.approx(data_loss + decay)  # the loss includes the decay


def test_overfit_dropout(book_mnist, capsys):
    np.random.seed(0)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    x_train = x_train[:300]
    t_train = t_train[:300]
    use_dropout = True
    dropout_ratio = 0.2
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100],
                                  output_size=10, use_dropout=use_dropout, dropout_ration=dropout_ratio)
    trainer = Trainer(network, x_train, t_train, x_test, t_test,
                      epochs=3, mini_batch_size=100,  # the book: epochs=301
                      optimizer="sgd", optimizer_param={"lr": 0.01}, verbose=True)
    trainer.train()
    train_acc_list, test_acc_list = trainer.train_acc_list, trainer.test_acc_list
    lines = capsys.readouterr().out.splitlines()  # not a terminal: the book's lines
    assert lines[:3] == [f"=== epoch:{i + 1}, train acc:{train_acc_list[i]}, test acc:{test_acc_list[i]} ==="
                         for i in range(3)]
    assert lines[3:] == ["=============== Final Test Accuracy ===============", f"test acc:{trainer.final_test_acc}"]
    assert all(layer.dropout_ratio == 0.2 for name, layer in network.layers.items() if name.startswith("Dropout"))


def test_hyperparameter_optimization(book_mnist, capsys):
    np.random.seed(0)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    x_train = x_train[:500]
    t_train = t_train[:500]
    validation_rate = 0.20
    validation_num = int(x_train.shape[0] * validation_rate)  # the book slices with a float, which NumPy refuses
    x_train, t_train = shuffle_dataset(x_train, t_train)
    x_val = x_train[:validation_num]
    t_val = t_train[:validation_num]
    x_train = x_train[validation_num:]
    t_train = t_train[validation_num:]

    def __train(lr, weight_decay, epocs=3):  # the book: 50
        network = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100],
                                output_size=10, weight_decay_lambda=weight_decay)
        trainer = Trainer(network, x_train, t_train, x_val, t_val, epochs=epocs, mini_batch_size=100,
                          optimizer="sgd", optimizer_param={"lr": lr}, verbose=False)
        trainer.train()
        return trainer.test_acc_list, trainer.train_acc_list

    optimization_trial = 3  # the book: 100
    results_val = {}
    results_train = {}
    for _ in range(optimization_trial):
        weight_decay = 10 ** np.random.uniform(-4, -8)
        lr = 10 ** np.random.uniform(-2, -6)
        val_acc_list, train_acc_list = __train(lr, weight_decay)
        print("val acc:" + str(val_acc_list[-1]) + " | lr:" + str(lr) + ", weight decay:" + str(weight_decay))
        key = "lr:" + str(lr) + ", weight decay:" + str(weight_decay)
        results_val[key] = val_acc_list
        results_train[key] = train_acc_list
    print("=========== Hyper-Parameter Optimization Result ===========")
    ranked = sorted(results_val.items(), key=lambda x: x[1][-1], reverse=True)
    for i, (key, val_acc_list) in enumerate(ranked):
        print("Best-" + str(i + 1) + "(val acc:" + str(val_acc_list[-1]) + ") | " + key)
    out = capsys.readouterr().out
    assert out.count("val acc:") == 2 * optimization_trial and "Best-3" in out
    assert all(len(v) == 3 for v in results_val.values())
