"""Initialisers and regularisers in every network (ferronet.initializers, ferronet.regularizers):
every network x every init x every regulariser builds, trains and gradient-checks in float64;
the penalties' exact terms; the max-norm constraint; bad values."""

from __future__ import annotations

import numpy as np
import pytest

import ferronet

from ferronet import initializers as I
from ferronet import regularizers
from ferronet.gradient import numerical_gradient
from ferronet.networks import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, TwoLayerNet
from ferronet.optimizers import Adam
from ferronet.trainer import Trainer
from ferronet.layers import Pooling, Relu
from ferronet.ops import reference
from test_networks_conv import fix_dropout_masks, images, shift_biases

TINY_CONV = {"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1}
DEEP_PADS = (1, 1, 1, 2, 1, 1)

# name -> (build(seed, **options), one sample's shape, batch size); tiny sizes, so central
# differences stay cheap.  MultiLayerNetExtend uses sigmoid: after batch normalisation a
# one-weight perturbation moves every ReLU input of the batch, too far for a kink margin
# (ReLU with batch norm is gradient-checked in test_networks_conv.py), and a batch of 8 keeps
# its batch variance, and so the loss's curvature, moderate.
NETWORKS = {
    "TwoLayerNet": (lambda seed, **kw: TwoLayerNet(5, 7, 3, seed=seed, **kw), (5,), 3),
    "MultiLayerNet": (lambda seed, **kw: MultiLayerNet(5, [6, 4], 3, seed=seed, **kw), (5,), 3),
    "MultiLayerNetExtend": (lambda seed, **kw: MultiLayerNetExtend(6, [5, 4], 3, activation="sigmoid",
                                                                   use_batchnorm=True, use_dropout=True,
                                                                   seed=seed, **kw), (6,), 8),
    "SimpleConvNet": (lambda seed, **kw: SimpleConvNet(input_dim=(2, 5, 5), conv_param=TINY_CONV, hidden_size=6,
                                                       output_size=3, seed=seed, **kw), (2, 5, 5), 3),
    "DeepConvNet": (lambda seed, **kw: DeepConvNet(
        input_dim=(1, 8, 8), hidden_size=5, output_size=3, seed=seed,
        **{f"conv_param_{i + 1}": {"filter_num": 2, "filter_size": 3, "pad": p, "stride": 1}
           for i, p in enumerate(DEEP_PADS)}, **kw), (1, 8, 8), 3),
}
ALIASES = {"relu": "he", "sigmoid": "xavier"}  # the book's names for the same initializers
INITS = [*sorted(set(I.INITIALIZERS) - set(ALIASES)), 0.3]
MAIN_BACKEND = "native" if ferronet.native_available() else "numpy"
REGULARIZERS = {
    "none": {},
    "l2": {"weight_decay_lambda": 0.1},
    "l1": {"l1_lambda": 0.05},
    "max_norm": {"max_norm": 1.0},
    "all": {"weight_decay_lambda": 0.1, "l1_lambda": 0.05, "max_norm": 1.0},
}

H = 1e-4  # the book's central-difference step
L1_MARGIN = 1e-3  # weights stay this far from 0 (the L1 kink), well beyond H
TOL = 1e-6
GRADIENT_FLOOR = 1e-4
"""Gradients smaller than this are compared against it instead of their own size: a central
difference of a loss of about 1 carries rounding noise near 1e-12 (eps / h), so an array whose
gradient is 1e-12 (the first layers of a deep net initialised with std 0.01) cannot be
checked relatively; its absolute error must stay below TOL * GRADIENT_FLOOR = 1e-10."""


def loss_and_kinks(net, x, t):
    """A training-mode loss of ``x`` (penalties included) and which side of each kink the pass
    is on: every ReLU's ``input > 0`` and every max-pooling window's argmax."""
    pattern, h = [], x
    for layer in net.layers.values():
        if isinstance(layer, Relu):
            pattern.append(h > 0)
        if isinstance(layer, Pooling) and layer.mode == "max":
            cols = reference.im2col(h, layer.pool_h, layer.pool_w, layer.stride, layer.pad)  # (N*oh*ow, C*ph*pw)
            pattern.append(np.argmax(cols.reshape(len(cols), h.shape[1], -1), axis=-1))
        h = layer.forward(h, train_flg=True)
    return float(net.last_layer.forward(h, t)) + net.regularization_loss(), pattern


def prepared(net_name, init, options):
    """A float64 network with a batch of data, ready for a gradient check: biases shifted off 0,
    fixed dropout masks, weights at least L1_MARGIN from 0 (the L1 kink)."""
    build, shape, batch = NETWORKS[net_name]
    net = build(0, weight_init_std=init, **options)
    rng = np.random.default_rng(0)
    shift_biases(net, rng)
    fix_dropout_masks(net)
    for name in net.regularized:
        w = net.params[name]
        near = np.abs(w) < L1_MARGIN
        w[near] = np.copysign(L1_MARGIN, w[near])
    x, t = images(rng, batch, shape)
    return net, x, t


def richardson_gradient(net, x, t):
    """Central differences at h and h/2 combined as (4 D(h/2) - D(h)) / 3, whose truncation
    error is O(h^4) instead of O(h^2): batch normalisation after weights of std 0.01 curves
    the loss enough that the book's O(h^2) error alone reaches 1e-4 of the gradient.

    Returns None when a perturbed pass crossed a kink (a ReLU input or a max-pooling argmax
    changed side): there the loss is not differentiable and central differences say nothing.
    """
    base = loss_and_kinks(net, x, t)[1]
    crossed = []

    def loss_at(_):
        loss, pattern = loss_and_kinks(net, x, t)
        crossed.append(any(np.any(a != b) for a, b in zip(pattern, base)))
        return loss

    numeric = {name: (4 * numerical_gradient(loss_at, p, H / 2) - numerical_gradient(loss_at, p, H)) / 3
               for name, p in net.params.items()}
    return None if any(crossed) else numeric


def checked_gradients(net_name, init, options):
    """A prepared network, its data and a kink-free Richardson gradient: the first data seed
    whose perturbed passes all stay on the same side of every kink."""
    net, x, t = prepared(net_name, init, options)
    shape, batch = NETWORKS[net_name][1:]
    for seed in range(1, 30):
        numeric = richardson_gradient(net, x, t)
        if numeric is not None:
            return net, x, t, numeric
        x, t = images(np.random.default_rng(seed), batch, shape)
    raise AssertionError(f"every batch tried puts {net_name} on a kink")


def assert_gradients_match(net, x, t, numeric):
    analytic = net.gradient(x, t)
    assert set(analytic) == set(numeric) == set(net.params)
    report = {}
    for name in net.params:
        a, n = analytic[name], numeric[name]
        assert a.dtype == np.float64 and a.shape == n.shape
        scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(n))), GRADIENT_FLOOR)
        report[name] = float(np.max(np.abs(a - n))) / scale
    assert max(report.values()) < TOL, report


