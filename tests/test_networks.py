"""TwoLayerNet, MultiLayerNet and their shared base (ferronet.networks)."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet import initializers as I
from ferronet.gradient import gradient_check
from ferronet.layers import Affine, Layer, Relu, Sigmoid, SoftmaxWithLoss
from ferronet.networks import LayerNetwork, MultiLayerNet, TwoLayerNet

TOL = 1e-6


def data(rng, n=6, d=5, c=3):
    return rng.standard_normal((n, d)), rng.integers(0, c, size=n)


def assert_no_relu_kink(net, x, margin=1e-3):
    """Pre-activations must sit farther than h = 1e-4 from 0, or the central difference straddles the kink."""
    net.loss(x, np.zeros(len(x), dtype=np.int64))  # a loss pass keeps each layer's input (predict keeps none)
    names = list(net.layers)
    for i, name in enumerate(names[:-1]):
        if isinstance(net.layers[names[i + 1]], Relu):
            pre = net.layers[name].x @ net.layers[name].W + net.layers[name].b
            assert np.min(np.abs(pre)) > margin, f"seed puts an input on a ReLU kink after {name}"


def assert_gradients_match(net, x, t):
    report = gradient_check(net, x, t)
    assert set(report) == set(net.params)
    worst = max(rel for _, rel in report.values())
    assert worst < TOL, report


# ---------------------------------------------------------------- gradient checks


def test_two_layer_net_gradient_check(backend, rng):
    net = TwoLayerNet(5, 7, 3, weight_init_std=0.5, seed=0)
    x, t = data(rng)
    assert_no_relu_kink(net, x)
    assert_gradients_match(net, x, t)
    assert_gradients_match(net, x, np.eye(3)[t])  # one-hot targets


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("weight_decay_lambda", [0.0, 0.1])
def test_multi_layer_net_gradient_check(backend, rng, activation, weight_decay_lambda):
    net = MultiLayerNet(5, [6, 4], 3, activation=activation, weight_init_std=activation,
                        weight_decay_lambda=weight_decay_lambda, seed=1)
    x, t = data(rng)
    assert_no_relu_kink(net, x)
    assert_gradients_match(net, x, t)


def test_weight_decay_terms(backend, rng):
    x, t = data(rng)
    lam = 0.3
    plain = MultiLayerNet(5, [4], 3, seed=2)
    decayed = MultiLayerNet(5, [4], 3, weight_decay_lambda=lam, seed=2)
    l2 = sum(float(np.sum(plain.params[k] ** 2)) for k in ("W1", "W2"))
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + 0.5 * lam * l2, rel=1e-12)
    g0, g1 = plain.gradient(x, t), decayed.gradient(x, t)
    for k in ("W1", "W2"):
        np.testing.assert_allclose(g1[k] - g0[k], lam * plain.params[k], rtol=1e-10, atol=1e-14)
    for k in ("b1", "b2"):
        np.testing.assert_array_equal(g1[k], g0[k])


# ---------------------------------------------------------------- dtypes and inputs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda dtype: TwoLayerNet(5, 4, 3, dtype=dtype, seed=0),
    lambda dtype: MultiLayerNet(5, [4, 4], 3, activation="sigmoid", weight_decay_lambda=0.01, dtype=dtype, seed=0),
])
def test_params_and_gradients_stay_in_the_network_dtype(backend, rng, dtype, make):
    net = make(dtype)
    for p in net.params.values():
        assert p.dtype == dtype and p.flags.c_contiguous
    x, t = data(rng)
    loss, grads = net.loss_and_gradient(x.astype(np.float32), t)  # float32 data into either dtype
    assert np.isfinite(loss)
    assert net.predict(x).dtype == dtype
    for k, g in grads.items():
        assert g.dtype == dtype and g.shape == net.params[k].shape


def test_float32_input_into_float64_network(backend, rng):
    net = TwoLayerNet(5, 4, 3, seed=0)
    x, t = data(rng)
    x32 = x.astype(np.float32)
    assert net.loss(x32, t) == pytest.approx(net.loss(x32.astype(np.float64), t), rel=1e-14)


@pytest.mark.parametrize("label_dtype", [np.uint8, np.int32, np.int64])
def test_labels_of_any_integer_dtype(backend, rng, label_dtype):
    net = MultiLayerNet(5, [4], 3, seed=0)
    x, t = data(rng)
    t_cast = t.astype(label_dtype)
    assert net.loss(x, t_cast) == pytest.approx(net.loss(x, t), rel=1e-14)
    assert net.accuracy(x, t_cast) == net.accuracy(x, t)
    g, g_ref = net.gradient(x, t_cast), net.gradient(x, t)
    for k in g_ref:
        np.testing.assert_allclose(g[k], g_ref[k], rtol=1e-14)


def test_accuracy_labels_onehot_and_batches(backend, rng):
    net = TwoLayerNet(5, 8, 3, weight_init_std=1.0, seed=4)
    x, t = data(rng, n=23)
    pred = np.argmax(net.predict(x), axis=1)
    expected = np.count_nonzero(pred == t) / 23
    assert net.accuracy(x, t) == pytest.approx(expected)
    assert net.accuracy(x, np.eye(3)[t]) == pytest.approx(expected)
    assert net.accuracy(x, t, batch_size=5) == pytest.approx(expected)  # 5 does not divide 23


# ---------------------------------------------------------------- structure and behaviour


def test_loss_and_gradient_runs_one_forward_pass(backend, rng):
    net = MultiLayerNet(5, [4], 3, weight_decay_lambda=0.1, seed=0)
    x, t = data(rng)
    calls = []
    first = net.layers["Affine1"]
    original = first.forward
    first.forward = lambda a, **kw: calls.append(1) or original(a, **kw)
    loss, grads = net.loss_and_gradient(x, t)
    assert len(calls) == 1
    assert loss == pytest.approx(net.loss(x, t), rel=1e-14)
    ref = net.gradient(x, t)
    for k in ref:
        np.testing.assert_array_equal(grads[k], ref[k])


def test_book_layer_names_and_activation(backend):
    net = MultiLayerNet(4, [3, 3], 2, activation="sigmoid")
    assert list(net.layers) == ["Affine1", "Activation_function1", "Affine2", "Activation_function2", "Affine3"]
    assert isinstance(net.layers["Activation_function1"], Sigmoid)
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert net.layers["Affine2"].W is net.params["W2"]
    assert isinstance(MultiLayerNet(4, [3], 2).layers["Activation_function1"], Relu)
    with pytest.raises(ValueError, match="unknown activation 'tanhh'; choose one of .*'gelu'.*'tanh'"):
        MultiLayerNet(4, [3], 2, activation="tanhh")
    with pytest.raises(TypeError):
        TwoLayerNet(4, 3, 2, dtype=np.int32)


def test_seeded_initialisation(backend):
    a = TwoLayerNet(6, 5, 3, seed=7)
    b = TwoLayerNet(6, 5, 3, seed=7)
    c = TwoLayerNet(6, 5, 3, seed=8)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.params["W1"], c.params["W1"])
    np.testing.assert_array_equal(a.params["b1"], 0)


@pytest.mark.parametrize("init, var", [("relu", 2.0), ("he", 2.0), ("sigmoid", 1.0), ("xavier", 1.0)])
def test_weight_init_std_strings(init, var):
    fan_in = 400
    net = MultiLayerNet(fan_in, [500], 2, weight_init_std=init, seed=0)
    assert np.std(net.params["W1"]) == pytest.approx(np.sqrt(var / fan_in), rel=0.02)
    assert np.std(net.params["W2"]) == pytest.approx(np.sqrt(var / 500), rel=0.1)
    std = np.std(MultiLayerNet(fan_in, [500], 2, weight_init_std=0.05, seed=0).params["W1"])
    assert std == pytest.approx(0.05, rel=0.02)


def test_replacing_a_param_array_reaches_the_layer(backend, rng):
    net = TwoLayerNet(5, 4, 3, seed=0)
    x, _ = data(rng)
    net.params["W2"] = np.zeros_like(net.params["W2"])
    net.params["b2"] = np.array([0.0, 1.0, 0.0])
    np.testing.assert_array_equal(net.predict(x), np.tile([0.0, 1.0, 0.0], (6, 1)))


def test_train_flg_reaches_layers_that_take_it(backend, rng):
    class Recorder(Layer):
        def __init__(self):
            self.flags = []

        def _forward(self, x, train_flg, keep_state):
            self.flags.append(train_flg)
            return x

        def _backward(self, dout):
            return dout

    class Net(LayerNetwork):
        def __init__(self):
            super().__init__()
            gen = np.random.default_rng(0)
            self.add_param("W1", gen.standard_normal((5, 3)))
            self.add_param("b1", np.zeros(3))
            self.add_layer("Affine1", Affine(self.params["W1"], self.params["b1"]), W="W1", b="b1")
            self.recorder = self.add_layer("Recorder", Recorder())
            self.last_layer = SoftmaxWithLoss()

    net = Net()
    x, t = data(rng)
    net.predict(x)
    net.loss(x, t)
    net.gradient(x, t)
    net.accuracy(x, t)
    assert net.recorder.flags == [False, False, True, False]
    assert_gradients_match(net, x, t)


# ---------------------------------------------------------------- initializers


def test_resolve_std_and_fans():
    assert I.resolve_std("relu", 50) == pytest.approx(np.sqrt(2 / 50))
    assert I.resolve_std("He", 50) == pytest.approx(np.sqrt(2 / 50))
    assert I.resolve_std("sigmoid", 50) == pytest.approx(np.sqrt(1 / 50))
    assert I.resolve_std("xavier", 50) == pytest.approx(np.sqrt(1 / 50))
    assert I.resolve_std(0.3, 50) == 0.3
    with pytest.raises(ValueError):
        I.resolve_std("glorot", 50)
    assert I.fans((30, 20)) == (30, 20)
    assert I.fans((16, 3, 5, 5)) == (75, 400)


@pytest.mark.parametrize("name", ["gaussian", "uniform", "xavier", "he", "lecun", "orthogonal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_named_initializers(name, dtype):
    init = I.get_initializer(name.upper())
    w = init((300, 200), np.random.default_rng(0), dtype)
    assert w.shape == (300, 200) and w.dtype == dtype and w.flags.c_contiguous
    again = init((300, 200), np.random.default_rng(0), dtype)
    np.testing.assert_array_equal(w, again)  # seeded by the generator alone
    expected_std = {
        "gaussian": 0.01,
        "uniform": 0.05 / np.sqrt(3),
        "xavier": np.sqrt(1 / 300),
        "he": np.sqrt(2 / 300),
        "lecun": np.sqrt(1 / 300),
        "orthogonal": np.sqrt(200 / (300 * 200)),  # 200 orthonormal columns of length 1
    }[name]
    assert np.std(w) == pytest.approx(expected_std, rel=0.03)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3, 3)])
def test_orthogonal_is_orthogonal(shape):
    w = I.orthogonal(shape, np.random.default_rng(1), np.float64, gain=2.0)
    m = w.reshape(shape[0], -1)
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)


def test_first_layer_skips_the_input_gradient(backend):
    """The data needs no gradient: the first Affine skips ``dout @ W.T``;
    later layers still pass gradients back."""
    net = MultiLayerNet(6, [5, 4], 3, dtype=np.float64, seed=0)
    layers = list(net.layers.values())
    assert layers[0].input_grad is False
    assert all(layer.input_grad for layer in layers[1:] if hasattr(layer, "input_grad"))
    x = np.random.default_rng(0).standard_normal((2, 6))
    net.loss_and_gradient(x, np.array([0, 2]))
    assert layers[0].backward(np.ones((2, 5))) is None


def test_assigning_a_param_rebinds_its_layer(backend, rng):
    """The book's ``net.params[key] = value`` keeps working without re-pointing layers on every forward."""
    net = MultiLayerNet(5, [4], 3, seed=0)
    x, t = data(rng)
    before = net.loss(x, t)
    replacement = np.zeros_like(net.params["W1"])
    net.params["W1"] = replacement
    assert net.layers["Affine1"].W is replacement
    net.params.update({"b1": np.ones(4)})
    assert net.layers["Affine1"].b is net.params["b1"]
    assert net.loss(x, t) != before
    assert isinstance(net.params, dict) and list(net.params) == ["W1", "b1", "W2", "b2"]


