"""SimpleConvNet, DeepConvNet, MultiLayerNetExtend and the shared LayerNetwork
machinery they use: predict in batches, accuracy, save_params / load_params."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from ferronet.gradient import gradient_check
from ferronet.layers import Affine, BatchNormalization, Convolution, Dropout, Pooling, Relu
from ferronet.networks import DeepConvNet, MultiLayerNetExtend, SimpleConvNet

TOL = 1e-6

TINY_CONV = {"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1}


def tiny_simple(dtype=np.float64, seed=0, hidden_size=6):
    """SimpleConvNet on (2, 7, 7) images: conv 3x3 pad 1 -> 7x7, pool -> 3x3 (odd sizes)."""
    return SimpleConvNet(input_dim=(2, 7, 7), conv_param=TINY_CONV, hidden_size=hidden_size, output_size=3,
                         weight_init_std="he", dtype=dtype, seed=seed)


def tiny_deep(dtype=np.float64, seed=0):
    """DeepConvNet on (1, 8, 8) images with 2 filters per convolution (the book's pads and pools)."""
    pads = (1, 1, 1, 2, 1, 1)
    params = {f"conv_param_{i + 1}": {"filter_num": 2, "filter_size": 3, "pad": p, "stride": 1}
              for i, p in enumerate(pads)}
    return DeepConvNet(input_dim=(1, 8, 8), **params, hidden_size=5, output_size=3, dtype=dtype, seed=seed)


def tiny_extend(dtype=np.float64, seed=0, **kwargs):
    options = {"use_batchnorm": True, "use_dropout": True, **kwargs}
    return MultiLayerNetExtend(6, [5, 4], 3, dtype=dtype, seed=seed, **options)


def images(rng, n, shape):
    return rng.standard_normal((n, *shape)), rng.integers(0, 3, size=n)


class FixedMaskDropout(Dropout):
    """Dropout whose mask is the same on every call (its generator is reseeded), for gradient checks."""

    def __init__(self, dropout_ratio, seed):
        super().__init__(dropout_ratio)
        self.fixed_seed = seed

    def forward(self, x, train_flg=True, keep_state=True):
        self.rng = np.random.default_rng(self.fixed_seed)
        return super().forward(x, train_flg=train_flg, keep_state=keep_state)


def fix_dropout_masks(net):
    for i, (name, layer) in enumerate(net.layers.items()):
        if isinstance(layer, Dropout):
            net.layers[name] = FixedMaskDropout(layer.dropout_ratio, seed=i)


def assert_no_relu_kink(net, x, margin=1e-3):
    """The inputs of every ReLU lie farther than ``margin`` from 0 (else h = 1e-4 may straddle the kink)."""
    h = x
    for name, layer in net.layers.items():
        if isinstance(layer, Relu):
            assert np.min(np.abs(h)) > margin, f"the seed puts an input of {name} on the ReLU kink"
        h = layer.forward(h, train_flg=True) if isinstance(layer, (Dropout, BatchNormalization)) else layer.forward(h)


def shift_biases(net, rng):
    """Biases in [0.05, 0.2]: a window of ReLU zeros then sums to a pre-activation off the kink, not exactly 0."""
    for name, value in net.params.items():
        if name.startswith("b") and not name.startswith("beta"):
            value[...] = rng.uniform(0.05, 0.2, size=value.shape)


def assert_gradients_match(net, x, t, zero=()):
    """Backpropagation agrees with central differences; ``zero`` names parameters whose gradient is exactly 0."""
    report = gradient_check(net, x, t)
    assert set(report) == set(net.params)
    worst = max(rel for name, (_, rel) in report.items() if name not in zero)
    assert worst < TOL, report
    for name in zero:
        assert report[name][0] < 1e-12, report


# ---------------------------------------------------------------- structure


def test_simple_conv_net_book_structure():
    net = SimpleConvNet(input_dim=(1, 28, 28), conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                        hidden_size=100, output_size=10, weight_init_std=0.01, seed=0)
    assert list(net.layers) == ["Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"]
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (30, 1, 5, 5), "b1": (30,), "W2": (30 * 12 * 12, 100), "b2": (100,),
                      "W3": (100, 10), "b3": (10,)}
    assert np.std(net.params["W2"]) == pytest.approx(0.01, rel=0.02)
    assert net.layers["Conv1"].W is net.params["W1"] and net.layers["Conv1"].input_grad is False
    pool = net.layers["Pool1"]
    assert (pool.pool_h, pool.pool_w, pool.stride, pool.pad, pool.mode) == (2, 2, 2, 0, "max")


