"""The book's chapter 8 scripts on ferronet: train_deepnet.py (with its DeepConvNet),
misclassified_mnist.py, half_float_network.py (awesome_net.py is an empty exercise).

``deep_convnet_params.pkl`` is made here as the book's ``save_params`` makes
it: ``pickle.dump`` of the float64 params dict of a DeepConvNet trained (briefly)
on the synthetic MNIST of tests/book_mnist.py.
"""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest

from ferronet.datasets import load_mnist
from ferronet.networks import DeepConvNet
from ferronet.trainer import Trainer


@pytest.fixture(scope="module")
def deep_convnet_params(_synthetic_mnist_dirs, tmp_path_factory):
    """The path of a trained DeepConvNet's weights in the book's pickle format."""
    mnist_dir, data_dir = _synthetic_mnist_dirs
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FERRONET_MNIST_DIR", str(mnist_dir))
        mp.setenv("FERRONET_DATA_DIR", str(data_dir))
        mp.setenv("FERRONET_OFFLINE", "1")
        (x_train, t_train), _ = load_mnist(flatten=False)
    net = DeepConvNet(dtype=np.float32, seed=0)  # float32 to train quickly; saved as float64 like the book's
    Trainer(net, x_train, t_train, x_train[:100], t_train[:100], epochs=2, optimizer="Adam",
            optimizer_param={"lr": 0.003}, evaluate_sample_num_per_epoch=100, seed=0, verbose=False).train()
    path = tmp_path_factory.mktemp("ch08") / "deep_convnet_params.pkl"
    with open(path, "wb") as f:
        pickle.dump({key: val.astype(np.float64) for key, val in net.params.items()}, f)
    return path


def test_train_deepnet(book_mnist, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    np.random.seed(0)
    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
    network = DeepConvNet()
    trainer = Trainer(network, x_train, t_train, x_test, t_test,
                      epochs=0.34, mini_batch_size=100,  # the book: epochs=20; here 2 of 6 steps per epoch
                      optimizer="Adam", optimizer_param={"lr": 0.001},
                      evaluate_sample_num_per_epoch=1000)
    trainer.train()
    network.save_params("deep_convnet_params.pkl")
    print("Saved Network Parameters!")
    assert trainer.current_iter == 2 and len(trainer.train_loss_list) == 2
    assert capsys.readouterr().out.splitlines() == [
        "=============== Final Test Accuracy ===============", f"test acc:{trainer.final_test_acc}",
        "Saved Network Parameters!"]
    assert zipfile.is_zipfile(tmp_path / "deep_convnet_params.pkl")
    again = DeepConvNet()
    again.load_params("deep_convnet_params.pkl")
    for i, layer_idx in enumerate((0, 2, 5, 7, 10, 12, 15, 18)):  # the book's own bookkeeping of the layers
        np.testing.assert_array_equal(again.layers[layer_idx].W, network.params["W" + str(i + 1)])


def test_misclassified_mnist(book_mnist, deep_convnet_params, monkeypatch, capsys, book_plt):
    monkeypatch.chdir(deep_convnet_params.parent)
    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
    network = DeepConvNet()
    network.load_params("deep_convnet_params.pkl")
    print("calculating test accuracy ... ")
    classified_ids = []
    acc = 0.0
    batch_size = 100
    for i in range(int(x_test.shape[0] / batch_size)):
        tx = x_test[i * batch_size:(i + 1) * batch_size]
        tt = t_test[i * batch_size:(i + 1) * batch_size]
        y = network.predict(tx, train_flg=False)
        y = np.argmax(y, axis=1)
        classified_ids.append(y)
        acc += np.sum(y == tt)
    acc = acc / x_test.shape[0]
    print("test accuracy:" + str(acc))
    classified_ids = np.array(classified_ids)
    classified_ids = classified_ids.flatten()
    max_view = 20
    current_view = 1
    mis_pairs = {}
    for i, val in enumerate(classified_ids == t_test):
        if not val:
            if book_plt is not None:
                if current_view == 1:
                    fig = book_plt.figure()
                ax = fig.add_subplot(4, 5, current_view, xticks=[], yticks=[])
                ax.imshow(x_test[i].reshape(28, 28), cmap=book_plt.cm.gray_r, interpolation="nearest")
            mis_pairs[current_view] = (t_test[i], classified_ids[i])
            current_view += 1
            if current_view > max_view:
                break
    print("======= misclassified result =======")
    print(mis_pairs)
    assert acc == network.accuracy(x_test, t_test) and acc > 0.5
    wrong = int(np.sum(classified_ids != t_test))
    assert len(mis_pairs) == min(wrong, max_view)
    assert all(label != guess for label, guess in mis_pairs.values())
    assert "test accuracy:" in capsys.readouterr().out
    if book_plt is not None:
        book_plt.show()


def test_half_float_network(book_mnist, deep_convnet_params, monkeypatch, capsys):
    monkeypatch.chdir(deep_convnet_params.parent)
    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
    network = DeepConvNet()
    network.load_params("deep_convnet_params.pkl")
    sampled = 10000
    x_test = x_test[:sampled]
    t_test = t_test[:sampled]
    print("caluculate accuracy (float64) ... ")
    acc64 = network.accuracy(x_test, t_test)
    x_test = x_test.astype(np.float16)
    for param in network.params.values():
        param[...] = param.astype(np.float16)
    print("caluculate accuracy (float16) ... ")
    acc16 = network.accuracy(x_test, t_test)
    print(acc16)
    assert abs(acc16 - acc64) <= 0.01 and acc16 > 0.5
    assert capsys.readouterr().out.splitlines()[-1] == str(acc16)

    # the same with float16 arrays, as the brief's variant: params[key] = params[key].astype(np.float16)
    network = DeepConvNet()
    network.load_params("deep_convnet_params.pkl")
    for key in network.params:
        network.params[key] = network.params[key].astype(np.float16)
    assert network.predict(x_test[:3]).dtype == np.float16
    assert abs(network.accuracy(x_test, t_test) - acc64) <= 0.01