def test_layers_declare_their_parameters_and_guard_backward(backend):
    from ferronet.layers import BatchNormalization, Convolution, Dropout, Pooling
    assert Affine.params == {"W": "dW", "b": "db"} and Convolution.params == {"W": "dW", "b": "db"}
    assert BatchNormalization.params == {"gamma": "dgamma", "beta": "dbeta"}
    assert BatchNormalization.persistent == ("running_mean", "running_var")
    assert Relu.params == {} and Pooling.params == {} and Dropout.params == {}
    for layer in (Relu(), Sigmoid(), Dropout(), Pooling(2, 2), Affine(np.ones((2, 2)), np.zeros(2))):
        with pytest.raises(RuntimeError, match="backward called before forward"):
            layer.backward(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        SoftmaxWithLoss().backward()


@pytest.mark.parametrize("copy", ["pickle", "deepcopy"])
def test_networks_pickle_and_deepcopy_with_their_bindings(rng, copy):
    """A network survives pickle (joblib, multiprocessing) and deepcopy: the copy predicts the same,
    and its params are still the arrays its layers compute with."""
    import copy as copy_module
    import pickle

    from ferronet.networks import MultiLayerNetExtend, SimpleConvNet

    def duplicate(net):
        return pickle.loads(pickle.dumps(net)) if copy == "pickle" else copy_module.deepcopy(net)

    nets = [(MultiLayerNet(5, [4], 3, seed=0), rng.standard_normal((6, 5))),
            (MultiLayerNetExtend(5, [4], 3, use_batchnorm=True, seed=0), rng.standard_normal((6, 5))),
            (SimpleConvNet((1, 6, 6), {"filter_num": 2, "filter_size": 3}, 4, 3, seed=0),
             rng.standard_normal((6, 1, 6, 6)))]
    for net, x in nets:
        twin = duplicate(net)
        np.testing.assert_array_equal(twin.predict(x), net.predict(x))
        assert twin.params["W1"] is next(iter(twin.layers.values())).W  # Affine1 or Conv1
        assert twin.params["W1"] is not net.params["W1"]
        twin.params["b1"] = twin.params["b1"] + 1.0  # assigning still rebinds the copy's layer
        assert not np.array_equal(twin.predict(x), net.predict(x))
