"""The book's chapter 4 scripts on ferronet: gradient_1d.py, gradient_2d.py, gradient_method.py,
gradient_simplenet.py, train_neuralnet.py (with its TwoLayerNet)."""

from __future__ import annotations

import numpy as np

from ferronet.datasets import load_mnist
from ferronet.functions import cross_entropy_error, softmax
from ferronet.gradient import numerical_diff, numerical_gradient
from ferronet.networks import TwoLayerNet


def function_1(x):
    return 0.01 * x ** 2 + 0.1 * x


def tangent_line(f, x):
    d = numerical_diff(f, x)
    y = f(x) - d * x
    return lambda t: d * t + y


def test_gradient_1d(book_plt):
    assert abs(numerical_diff(function_1, 5) - 0.2) < 1e-9
    assert abs(numerical_diff(function_1, 10) - 0.3) < 1e-9
    x = np.arange(0.0, 20.0, 0.1)
    y = function_1(x)
    tf = tangent_line(function_1, 5)
    y2 = tf(x)
    assert abs(tf(5) - function_1(5)) < 1e-12
    if book_plt is not None:
        book_plt.xlabel("x")
        book_plt.ylabel("f(x)")
        book_plt.plot(x, y)
        book_plt.plot(x, y2)
        book_plt.show()


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def test_gradient_2d():
    np.testing.assert_allclose(numerical_gradient(function_2, np.array([3.0, 4.0])), [6.0, 8.0])
    np.testing.assert_allclose(numerical_gradient(function_2, np.array([0.0, 2.0])), [0.0, 4.0], atol=1e-9)
    np.testing.assert_allclose(numerical_gradient(function_2, np.array([3.0, 0.0])), [6.0, 0.0], atol=1e-9)


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    x_history = []
    for i in range(step_num):
        x_history.append(x.copy())
        grad = numerical_gradient(f, x)
        x -= lr * grad
    return x, np.array(x_history)


def test_gradient_method(book_plt):
    init_x = np.array([-3.0, 4.0])
    x, x_history = gradient_descent(function_2, init_x, lr=0.1, step_num=20)
    np.testing.assert_allclose(x, 0.8 ** 20 * np.array([-3.0, 4.0]), rtol=1e-6)  # each step scales by 1 - 2 * lr
    assert x_history.shape == (20, 2)
    if book_plt is not None:
        book_plt.plot([-5, 5], [0, 0], "--b")
        book_plt.plot([0, 0], [-5, 5], "--b")
        book_plt.plot(x_history[:, 0], x_history[:, 1], "o")
        book_plt.xlim(-3.5, 3.5)
        book_plt.ylim(-4.5, 4.5)
        book_plt.show()


class simpleNet:  # noqa: N801 (the book's name)
    def __init__(self):
        self.W = np.random.rand(2, 3)

    def predict(self, x):
        return np.dot(x, self.W)

    def loss(self, x, t):
        z = self.predict(x)
        y = softmax(z)
        return cross_entropy_error(y, t)


def test_gradient_simplenet():
    np.random.seed(0)
    x = np.random.rand(2)
    t = np.array([0, 0, 1])
    net = simpleNet()
    f = lambda w: net.loss(x, t)  # noqa: E731 (as in the book)
    dW = numerical_gradient(f, net.W)
    assert dW.shape == (2, 3)
    y = softmax(net.predict(x))
    np.testing.assert_allclose(dW, np.outer(x, y - t), rtol=1e-4, atol=1e-6)  # the analytic gradient


def train_neuralnet(report):
    """ch04/train_neuralnet.py (and ch05's, which differs only in what it prints: ``report``)."""
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

    iters_num = 240  # the book: 10000
    train_size = x_train.shape[0]
    batch_size = 100
    learning_rate = 0.1
    train_loss_list = []
    train_acc_list = []
    test_acc_list = []
    iter_per_epoch = max(train_size / batch_size, 1)

    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = network.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]
        loss = network.loss(x_batch, t_batch)
        train_loss_list.append(loss)
        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)
            report(train_acc, test_acc)
    return train_loss_list, train_acc_list, test_acc_list


def test_train_neuralnet(book_mnist, capsys, book_plt):
    np.random.seed(0)
    train_loss_list, train_acc_list, test_acc_list = train_neuralnet(
        lambda train_acc, test_acc: print("train acc, test acc | " + str(train_acc) + ", " + str(test_acc)))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(train_acc_list) == 240 // 6
    assert lines[-1] == f"train acc, test acc | {train_acc_list[-1]}, {test_acc_list[-1]}"
    assert np.mean(train_loss_list[-20:]) < 0.5 * np.mean(train_loss_list[:20])
    assert test_acc_list[-1] > 0.9 and test_acc_list[0] < 0.5
    if book_plt is not None:
        x = np.arange(len(train_acc_list))
        book_plt.plot(x, train_acc_list, label="train acc")
        book_plt.plot(x, test_acc_list, label="test acc", linestyle="--")
        book_plt.ylim(0, 1.0)
        book_plt.legend(loc="lower right")
        book_plt.show()
