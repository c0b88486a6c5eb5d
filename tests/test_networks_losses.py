"""Every network with every loss (``loss=``): it builds, trains, passes the
gradient check, and scores as its task says; a regression on scikit-learn's
diabetes data and a multi-label problem learned end to end."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet.gradient import gradient_check
from ferronet.layers import LOSSES, HuberLoss, SoftmaxWithLoss
from ferronet.metrics import r2_score
from ferronet.networks import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, TwoLayerNet
from ferronet.optimizers import get_optimizer
from test_loss_layers import targets_for
from test_networks_conv import TINY_CONV, assert_no_relu_kink, fix_dropout_masks, shift_biases

OUTPUTS = 3
NETWORKS = ["two_layer", "multi_layer", "extend", "simple_conv", "deep_conv"]
#: initialisation seeds whose pre-activations stay clear of the ReLU kinks (those of the networks' own tests)
SEEDS = {"two_layer": 0, "multi_layer": 1, "extend": 3, "simple_conv": 0, "deep_conv": 8}


def tiny(kind: str, loss, dtype=np.float64):
    """``(network, shape of one input sample)``: each network small enough for a quick gradient check."""
    seed = SEEDS[kind]
    if kind == "two_layer":
        return TwoLayerNet(5, 7, OUTPUTS, weight_init_std=0.5, dtype=dtype, seed=seed, loss=loss), (5,)
    if kind == "multi_layer":
        return MultiLayerNet(5, [6, 4], OUTPUTS, weight_decay_lambda=0.1, dtype=dtype, seed=seed, loss=loss), (5,)
    if kind == "extend":
        return MultiLayerNetExtend(6, [5, 4], OUTPUTS, use_batchnorm=True, use_dropout=True, dtype=dtype,
                                   seed=seed, loss=loss), (6,)
    if kind == "simple_conv":
        return SimpleConvNet(input_dim=(2, 7, 7), conv_param=TINY_CONV, hidden_size=6, output_size=OUTPUTS,
                             weight_init_std="he", dtype=dtype, seed=seed, loss=loss), (2, 7, 7)
    pads = (1, 1, 1, 2, 1, 1)
    convs = {f"conv_param_{i + 1}": {"filter_num": 2, "filter_size": 3, "pad": p, "stride": 1}
             for i, p in enumerate(pads)}
    return DeepConvNet(input_dim=(1, 8, 8), **convs, hidden_size=5, output_size=OUTPUTS, dtype=dtype, seed=seed,
                       loss=loss), (1, 8, 8)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("kind", NETWORKS)
def test_every_network_with_every_loss_passes_the_gradient_check(backend, rng, kind, loss):
    net, shape = tiny(kind, loss)
    assert isinstance(net.last_layer, LOSSES[loss])
    shift_biases(net, rng)
    fix_dropout_masks(net)
    x = rng.standard_normal((3, *shape))
    t = targets_for(loss, rng, (3, OUTPUTS))
    assert_no_relu_kink(net, x)
    report = gradient_check(net, x, t)  # {param: (max abs difference, relative error)}
    assert set(report) == set(net.params)
    zero = ("b1", "b2") if kind == "extend" else ()  # batch norm subtracts these biases again: gradient 0
    assert max(rel for name, (_, rel) in report.items() if name not in zero) < 1e-6, report
    assert all(report[name][0] < 1e-10 for name in zero), report  # central differences of a constant: noise


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("kind", NETWORKS)
def test_every_network_with_every_loss_trains(backend, rng, kind, loss):
    """A few Adam steps of a float32 network on one batch lower its loss (dropout masks fixed, so the
    loss changes with the parameters only)."""
    net, shape = tiny(kind, loss, dtype=np.float32)
    fix_dropout_masks(net)
    x = rng.standard_normal((8, *shape)).astype(np.float32)
    t = targets_for(loss, rng, (8, OUTPUTS))
    optimizer = get_optimizer("Adam", lr=0.01)
    losses = []
    for _ in range(8):
        value, grads = net.loss_and_gradient(x, t)
        assert all(g.dtype == np.float32 for g in grads.values())
        optimizer.update(net.params, grads)
        losses.append(value)
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    assert net.predict(x).shape == (8, OUTPUTS)  # raw outputs, whatever the loss


def test_the_default_is_the_books_classifier_and_names_are_checked():
    assert type(MultiLayerNet(4, [3], 2).last_layer) is SoftmaxWithLoss
    assert type(MultiLayerNet(4, [3], 2, loss="Sigmoid_BCE").last_layer) is LOSSES["sigmoid_bce"]
    with pytest.raises(ValueError) as info:
        SimpleConvNet(loss="squared")
    assert all(name in str(info.value) for name in LOSSES)


def test_a_loss_layer_instance_is_taken_as_it_is(backend, rng):
    huber = HuberLoss(delta=0.25)
    net = MultiLayerNet(4, [5], 2, loss=huber, seed=0)
    assert net.last_layer is huber
    x, t = rng.standard_normal((6, 4)), rng.standard_normal((6, 2)) * 3
    y = net.predict(x)
    d = np.abs(y - t)
    assert net.loss(x, t) == pytest.approx(np.mean(np.where(d <= 0.25, 0.5 * d * d, 0.25 * (d - 0.125))))


# ---------------------------------------------------------------- accuracy and score


def test_regression_has_a_score_but_no_accuracy(backend, rng):
    net = MultiLayerNet(4, [5], 2, loss="mse", seed=0)
    x, t = rng.standard_normal((30, 4)), rng.standard_normal((30, 2))
    with pytest.raises(ValueError, match=r"regression.*score\(x, t\)"):
        net.accuracy(x, t)
    assert net.score(x, t) == pytest.approx(r2_score(net.predict(x), t))
    one = MultiLayerNet(4, [5], 1, loss="l1", seed=0)
    assert one.score(x, t[:, 0]) == pytest.approx(r2_score(one.predict(x)[:, 0], t[:, 0]))


def test_multilabel_accuracy_counts_label_by_label(backend):
    net = MultiLayerNet(2, [3], 3, loss="sigmoid_bce", seed=0)
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    scores = net.predict(x)  # (2, 3) logits: a label is on where its score is above 0
    t = (scores > 0).astype(np.int64)
    assert net.accuracy(x, t) == 1.0 == net.score(x, t)
    t[0, 1] = 1 - t[0, 1]
    t[1, 2] = 1 - t[1, 2]
    assert net.accuracy(x, t) == pytest.approx(4 / 6)
    assert net.accuracy(x, t.astype(bool)) == pytest.approx(4 / 6)


def test_kl_div_accuracy_takes_the_largest_target(backend, rng):
    net = MultiLayerNet(4, [5], 3, loss="kl_div", seed=0)
    x = rng.standard_normal((20, 4))
    labels = np.argmax(net.predict(x), axis=1)
    t = np.full((20, 3), 0.1)
    t[np.arange(20), labels] = 0.8
    assert net.accuracy(x, t) == 1.0 == net.score(x, t)


# ---------------------------------------------------------------- learning end to end


def train(net, x, t, epochs: int, lr: float, batch: int = 32, seed: int = 0) -> None:
    """Adam over shuffled mini-batches, every sample once per epoch."""
    optimizer = get_optimizer("Adam", lr=lr)
    order_rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = order_rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            optimizer.update(net.params, net.gradient(x[idx], t[idx]))


def test_mlp_regression_on_diabetes_beats_the_mean(backend):
    """MultiLayerNet(10, [16], 1, loss="mse") on scikit-learn's diabetes data (442 patients,
    10 features, a disease-progression score), standardised with the training split's
    statistics, 25% held out: the test MSE must be at most 0.7x that of predicting the
    training mean (measured 0.64x, i.e. R² 0.36; least squares reaches 0.64x on this split)."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    x, y = load_diabetes(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    t_mean, t_std = y_train.mean(), y_train.std()
    t_train, t_test = (y_train - t_mean) / t_std, (y_test - t_mean) / t_std  # (N,): one output per sample

    net = MultiLayerNet(10, [16], 1, loss="mse", weight_decay_lambda=0.1, seed=0)
    train(net, x_train, t_train, epochs=30, lr=0.01)
    prediction = net.predict(x_test)  # (N, 1) raw outputs
    assert prediction.shape == (len(x_test), 1)
    test_mse = float(np.mean((prediction[:, 0] - t_test) ** 2))
    mean_mse = float(np.mean(t_test ** 2))  # predicting the training mean (0 after standardising)
    assert test_mse <= 0.7 * mean_mse, (test_mse, mean_mse)
    assert net.loss(x_test, t_test) - net.regularization_loss() == pytest.approx(test_mse)
    assert net.score(x_test, t_test) == pytest.approx(1 - test_mse / np.var(t_test))


def test_multilabel_classification_is_learned(backend):
    """Four yes/no labels of 8-d points, two of them not linearly separable
    (a sign product, a band): MultiLayerNet with loss="sigmoid_bce" gets at least
    90% of the held-out labels right, each label well above its majority rate."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1200, 8))
    labels = np.stack([x[:, 0] > 0,
                       x[:, 1] + x[:, 2] > 0.5,
                       x[:, 0] * x[:, 3] > 0,  # XOR of two signs
                       np.abs(x[:, 4]) > 1.0], axis=1).astype(np.int64)  # (N, 4) in {0, 1}
    x_train, t_train, x_test, t_test = x[:900], labels[:900], x[900:], labels[900:]

    net = MultiLayerNet(8, [32, 32], 4, loss="sigmoid_bce", seed=0)
    train(net, x_train, t_train, epochs=40, lr=0.01)
    assert net.accuracy(x_test, t_test) >= 0.9
    predicted = net.predict(x_test) > 0  # (N, 4): logit above 0, probability above 1/2
    per_label = np.mean(predicted == t_test.astype(bool), axis=0)
    majority = np.maximum(t_test.mean(axis=0), 1 - t_test.mean(axis=0))
    assert np.all(per_label >= majority + 0.1), (per_label, majority)
