"""The book's chapter 7 scripts on ferronet: gradient_check.py, train_convnet.py (with its
SimpleConvNet), visualize_filter.py, apply_filter.py.

``params.pkl`` is what ferronet's ``save_params("params.pkl")`` writes (an
``.npz`` archive under the book's name) or the book's own pickle of the
same dict; ``load_params`` reads either.
"""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest

from ferronet.datasets import load_mnist
from ferronet.layers import Convolution
from ferronet.networks import SimpleConvNet
from ferronet.trainer import Trainer


def test_gradient_check(capsys):
    # The script draws its weights and input at random.  Some draws put a hidden value within
    # h = 1e-4 of a ReLU or max-pooling kink, where the central difference is off (in the book
    # too); this seed's draw is away from every kink, so the two gradients must agree closely.
    np.random.seed(1)
    network = SimpleConvNet(input_dim=(1, 10, 10),
                            conv_param={"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1},
                            hidden_size=10, output_size=10, weight_init_std=0.01)
    X = np.random.rand(100).reshape((1, 1, 10, 10))
    T = np.array([1]).reshape((1, 1))
    grad_num = network.numerical_gradient(X, T)
    grad = network.gradient(X, T)
    for key, val in grad_num.items():
        print(key, np.abs(grad_num[key] - grad[key]).mean())
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert all(float(line.split()[1]) < 1e-9 for line in lines)


def train_convnet(capsys):
    """ch07/train_convnet.py with 1 epoch of the synthetic MNIST; returns the network and printed lines."""
    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
    network = SimpleConvNet(input_dim=(1, 28, 28),
                            conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                            hidden_size=100, output_size=10, weight_init_std=0.01)
    trainer = Trainer(network, x_train, t_train, x_test, t_test,
                      epochs=1, mini_batch_size=100,  # the book: epochs=20
                      optimizer="Adam", optimizer_param={"lr": 0.001},
                      evaluate_sample_num_per_epoch=1000)
    trainer.train()
    network.save_params("params.pkl")
    print("Saved Network Parameters!")
    return network, trainer, capsys.readouterr().out.splitlines()


def test_train_convnet(book_mnist, tmp_path, monkeypatch, capsys, book_plt):
    monkeypatch.chdir(tmp_path)
    np.random.seed(0)
    network, trainer, lines = train_convnet(capsys)
    assert lines[0].startswith("=== epoch:1, train acc:")
    assert lines[-3:-1] == ["=============== Final Test Accuracy ===============", f"test acc:{trainer.final_test_acc}"]
    assert lines[-1] == "Saved Network Parameters!"
    assert zipfile.is_zipfile(tmp_path / "params.pkl")  # ferronet writes .npz, whatever the name
    assert trainer.final_test_acc > 0.5
    if book_plt is not None:
        x = np.arange(len(trainer.train_acc_list))
        book_plt.plot(x, trainer.train_acc_list, marker="o", label="train", markevery=2)
        book_plt.plot(x, trainer.test_acc_list, marker="s", label="test", markevery=2)
        book_plt.ylim(0, 1.0)
        book_plt.legend(loc="lower right")
        book_plt.show()


@pytest.fixture(params=["ferronet-npz", "book-pickle"])
def params_pkl(request, book_mnist, tmp_path, monkeypatch, capsys):
    """A trained SimpleConvNet's ``params.pkl`` in the working directory, in either format."""
    monkeypatch.chdir(tmp_path)
    np.random.seed(0)
    network, _, _ = train_convnet(capsys)
    if request.param == "book-pickle":
        with open("params.pkl", "wb") as f:  # the book's SimpleConvNet.save_params
            pickle.dump({key: val for key, val in network.params.items()}, f)
    return network


def filter_show(plt, filters, nx=8):
    FN, C, FH, FW = filters.shape
    ny = int(np.ceil(FN / nx))
    fig = plt.figure()
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1, hspace=0.05, wspace=0.05)
    for i in range(FN):
        ax = fig.add_subplot(ny, nx, i + 1, xticks=[], yticks=[])
        ax.imshow(filters[i, 0], cmap=plt.cm.gray_r, interpolation="nearest")
    plt.show()


def test_visualize_filter(params_pkl, book_plt):
    network = SimpleConvNet()
    initial = network.params["W1"].copy()
    if book_plt is not None:
        filter_show(book_plt, network.params["W1"])
    network.load_params("params.pkl")
    np.testing.assert_array_equal(network.params["W1"], params_pkl.params["W1"])
    assert not np.array_equal(network.params["W1"], initial)
    assert network.layers["Conv1"].W is network.params["W1"]  # the layer sees the loaded weights
    if book_plt is not None:
        filter_show(book_plt, network.params["W1"])


def test_apply_filter(params_pkl, tmp_path, book_plt):
    network = SimpleConvNet(input_dim=(1, 28, 28),
                            conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                            hidden_size=100, output_size=10, weight_init_std=0.01)
    network.load_params("params.pkl")
    gen = np.random.default_rng(0)
    img = gen.random((32, 40), dtype=np.float32)  # the book reads lena_gray.png: imread gives float32
    if book_plt is not None:
        from matplotlib.image import imread
        book_plt.imsave(tmp_path / "gray.png", img, cmap="gray")
        img = imread(tmp_path / "gray.png")[:, :, 0]
    img = img.reshape(1, 1, *img.shape)
    for i in range(16):
        w = network.params["W1"][i]
        b = 0  # network.params['b1'][i]
        w = w.reshape(1, *w.shape)
        conv_layer = Convolution(w, b)
        out = conv_layer.forward(img)
        out = out.reshape(out.shape[2], out.shape[3])
        expected = np.array([[np.sum(img[0, 0, r:r + 5, c:c + 5] * w[0, 0]) for c in range(img.shape[3] - 4)]
                             for r in range(img.shape[2] - 4)])
        np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-9)
