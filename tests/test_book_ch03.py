"""The book's chapter 3 scripts on ferronet: step_function.py, sigmoid.py, relu.py,
sig_step_compare.py, mnist_show.py, neuralnet_mnist.py, neuralnet_mnist_batch.py.

MNIST is the small synthetic set of tests/book_mnist.py; ``sample_weight.pkl``
is made here in the book's format (``pickle.dump`` of a dict of float32
arrays W1..W3, b1..b3 for a 784-50-100-10 sigmoid network), from a network
ferronet trained on that set.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from ferronet.book_pickle import read_book_pickle
from ferronet.datasets import load_mnist
from ferronet.functions import relu, sigmoid, softmax, step_function
from ferronet.networks import MultiLayerNet
from ferronet.trainer import Trainer


def test_step_function_sigmoid_relu_and_their_plots(book_plt):
    # step_function.py, sigmoid.py, relu.py, sig_step_compare.py
    x = np.arange(-5.0, 5.0, 0.1)
    y_step = step_function(x)
    y_sig = sigmoid(x)
    y_relu = relu(x)
    np.testing.assert_array_equal(y_step, (x > 0).astype(int))
    np.testing.assert_allclose(y_sig, 1 / (1 + np.exp(-x)))
    np.testing.assert_array_equal(y_relu, np.maximum(0, x))
    if book_plt is not None:
        plt = book_plt
        plt.plot(x, y_sig)
        plt.plot(x, y_step, "k--")
        plt.ylim(-0.1, 1.1)
        plt.show()
        plt.plot(x, y_relu)
        plt.ylim(-1.0, 5.5)
        plt.show()


def test_mnist_show(book_mnist, capsys):
    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=True, normalize=False)
    img = x_train[0]
    label = t_train[0]
    print(label)
    print(img.shape)
    img = img.reshape(28, 28)
    print(img.shape)
    assert capsys.readouterr().out.splitlines() == [str(label), "(784,)", "(28, 28)"]
    assert img.dtype == np.uint8
    try:
        from PIL import Image
    except ImportError:
        return  # img_show needs Pillow
    pil_img = Image.fromarray(np.uint8(img))  # img_show, without opening a window
    assert pil_img.size == (28, 28)


@pytest.fixture
def sample_weight(book_mnist, tmp_path, monkeypatch):
    """``sample_weight.pkl`` in the working directory, as the book ships it next to the script."""
    (x_train, t_train), _ = load_mnist(normalize=True, flatten=True, one_hot_label=False)
    net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid", weight_init_std="sigmoid", seed=0)
    Trainer(net, x_train, t_train, x_train, t_train, epochs=8, optimizer="Adam", optimizer_param={"lr": 0.01},
            seed=0, verbose=False).train()
    weights = {k: v.astype(np.float32) for k, v in net.params.items()}
    monkeypatch.chdir(tmp_path)
    with open("sample_weight.pkl", "wb") as f:
        pickle.dump(weights, f, protocol=2)
    return weights


def get_data():
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True, one_hot_label=False)
    return x_test, t_test


def init_network():
    # the book: with open("sample_weight.pkl", 'rb') as f: network = pickle.load(f)
    return read_book_pickle("sample_weight.pkl")


def predict(network, x):
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    z2 = sigmoid(a2)
    a3 = np.dot(z2, W3) + b3
    return softmax(a3)


def test_neuralnet_mnist(sample_weight, capsys):
    x, t = get_data()
    network = init_network()
    accuracy_cnt = 0
    for i in range(len(x)):
        y = predict(network, x[i])
        p = np.argmax(y)
        if p == t[i]:
            accuracy_cnt += 1
    print("Accuracy:" + str(float(accuracy_cnt) / len(x)))
    accuracy = float(accuracy_cnt) / len(x)
    assert capsys.readouterr().out == f"Accuracy:{accuracy}\n"
    assert accuracy > 0.9

    # the same weights in ferronet's network of the book's layout give the same answers
    net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid")
    net.load_params("sample_weight.pkl")
    assert net.accuracy(x, t) == accuracy


def test_neuralnet_mnist_batch(sample_weight, capsys):
    x, t = get_data()
    network = init_network()
    batch_size = 100
    accuracy_cnt = 0
    for i in range(0, len(x), batch_size):
        x_batch = x[i:i + batch_size]
        y_batch = predict(network, x_batch)
        p = np.argmax(y_batch, axis=1)
        print(p.shape)
        accuracy_cnt += np.sum(p == t[i:i + batch_size])
    print("Accuracy:" + str(float(accuracy_cnt) / len(x)))
    lines = capsys.readouterr().out.splitlines()
    assert lines[:-1] == ["(100,)"] * (len(x) // batch_size)
    assert float(lines[-1].split(":")[1]) > 0.9