def test_simple_conv_net_sizes_odd_and_non_square_inputs(backend, rng):
    net = SimpleConvNet(input_dim=(3, 9, 12), conv_param={"filter_size": 3, "filter_num": 4}, hidden_size=5, seed=0)
    assert net.params["W1"].shape == (4, 3, 3, 3)
    assert net.params["W2"].shape == (4 * 3 * 5, 5)  # conv 7x10 -> pool 3x5 (the book would say 3.5 x 3.5)
    assert net.predict(rng.standard_normal((2, 3, 9, 12))).shape == (2, 10)
    with pytest.raises(ValueError, match="conv_param"):
        SimpleConvNet(conv_param={"filters": 3})
    with pytest.raises(ValueError):
        SimpleConvNet(input_dim=(1, 4, 4))  # a 5x5 filter does not fit


def test_deep_conv_net_book_structure():
    net = DeepConvNet(seed=0)
    assert list(net.layers.keys()) == [
        "Conv1", "Relu1", "Conv2", "Relu2", "Pool1",
        "Conv3", "Relu3", "Conv4", "Relu4", "Pool2",
        "Conv5", "Relu5", "Conv6", "Relu6", "Pool3",
        "Affine1", "Relu7", "Dropout1", "Affine2", "Dropout2"]
    filters = [16, 16, 32, 32, 64, 64]
    channels = [1, *filters[:-1]]
    for i, (fn, c) in enumerate(zip(filters, channels), start=1):
        assert net.params[f"W{i}"].shape == (fn, c, 3, 3)
        assert net.params[f"b{i}"].shape == (fn,)
    assert [net.layers[f"Conv{i}"].pad for i in range(1, 7)] == [1, 1, 1, 2, 1, 1]
    assert net.params["W7"].shape == (64 * 4 * 4, 50) and net.params["W8"].shape == (50, 10)
    assert all(net.layers[f"Dropout{i}"].dropout_ratio == 0.5 for i in (1, 2))
    # He: std sqrt(2 / fan_in), fan_in the book's pre_node_nums
    for name, fan_in in [("W4", 32 * 9), ("W5", 32 * 9), ("W6", 64 * 9), ("W7", 64 * 4 * 4)]:
        assert np.std(net.params[name]) == pytest.approx(np.sqrt(2 / fan_in), rel=0.05), name


def test_multi_layer_net_extend_book_structure_and_argument_names():
    net = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100], output_size=10, activation="relu",
                              weight_init_std="relu", weight_decay_lambda=0.1, use_dropout=True,
                              dropout_ration=0.3, use_batchnorm=True)
    assert list(net.layers) == ["Affine1", "BatchNorm1", "Activation_function1", "Dropout1",
                                "Affine2", "BatchNorm2", "Activation_function2", "Dropout2", "Affine3"]
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3", "gamma1", "beta1", "gamma2", "beta2"]
    assert net.layers["BatchNorm2"].gamma is net.params["gamma2"]
    np.testing.assert_array_equal(net.params["gamma1"], 1)
    np.testing.assert_array_equal(net.params["beta1"], 0)
    assert net.layers["Dropout1"].dropout_ratio == 0.3
    assert MultiLayerNetExtend(4, [3], 2, use_dropout=True, dropout_ratio=0.2).layers["Dropout1"].dropout_ratio == 0.2
    with pytest.raises(ValueError, match="disagree"):
        MultiLayerNetExtend(4, [3], 2, use_dropout=True, dropout_ration=0.3, dropout_ratio=0.2)
    plain = MultiLayerNetExtend(4, [3, 3], 2)
    assert list(plain.layers) == ["Affine1", "Activation_function1", "Affine2", "Activation_function2", "Affine3"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make, shape", [
    (tiny_simple, (2, 7, 7)), (tiny_deep, (1, 8, 8)), (tiny_extend, (6,)),
])
def test_params_activations_and_gradients_keep_the_dtype(backend, rng, dtype, make, shape):
    net = make(dtype)
    for p in net.params.values():
        assert p.dtype == dtype and p.flags.c_contiguous
    x, t = images(rng, 4, shape)
    x32 = x.astype(np.float32)  # float32 data into either dtype
    assert net.predict(x32).dtype == dtype and net.predict(x32).shape == (4, 3)
    loss, grads = net.loss_and_gradient(x32, t)
    assert np.isfinite(loss)
    for k, g in grads.items():
        assert g.dtype == dtype and g.shape == net.params[k].shape, k
    for value in net.persistent_state().values():
        assert value.dtype == dtype


