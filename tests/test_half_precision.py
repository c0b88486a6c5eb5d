"""Float16 networks (chapter 8's half_float_network.py): float16 storage, float32 arithmetic,
float16 between layers; inference only."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet.datasets import fashion_mnist_available, load_fashion_mnist
from ferronet.layers import Affine, Pooling, Relu
from ferronet.networks import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet
from ferronet.trainer import Trainer


def to_float16(network):
    """The conversion as the brief states it: each params entry replaced by a float16 array."""
    for key in network.params:
        network.params[key] = network.params[key].astype(np.float16)


@pytest.mark.skipif(not fashion_mnist_available(), reason="Fashion-MNIST is not installed")
def test_float16_keeps_the_accuracy_of_a_trained_network_on_fashion_mnist():
    (x, t), (x_test, t_test) = load_fashion_mnist()
    net = MultiLayerNet(784, [100], 10, dtype=np.float32, seed=0)
    Trainer(net, x, t, x_test, t_test, epochs=1, optimizer="Adam", optimizer_param={"lr": 0.001},
            seed=0, verbose=False).train()
    acc32 = net.accuracy(x_test, t_test)
    assert acc32 > 0.8
    to_float16(net)
    assert all(p.dtype == np.float16 for p in net.params.values())
    acc16 = net.accuracy(x_test.astype(np.float16), t_test)
    assert abs(acc16 - acc32) <= 0.005, (acc32, acc16)


@pytest.mark.parametrize("make, shape", [
    (lambda: SimpleConvNet(input_dim=(1, 12, 12), conv_param={"filter_num": 4, "filter_size": 3},
                           hidden_size=8, output_size=5, weight_init_std="he", seed=0), (1, 12, 12)),
    (lambda: DeepConvNet(input_dim=(1, 8, 8), hidden_size=8, output_size=5, seed=0), (1, 8, 8)),
    (lambda: MultiLayerNetExtend(12, [10, 10], 5, use_batchnorm=True, use_dropout=True, seed=0), (12,)),
], ids=["SimpleConvNet", "DeepConvNet", "MultiLayerNetExtend"])
def test_every_layer_runs_on_float16_parameters(backend, make, shape):
    net = make()
    x = np.random.default_rng(1).random((6, *shape))
    reference = net.predict(x)  # float64
    to_float16(net)
    scores = net.predict(x.astype(np.float16))
    assert scores.dtype == np.float16 and scores.shape == reference.shape
    np.testing.assert_allclose(scores.astype(np.float64), reference, rtol=0.02, atol=0.02)
    for name, layer in net.layers.items():  # the stored arrays stay float16 and stay the params
        for attr in layer.params:
            assert getattr(layer, attr).dtype == np.float16, name
    assert np.isfinite(net.loss(x, np.arange(6) % 5))  # a forward pass with a loss works too


def test_between_layers_activations_are_float16_and_computed_in_float32():
    gen = np.random.default_rng(0)
    W, b = gen.standard_normal((30, 4)).astype(np.float16), gen.standard_normal(4).astype(np.float16)
    x = gen.standard_normal((5, 30)).astype(np.float16)
    out = Affine(W, b).forward(x)
    assert out.dtype == np.float16
    exact = (x.astype(np.float32) @ W.astype(np.float32) + b.astype(np.float32)).astype(np.float16)
    np.testing.assert_allclose(out.astype(np.float32), exact.astype(np.float32), rtol=2e-3)  # one float16 ulp
    assert Relu().forward(x).dtype == np.float16
    np.testing.assert_array_equal(Relu().forward(x), np.maximum(x, 0))
    img = gen.standard_normal((2, 3, 4, 4)).astype(np.float16)
    pooled = Pooling(2, 2, stride=2).forward(img)
    assert pooled.dtype == np.float16
    np.testing.assert_array_equal(pooled, img.reshape(2, 3, 2, 2, 2, 2).max(axis=(3, 5)))


def test_float16_is_inference_only():
    net = MultiLayerNet(6, [5], 3, seed=0)
    to_float16(net)
    with pytest.raises(TypeError, match="float16 runs inference only"):
        net.gradient(np.ones((2, 6)), np.array([0, 1]))
    layer = Affine(np.ones((3, 2), np.float16), np.zeros(2, np.float16))
    layer.forward(np.ones((1, 3)))
    with pytest.raises(TypeError, match="inference only"):
        layer.backward(np.ones((1, 2)))


def test_the_books_in_place_rounding_runs_in_float64():
    # ch08/half_float_network.py: param[...] = param.astype(np.float16) keeps float64 arrays
    net = SimpleConvNet(input_dim=(1, 10, 10), conv_param={"filter_num": 3, "filter_size": 3}, hidden_size=6,
                        output_size=4, seed=0)
    x = np.random.default_rng(0).random((4, 1, 10, 10))
    before = net.predict(x)
    for param in net.params.values():
        param[...] = param.astype(np.float16)
    after = net.predict(x.astype(np.float16))
    assert after.dtype == np.float64
    np.testing.assert_allclose(after, before, rtol=0.01, atol=1e-3)


def test_batchnorm_statistics_in_float16():
    net = MultiLayerNetExtend(6, [5], 3, use_batchnorm=True, seed=0)
    to_float16(net)  # gamma and beta become float16; the running statistics stay float64
    bn = net.layers["BatchNorm1"]
    x = np.random.default_rng(0).random((8, 6)) + 3.0
    net.predict(x)  # eval mode reads the statistics and leaves them alone
    np.testing.assert_array_equal(bn.running_mean, 0)
    net.predict(x, train_flg=True)  # train mode writes its update back into the stored arrays
    assert bn.running_mean.dtype == np.float64 and np.all(bn.running_mean != 0)


def test_a_float16_network_saves_and_loads(tmp_path):
    net = MultiLayerNet(6, [5], 3, seed=0)
    to_float16(net)
    path = net.save_params(tmp_path / "half")
    other = MultiLayerNet(6, [5], 3, dtype=np.float32, seed=1)
    other.load_params(path)
    for k in net.params:
        np.testing.assert_array_equal(other.params[k], net.params[k].astype(np.float32))