def unit_norms(w):
    """The Euclidean norm of each unit's incoming weights: columns of (D, M), filters of (FN, C, FH, FW)."""
    if w.ndim == 2:
        return np.linalg.norm(w, axis=0)
    return np.linalg.norm(w.reshape(len(w), -1), axis=1)


def check_network(net_name, init, options):
    """Builds with the options, gradient-checks in float64, and 10 Adam steps (constraint
    applied after each) lower the loss of a fixed batch; max-norm holds afterwards."""
    net, x, t, numeric = checked_gradients(net_name, init, options)
    assert net.weight_decay_lambda == options.get("weight_decay_lambda", 0)
    assert net.l1_lambda == options.get("l1_lambda", 0)
    assert net.max_norm == options.get("max_norm")
    assert_gradients_match(net, x, t, numeric)

    net.apply_constraints()  # start from weights that satisfy the constraint
    before = net.loss(x, t, train_flg=True)
    opt = Adam(lr=0.01)
    for _ in range(10):
        _, grads = net.loss_and_gradient(x, t)
        opt.update(net.params, grads)
        net.apply_constraints()
    assert net.loss(x, t, train_flg=True) < before
    if "max_norm" in options:
        for name in net.regularized:
            assert np.all(unit_norms(net.params[name]) <= options["max_norm"] * (1 + 1e-12)), name