# ---------------------------------------------------------------- gradient checks


def layer_by_layer(net, x, t):
    """Loss and gradients with every layer run in the order it was added (no reordering)."""
    for layer in net.layers.values():
        x = layer.forward(x, train_flg=True)
    loss = net.last_layer.forward(x, t)
    dout = net.last_layer.backward(1)
    for layer in reversed(net.layers.values()):
        dout = layer.backward(dout)
    grads = {name: layer.gradients() for name, layer in net.layers.items() if layer.params}
    return loss, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make, shape", [(tiny_simple, (2, 7, 7)), (tiny_deep, (1, 8, 8))])
def test_relu_before_max_pooling_runs_after_it_with_the_same_results(backend, rng, dtype, make, shape):
    # the network runs Pool before the ReLU in front of it (4x fewer elements for the ReLU):
    # loss and gradients must be those of the declared order, bit for bit, ties and all-negative
    # windows included (the inputs are rounded to a coarse grid, half of them negative)
    net = make(dtype=dtype, seed=3)
    if make is tiny_deep:
        for name, layer in list(net.layers.items()):
            if isinstance(layer, Dropout):
                net.layers[name] = FixedMaskDropout(layer.dropout_ratio, seed=1)
    x = np.round(rng.standard_normal((4, *shape)) * 2).astype(dtype)
    t = rng.integers(0, 3, size=4)
    swapped = [type(layer).__name__ for layer in net._run_order()]
    assert "PoolingRelu" in "".join(swapped) and "ReluPooling" not in "".join(swapped)
    loss, grads = net.loss_and_gradient(x, t)
    grads = {name: g.copy() for name, g in grads.items()}  # the layers may reuse their arrays
    want_loss, want = layer_by_layer(net, x, t)
    assert loss == want_loss
    for name, (layer_name, attr) in net._bindings.items():
        np.testing.assert_array_equal(grads[name], want[layer_name][attr], err_msg=name)
    scores = x
    for layer in net.layers.values():
        scores = layer.forward(scores, train_flg=False, keep_state=False)
    np.testing.assert_array_equal(net.predict(x), scores)


def test_simple_conv_net_gradient_check(backend, rng):
    net = tiny_simple(seed=0)  # a seed whose pre-activations stay clear of the ReLU kink
    shift_biases(net, rng)
    x, t = images(rng, 3, (2, 7, 7))
    assert_no_relu_kink(net, x)
    assert_gradients_match(net, x, t)


def test_deep_conv_net_gradient_check(backend, rng):
    net = tiny_deep(seed=8)  # a seed whose pre-activations stay clear of the ReLU kink
    shift_biases(net, rng)
    fix_dropout_masks(net)
    x, t = images(rng, 3, (1, 8, 8))
    assert_no_relu_kink(net, x)
    assert_gradients_match(net, x, t)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_multi_layer_net_extend_gradient_check(backend, rng, activation):
    net = tiny_extend(activation=activation, weight_init_std=activation, weight_decay_lambda=0.1, seed=3)
    fix_dropout_masks(net)
    x, t = images(rng, 5, (6,))
    assert_no_relu_kink(net, x)
    assert_gradients_match(net, x, t, zero=("b1", "b2"))  # batch norm subtracts the bias again


