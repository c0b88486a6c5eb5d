"""Every network with every activation (``activation=``), on every backend:
it builds (PReLU's slopes become parameters), a few Adam steps lower the
loss, and backpropagation agrees with central differences in float64.
Tiny sizes keep the gradient checks fast."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet import ops
from ferronet.gradient import gradient_check
from ferronet.layers import ACTIVATIONS, Pooling, PReLU, Relu, Sigmoid
from ferronet.layers.activations import Activation
from ferronet.networks import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, TwoLayerNet
from ferronet.optimizers import Adam

TOL = 1e-6
NAMES = sorted(ACTIVATIONS)
#: where each activation's derivative jumps (ELU's second derivative does: the central difference
#: is off by O(h) within h of 0); inputs of the activations must stay clear of these
KINKS = {"relu": (0.0,), "leaky_relu": (0.0,), "prelu": (0.0,), "rrelu": (0.0,), "relu6": (0.0, 6.0), "elu": (0.0,)}
MARGIN = 1e-3


def tiny_deep(activation, seed, dtype=np.float64):
    """DeepConvNet on (1, 6, 6) images, 2 filters per convolution (the book's pads and pools)."""
    pads = (1, 1, 1, 2, 1, 1)
    params = {f"conv_param_{i + 1}": {"filter_num": 2, "filter_size": 3, "pad": p, "stride": 1}
              for i, p in enumerate(pads)}
    return DeepConvNet(input_dim=(1, 6, 6), **params, hidden_size=4, output_size=3, dtype=dtype, seed=seed,
                       activation=activation)


#: name -> (builder(activation, seed), input shape of one sample, parameters whose gradient is exactly 0)
NETWORKS = {
    "TwoLayerNet": (lambda a, s: TwoLayerNet(5, 4, 3, weight_init_std=0.8, seed=s, activation=a), (5,), ()),
    "MultiLayerNet": (lambda a, s: MultiLayerNet(5, [4, 3], 3, activation=a, weight_init_std=0.8,
                                                 weight_decay_lambda=0.05, seed=s), (5,), ()),
    "MultiLayerNetExtend": (lambda a, s: MultiLayerNetExtend(5, [4, 3], 3, activation=a, weight_init_std=0.8,
                                                             use_batchnorm=True, use_dropout=True, seed=s),
                            (5,), ("b1", "b2")),  # batch norm subtracts the bias again
    "SimpleConvNet": (lambda a, s: SimpleConvNet(input_dim=(1, 5, 5), hidden_size=4, output_size=3,
                                                 conv_param={"filter_num": 2, "filter_size": 3, "pad": 1},
                                                 weight_init_std=0.5, seed=s, activation=a), (1, 5, 5), ()),
    "DeepConvNet": (tiny_deep, (1, 6, 6), ()),
}


def data(rng, shape, n=4):
    return rng.standard_normal((n, *shape)), rng.integers(0, 3, size=n)


def fix_randomness(net):
    """Dropout masks and RReLU slopes the same on every pass: each such layer's generator is reseeded
    before its forward (what a central difference needs)."""
    for i, layer in enumerate(net.layers.values()):
        if hasattr(layer, "rng"):
            def forward(x, train_flg=True, keep_state=True, layer=layer, original=layer.forward, seed=i):
                layer.rng = np.random.default_rng(seed)
                return original(x, train_flg=train_flg, keep_state=keep_state)
            layer.forward = forward


def max_pool_near_tie(layer, h) -> bool:
    """Whether a max-pooling window of ``h`` has its two largest values within MARGIN (a perturbation
    could move the maximum), leaving out windows of exact zeros (ReLU's, which stay zeros)."""
    windows = ops.im2col(h, layer.pool_h, layer.pool_w, layer.stride, layer.pad)  # (N*oh*ow, C*ph*pw)
    windows = np.sort(windows.reshape(len(windows), h.shape[1], -1), axis=-1)  # (N*oh*ow, C, ph*pw)
    first, second = windows[..., -1], windows[..., -2]
    return bool(np.any((first - second <= MARGIN) & ~((first == 0) & (second == 0))))


def clear_of_kinks(net, x, activation):
    """True when every activation's input lies farther than MARGIN from its kinks, and no max pooling
    window holds a near tie (one train-mode pass)."""
    kinks = KINKS.get(activation, ())
    h = x
    for layer in net.layers.values():
        if isinstance(layer, Activation) and any(np.min(np.abs(h - k)) <= MARGIN for k in kinks):
            return False
        if isinstance(layer, Pooling) and layer.mode == "max" and max_pool_near_tie(layer, h):
            return False
        h = layer.forward(h, train_flg=True)
    return True


def checkable(network, activation, rng):
    """A seeded network, its biases shifted off 0 (a window of zeros then sums to a value off the kink),
    and data whose activations stay clear of the kinks."""
    make, shape, _ = NETWORKS[network]
    for seed in range(50):
        net = make(activation, seed)
        fix_randomness(net)
        for name, value in net.params.items():
            if name.startswith("b") and not name.startswith("beta"):
                value[...] = np.random.default_rng(seed).uniform(0.05, 0.2, size=value.shape)
        x, t = data(rng, shape)
        if clear_of_kinks(net, x, activation):
            return net, x, t
    raise AssertionError(f"no seed keeps {network} with {activation} clear of the kinks")


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_gradient_check_float64(backend, rng, network, activation):
    net, x, t = checkable(network, activation, rng)
    report = gradient_check(net, x, t)
    zero = NETWORKS[network][2]
    assert set(report) == set(net.params)
    worst = max(rel for name, (_, rel) in report.items() if name not in zero)
    assert worst < TOL, report
    for name in zero:
        assert report[name][0] < 1e-10, report  # the central difference of a constant: rounding noise


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_a_few_steps_lower_the_loss(backend, rng, network, activation):
    make, shape, _ = NETWORKS[network]
    net = make(activation, 0)
    x, t = data(rng, shape, n=8)
    before = net.loss(x, t)  # inference mode: no dropout, RReLU at its mean slope
    alphas = {k: v.copy() for k, v in net.params.items() if k.startswith("alpha")}
    optimizer = Adam(lr=0.01)
    for _ in range(10):
        optimizer.update(net.params, net.gradient(x, t))
    after = net.loss(x, t)
    assert np.isfinite(after) and after < before, (before, after)
    for k, v in alphas.items():  # PReLU's slopes are trained like any parameter
        assert not np.array_equal(net.params[k], v), k


# ---------------------------------------------------------------- structure


def prelu_layers(net):
    return {name: layer for name, layer in net.layers.items() if isinstance(layer, PReLU)}


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_prelu_slopes_are_parameters_bound_to_their_layers(network):
    make, shape, _ = NETWORKS[network]
    net = make("prelu", 0)
    layers = prelu_layers(net)
    alphas = [k for k in net.params if k.startswith("alpha")]
    assert len(alphas) == len(layers) > 0
    for i, layer in enumerate(layers.values(), start=1):
        assert layer.alpha is net.params[f"alpha{i}"]
        np.testing.assert_array_equal(layer.alpha, 0.25)
    assert not set(alphas) & set(net.regularized)  # no weight decay on the slopes
    replacement = np.full_like(net.params["alpha1"], 0.5)
    net.params["alpha1"] = replacement  # the book's assignment rebinds the layer
    assert next(iter(layers.values())).alpha is replacement


def test_prelu_widths_follow_the_layers():
    simple = NETWORKS["SimpleConvNet"][0]("prelu", 0)
    assert simple.params["alpha1"].shape == (2,) and simple.params["alpha2"].shape == (4,)  # channels, units
    deep = tiny_deep("prelu", 0)
    assert [deep.params[f"alpha{i}"].shape for i in range(1, 8)] == [(2,)] * 6 + [(4,)]
    mlp = MultiLayerNet(5, [4, 3], 2, activation="prelu")
    assert mlp.params["alpha1"].shape == (4,) and mlp.params["alpha2"].shape == (3,)


def test_layer_names_and_defaults():
    two = TwoLayerNet(4, 3, 2, seed=0)
    assert list(two.layers) == ["Affine1", "Relu1", "Affine2"]  # the default is unchanged: ch05's ReLU
    assert isinstance(TwoLayerNet(4, 3, 2, activation="sigmoid").layers["Sigmoid1"], Sigmoid)  # ch04's form
    np.testing.assert_array_equal(TwoLayerNet(4, 3, 2, seed=0, activation="tanh").params["W2"], two.params["W2"])
    assert list(SimpleConvNet(activation="gelu", seed=0).layers) == ["Conv1", "GELU1", "Pool1", "Affine1", "GELU2",
                                                                      "Affine2"]
    deep = DeepConvNet(seed=0)
    assert sum(isinstance(layer, Relu) for layer in deep.layers.values()) == 7 and "Relu7" in deep.layers
    assert "ELU3" in DeepConvNet(seed=0, activation="elu").layers


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_unknown_activation_names_the_valid_ones(network):
    with pytest.raises(ValueError, match=r"unknown activation 'mish'; choose one of \[.*'prelu'.*\]"):
        NETWORKS[network][0]("mish", 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_and_rrelu_networks_keep_their_dtype(backend, rng, dtype):
    for activation in ("prelu", "rrelu"):
        net = tiny_deep(activation, 0, dtype=dtype)
        x, t = data(rng, (1, 6, 6))
        loss, grads = net.loss_and_gradient(x.astype(np.float32), t)
        assert np.isfinite(loss)
        for k, g in grads.items():
            assert g.dtype == dtype and g.shape == net.params[k].shape, k


def test_save_and_load_keep_the_slopes(tmp_path, rng):
    net = NETWORKS["SimpleConvNet"][0]("prelu", 0)
    net.params["alpha2"][...] = rng.standard_normal(4)
    path = net.save_params(tmp_path / "prelu")
    other = NETWORKS["SimpleConvNet"][0]("prelu", 1)
    other.load_params(path)
    np.testing.assert_array_equal(other.params["alpha2"], net.params["alpha2"])
    assert prelu_layers(other)["PReLU2"].alpha is other.params["alpha2"]