@pytest.mark.parametrize("reg_name", sorted(REGULARIZERS))
@pytest.mark.parametrize("init", INITS, ids=str)
@pytest.mark.parametrize("net_name", sorted(NETWORKS))
def test_every_network_init_and_regularizer(net_name, init, reg_name):
    """The whole product, on the native backend (the NumPy one when the core is not built)."""
    with ferronet.use_backend(MAIN_BACKEND):
        check_network(net_name, init, REGULARIZERS[reg_name])


@pytest.mark.parametrize("reg_name", sorted(REGULARIZERS))
@pytest.mark.parametrize("net_name", sorted(NETWORKS))
def test_every_network_and_regularizer_on_each_backend(backend, net_name, reg_name):
    check_network(net_name, "he", REGULARIZERS[reg_name])


def test_the_books_init_names_are_aliases():
    for alias, name in ALIASES.items():
        assert I.get_initializer(alias) is I.get_initializer(name)
        a = TwoLayerNet(5, 7, 3, weight_init_std=alias, seed=1)
        b = TwoLayerNet(5, 7, 3, weight_init_std=name.upper(), seed=1)
        for k in a.params:
            np.testing.assert_array_equal(a.params[k], b.params[k])


# ---------------------------------------------------------------- the penalties' terms


@pytest.mark.parametrize("net_name", sorted(NETWORKS))
def test_penalty_terms_are_exactly_the_books_and_touch_weights_only(backend, net_name):
    """loss + 0.5*l2*sum(W**2) + l1*sum|W|; grads + l2*W + l1*sign(W); biases, gamma, beta unchanged."""
    l2, l1 = 0.3, 0.07
    plain, x, t = prepared(net_name, "he", {})
    regular = NETWORKS[net_name][0](0, weight_init_std="he", weight_decay_lambda=l2, l1_lambda=l1)
    fix_dropout_masks(regular)
    for name, p in plain.params.items():
        regular.params[name][...] = p
    weights = [n for n in plain.params if n.startswith("W")]
    assert regular.regularized == weights  # not b, gamma, beta
    sq = sum(float(np.sum(plain.params[n] ** 2)) for n in weights)
    ab = sum(float(np.sum(np.abs(plain.params[n]))) for n in weights)
    loss_plain, g0 = plain.loss_and_gradient(x, t)
    loss_regular, g1 = regular.loss_and_gradient(x, t)
    assert loss_regular == pytest.approx(loss_plain + 0.5 * l2 * sq + l1 * ab, rel=1e-12)
    for name in plain.params:
        w = plain.params[name]
        extra = l2 * w + l1 * np.sign(w) if name in weights else 0.0
        np.testing.assert_allclose(g1[name], g0[name] + extra, rtol=1e-10, atol=1e-14)