# ---------------------------------------------------------------- predict and accuracy


def backward_state(net):
    """``{(layer name, attribute): object}`` for every attribute of every layer (parameters included)."""
    return {(name, k): v for name, layer in net.layers.items() for k, v in vars(layer).items()}


def changed(net, before):
    return sorted(key for key, v in backward_state(net).items() if key not in before or before[key] is not v)


@pytest.mark.parametrize("make, shape", [(tiny_simple, (2, 7, 7)), (tiny_deep, (1, 8, 8)), (tiny_extend, (6,))])
def test_predict_in_batches_equals_one_shot_and_keeps_no_state(backend, rng, make, shape):
    net = make()
    x, t = images(rng, 23, shape)
    net.loss_and_gradient(x[:4], t[:4])  # some training: running statistics move away from 0 and 1
    before = backward_state(net)
    whole = net.predict(x, batch_size=None)
    assert whole.shape == (23, 3)
    np.testing.assert_allclose(net.predict(x, batch_size=5), whole, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net.predict(x), whole, rtol=1e-12, atol=1e-14)
    assert changed(net, before) == []  # no layer kept anything of the inference passes


def test_predict_rejects_a_batch_size_below_1(rng):
    with pytest.raises(ValueError, match="batch_size"):
        tiny_extend().predict(images(rng, 3, (6,))[0], batch_size=0)


def test_predict_before_any_training_leaves_the_layers_empty(backend, rng):
    net = tiny_deep()
    fresh = backward_state(net)
    net.predict(images(rng, 7, (1, 8, 8))[0], batch_size=3)
    assert changed(net, fresh) == []
    assert all(getattr(layer, "x", None) is None for layer in net.layers.values())


def test_predict_train_mode_uses_batch_statistics_of_the_whole_input(backend, rng):
    net = tiny_extend(use_dropout=False)
    x, _ = images(rng, 10, (6,))
    train_scores = net.predict(x, train_flg=True, batch_size=3)  # one batch, whatever batch_size says
    fresh = tiny_extend(use_dropout=False)
    np.testing.assert_allclose(train_scores, fresh.predict(x, train_flg=True, batch_size=None), rtol=1e-12)
    assert not np.allclose(train_scores, fresh.predict(x))  # eval mode uses the running statistics


def test_accuracy_counts_the_last_partial_batch(backend, rng):
    net = tiny_simple()
    x, _ = images(rng, 23, (2, 7, 7))
    predicted = np.argmax(net.predict(x, batch_size=None), axis=1)
    t = (predicted + 1) % 3  # every sample wrong ...
    t[-3:] = predicted[-3:]  # ... but the three of the last partial batch of 10
    assert net.accuracy(x, t) == pytest.approx(3 / 23)  # default batch_size=100
    assert net.accuracy(x, t, batch_size=10) == pytest.approx(3 / 23)
    assert net.accuracy(x, np.eye(3)[t], batch_size=10) == pytest.approx(3 / 23)  # one-hot targets


# ---------------------------------------------------------------- save_params / load_params


def trained_extend(rng, seed=0):
    net = tiny_extend(seed=seed)
    x, t = images(rng, 8, (6,))
    for _ in range(3):
        _, grads = net.loss_and_gradient(x, t)
        for k in net.params:
            net.params[k] -= 0.1 * grads[k]
    return net, x


def test_save_load_roundtrip_with_batchnorm_running_statistics(backend, rng, tmp_path):
    net, x = trained_extend(rng)
    assert not np.allclose(net.layers["BatchNorm1"].running_mean, 0)
    path = net.save_params(tmp_path / "extend.npz")
    assert path == tmp_path / "extend.npz"

    other = tiny_extend(seed=9)
    arrays = {**other.params, **other.persistent_state()}
    other.load_params(path)
    for name, value in {**net.params, **net.persistent_state()}.items():
        np.testing.assert_array_equal(arrays[name], value)
    for name, value in {**other.params, **other.persistent_state()}.items():
        assert value is arrays[name], f"{name} was replaced, not updated in place"
    assert other.layers["BatchNorm1"].running_var is arrays["BatchNorm1.running_var"]
    np.testing.assert_array_equal(other.predict(x), net.predict(x))


@pytest.mark.parametrize("make", [tiny_simple, tiny_deep])
def test_save_load_roundtrip_conv_nets(backend, rng, tmp_path, make):
    net, other = make(seed=0), make(seed=1)
    net.save_params(tmp_path / "p.npz")
    other.load_params(tmp_path / "p.npz")
    for name in net.params:
        np.testing.assert_array_equal(other.params[name], net.params[name])
    assert other.layers["Conv1"].W is other.params["W1"]


def test_saved_file_is_a_plain_npz_without_pickle(tmp_path, rng):
    net, _ = trained_extend(rng)
    path = net.save_params(tmp_path / "params.npz")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    expected = {*net.params, "BatchNorm1.running_mean", "BatchNorm1.running_var",
                "BatchNorm2.running_mean", "BatchNorm2.running_var"}
    assert sorted(names) == sorted([*(f"{k}.npy" for k in expected), "ferronet.json"])  # + the JSON description
    with np.load(path, allow_pickle=False) as saved:  # every array reads without pickle
        for k in expected:
            assert saved[k].dtype == np.float64


def test_book_file_names_are_kept_and_hold_npz(tmp_path):
    net = tiny_simple()
    written = net.save_params(tmp_path / "params.pkl")  # the book's name, kept as it is
    assert written == tmp_path / "params.pkl" and zipfile.is_zipfile(written)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.pkl"]
    other = tiny_simple(seed=5)
    other.load_params(str(tmp_path / "params.pkl"))
    for name in net.params:
        np.testing.assert_array_equal(other.params[name], net.params[name])


def test_load_converts_to_the_network_dtype(tmp_path):
    net64 = tiny_simple(seed=0)
    net64.save_params(tmp_path / "p64")
    net32 = tiny_simple(np.float32, seed=1)
    W1 = net32.params["W1"]
    net32.load_params(tmp_path / "p64")
    assert net32.params["W1"] is W1 and W1.dtype == np.float32
    np.testing.assert_array_equal(W1, net64.params["W1"].astype(np.float32))


def test_load_rejects_mismatched_shapes_and_changes_nothing(tmp_path):
    tiny_simple(hidden_size=6).save_params(tmp_path / "h6")
    net = tiny_simple(hidden_size=7, seed=3)
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(ValueError, match=r"'W2'.*\(27, 6\).*\(27, 7\)"):
        net.load_params(tmp_path / "h6")
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k])  # W1 fits, but was not loaded either


def test_load_rejects_missing_and_unexpected_arrays(tmp_path):
    tiny_extend(use_batchnorm=True).save_params(tmp_path / "bn")
    tiny_extend(use_batchnorm=False).save_params(tmp_path / "plain")
    with pytest.raises(ValueError, match="unexpected.*gamma1"):
        tiny_extend(use_batchnorm=False).load_params(tmp_path / "bn")
    with pytest.raises(ValueError, match="missing.*gamma1"):
        tiny_extend(use_batchnorm=True).load_params(tmp_path / "plain")


def test_load_refuses_pickled_objects(tmp_path):
    net = tiny_simple()
    arrays = dict(net.params)
    arrays["W1"] = np.array([object()], dtype=object)  # np.savez pickles object arrays
    np.savez(tmp_path / "evil.npz", **arrays)
    with pytest.raises(ValueError, match="pickle"):
        net.load_params(tmp_path / "evil.npz")


# ---------------------------------------------------------------- layers in use


def test_networks_use_the_new_layers():
    simple = tiny_simple()
    assert isinstance(simple.layers["Conv1"], Convolution) and isinstance(simple.layers["Pool1"], Pooling)
    assert isinstance(simple.layers["Affine1"], Affine)
    deep = tiny_deep()
    assert all(not layer.input_grad for layer in list(deep.layers.values())[:1])
    assert all(layer.input_grad for layer in list(deep.layers.values())[1:] if hasattr(layer, "input_grad"))