def test_penalties_agree_on_both_backends_in_float32(rng):
    import ferronet

    results = {}
    for name in ("numpy", "native") if ferronet.native_available() else ("numpy",):
        with ferronet.use_backend(name):
            net = MultiLayerNet(5, [6, 4], 3, weight_decay_lambda=0.2, l1_lambda=0.1, max_norm=0.8,
                                dtype=np.float32, seed=3)
            x, t = images(np.random.default_rng(0), 8, (5,))
            loss, grads = net.loss_and_gradient(x, t)
            net.apply_constraints()
            results[name] = (loss, grads, {k: v.copy() for k, v in net.params.items()})
    for loss, grads, params in results.values():
        ref_loss, ref_grads, ref_params = results["numpy"]
        assert loss == pytest.approx(ref_loss, rel=1e-5)
        for k in grads:
            assert grads[k].dtype == np.float32
            np.testing.assert_allclose(grads[k], ref_grads[k], rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(params[k], ref_params[k], rtol=1e-5, atol=1e-7)


def test_max_norm_caps_dense_columns_and_conv_filters_only(backend):
    net = SimpleConvNet(input_dim=(2, 7, 7), conv_param=TINY_CONV, hidden_size=6, output_size=3,
                        weight_init_std=2.0, max_norm=1.5, seed=0)
    net.params["b2"][...] = 10.0  # biases are not constrained
    before = {k: v.copy() for k, v in net.params.items()}
    arrays = dict(net.params)
    net.apply_constraints()
    for name, w in net.params.items():
        assert w is arrays[name]  # in place: the layers still hold the same arrays
        if name.startswith("W"):
            norms, old = unit_norms(w), unit_norms(before[name])
            np.testing.assert_allclose(norms, np.minimum(old, 1.5), rtol=1e-12)
            # each unit is scaled as a whole: its direction is kept
            scale = (norms / old).reshape((1, -1) if w.ndim == 2 else (-1, 1, 1, 1))
            np.testing.assert_allclose(w, before[name] * scale, rtol=1e-12)
        else:
            np.testing.assert_array_equal(w, before[name])
    assert net.layers["Conv1"].W is net.params["W1"]


def test_no_max_norm_means_no_constraint(backend):
    net = TwoLayerNet(5, 7, 3, weight_init_std=5.0, seed=0)
    before = {k: v.copy() for k, v in net.params.items()}
    net.apply_constraints()
    for k in before:
        np.testing.assert_array_equal(net.params[k], before[k])


def test_the_trainer_applies_the_constraint_after_every_update(backend):
    x, t = images(np.random.default_rng(0), 40, (5,))
    net = TwoLayerNet(5, 7, 3, weight_init_std=1.0, max_norm=0.5, seed=0)
    calls = []
    original = net.apply_constraints

    def spy():
        calls.append(unit_norms(net.params["W1"]).max())
        original()

    net.apply_constraints = spy
    trainer = Trainer(net, x, t, x, t, epochs=2, mini_batch_size=10, optimizer="SGD",
                      optimizer_param={"lr": 0.5}, verbose=False, seed=0)
    trainer.train()
    assert len(calls) == trainer.max_iter == 8
    for name in ("W1", "W2"):
        assert unit_norms(net.params[name]).max() <= 0.5 * (1 + 1e-12)


# ---------------------------------------------------------------- initialisers


@pytest.mark.parametrize("net_name", sorted(NETWORKS))
def test_every_network_keeps_its_default_init(net_name):
    build = NETWORKS[net_name][0]
    import inspect

    cls = type(build(0))
    default = inspect.signature(cls).parameters["weight_init_std"].default
    expected = {"TwoLayerNet": 0.01, "SimpleConvNet": 0.01, "MultiLayerNet": "relu",
                "MultiLayerNetExtend": "relu", "DeepConvNet": "he"}[net_name]
    assert default == expected


def test_deep_conv_net_default_weights_are_unchanged():
    """He by default, drawn in the same order as before weight_init_std existed."""
    net = DeepConvNet(seed=5)
    rng = np.random.default_rng(5)
    np.testing.assert_array_equal(net.params["W1"], I.he((16, 1, 3, 3), rng, np.float64))
    np.testing.assert_array_equal(net.params["W2"], I.he((16, 16, 3, 3), rng, np.float64))


@pytest.mark.parametrize("name, std", [
    ("relu", lambda fi, fo: np.sqrt(2 / fi)), ("he", lambda fi, fo: np.sqrt(2 / fi)),
    ("he_uniform", lambda fi, fo: np.sqrt(2 / fi)),
    ("sigmoid", lambda fi, fo: np.sqrt(1 / fi)), ("xavier", lambda fi, fo: np.sqrt(1 / fi)),
    ("glorot_normal", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    ("glorot_uniform", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    ("lecun", lambda fi, fo: np.sqrt(1 / fi)),
    ("gaussian", lambda fi, fo: 0.01), ("uniform", lambda fi, fo: 0.05 / np.sqrt(3)),
])
def test_named_inits_use_the_real_fans_of_dense_and_conv_weights(name, std):
    """Conv filters (FN, C, FH, FW): fan_in C*FH*FW, fan_out FN*FH*FW."""
    net = SimpleConvNet(input_dim=(3, 12, 12), conv_param={"filter_num": 64, "filter_size": 5},
                        hidden_size=300, output_size=10, weight_init_std=name, seed=0)
    assert I.fans(net.params["W1"].shape) == (3 * 25, 64 * 25)
    w2_fans = I.fans(net.params["W2"].shape)
    assert w2_fans == (64 * 4 * 4, 300)
    assert np.std(net.params["W1"]) == pytest.approx(std(75, 1600), rel=0.05)
    assert np.std(net.params["W2"]) == pytest.approx(std(*w2_fans), rel=0.03)
    if "uniform" in name or name == "lecun":
        limit = np.sqrt(3) * std(*w2_fans)
        assert np.max(np.abs(net.params["W2"])) <= limit
        assert np.max(np.abs(net.params["W2"])) > 0.99 * limit


def test_orthogonal_init_in_networks():
    net = MultiLayerNet(50, [30], 80, weight_init_std="Orthogonal", seed=0)
    w1, w2 = net.params["W1"], net.params["W2"]  # (50, 30): orthonormal columns; (30, 80): orthonormal rows
    np.testing.assert_allclose(w1.T @ w1, np.eye(30), atol=1e-12)
    np.testing.assert_allclose(w2 @ w2.T, np.eye(30), atol=1e-12)


@pytest.mark.parametrize("net_name", sorted(NETWORKS))
def test_a_bad_init_name_lists_the_good_ones(net_name):
    build = NETWORKS[net_name][0]
    with pytest.raises(ValueError) as info:
        build(0, weight_init_std="glorot")
    for name in I.INITIALIZERS:
        assert repr(name) in str(info.value)
    for bad, error in [(-0.1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
                       (None, TypeError), (True, TypeError)]:
        with pytest.raises(error):
            build(0, weight_init_std=bad)


# ---------------------------------------------------------------- bad regularisation values


@pytest.mark.parametrize("net_name", sorted(NETWORKS))
@pytest.mark.parametrize("option, value, error", [
    ("weight_decay_lambda", -0.1, ValueError), ("l1_lambda", -1e-9, ValueError),
    ("weight_decay_lambda", float("nan"), ValueError), ("l1_lambda", float("inf"), ValueError),
    ("weight_decay_lambda", "0.1", TypeError), ("l1_lambda", None, TypeError),
    ("max_norm", 0, ValueError), ("max_norm", -2.0, ValueError), ("max_norm", float("inf"), ValueError),
    ("max_norm", "3", TypeError),
])
def test_bad_regularization_values_are_refused(net_name, option, value, error):
    build = NETWORKS[net_name][0]
    with pytest.raises(error, match=option):
        build(0, **{option: value})


def test_regularizers_helpers():
    assert regularizers.unit_axis((784, 100)) == 1
    assert regularizers.unit_axis((30, 1, 5, 5)) == 0
    assert regularizers.check_max_norm(None) is None
    assert regularizers.check_lambda("l1_lambda", 0) == 0.0
    assert regularizers.penalty([], 0.5, 0.5) == 0.0
