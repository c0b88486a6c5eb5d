"""The loss layers (MSELoss, L1Loss, HuberLoss, SigmoidWithLoss, KLDivLoss) and
their registry, gradient-checked in float64 on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet import functions as F
from ferronet.gradient import numerical_gradient, relative_error
from ferronet.layers import (LOSSES, HuberLoss, KLDivLoss, L1Loss, LossLayer, MSELoss, SigmoidWithLoss,
                             SoftmaxWithLoss, loss_layer)

TOL = 1e-6


def targets_for(name: str, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Targets a loss takes for scores of ``shape`` (N, K): values, 0/1 labels, distributions or class labels."""
    if name in ("mse", "l1", "huber"):
        return rng.standard_normal(shape)
    if name == "sigmoid_bce":
        return rng.integers(0, 2, size=shape).astype(np.float64)
    if name == "kl_div":
        t = rng.uniform(size=shape)
        return t / t.sum(axis=-1, keepdims=True)
    return rng.integers(0, shape[-1], size=shape[0])  # softmax_ce: labels


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("dout", [1.0, 2.5])
def test_every_loss_layer_passes_the_gradient_check(backend, rng, name, dout):
    x = rng.standard_normal((5, 4)) * 2
    t = targets_for(name, rng, x.shape)
    layer = LOSSES[name]()
    loss = layer.forward(x, t)
    assert isinstance(loss, float) and np.isfinite(loss)
    dx = layer.backward(dout)
    assert dx.shape == x.shape and dx.dtype == np.float64
    numeric = numerical_gradient(lambda _: dout * layer.forward(x, t), x)
    _, rel = relative_error(dx, numeric)
    assert rel < TOL, rel


@pytest.mark.parametrize("name, function", [("mse", F.mean_squared_error), ("l1", F.mean_absolute_error),
                                            ("huber", F.huber_loss), ("sigmoid_bce", F.sigmoid_binary_cross_entropy),
                                            ("kl_div", F.softmax_kl_divergence)])
def test_each_layer_is_its_function(backend, rng, name, function):
    """The layer's mean is the one ferronet.functions states (over every element, or per sample for KL)."""
    x = rng.standard_normal((6, 3)) * 3
    t = targets_for(name, rng, x.shape)
    assert LOSSES[name]().forward(x, t) == pytest.approx(function(x, t), rel=1e-12)


def test_the_definitions_written_out(backend):
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    t = np.array([[0.0, 1.0], [2.5, 0.0]])
    d = x - t  # 0.5, -2, -0.5, 3
    assert MSELoss().forward(x, t) == pytest.approx((0.25 + 4 + 0.25 + 9) / 4)
    assert L1Loss().forward(x, t) == pytest.approx((0.5 + 2 + 0.5 + 3) / 4)
    huber = HuberLoss(delta=1.0)
    assert huber.forward(x, t) == pytest.approx((0.125 + 1.5 + 0.125 + 2.5) / 4)
    np.testing.assert_allclose(huber.backward(4.0), np.clip(d, -1, 1))  # dout 4 over 4 elements
    p = np.array([[0.25, 0.75]])
    logits = np.log(np.array([[0.5, 0.5]]))
    kl = 0.25 * np.log(0.25 / 0.5) + 0.75 * np.log(0.75 / 0.5)  # one sample: the sum over its classes
    assert KLDivLoss().forward(logits, p) == pytest.approx(kl)
    assert SigmoidWithLoss().forward(np.array([0.0, 0.0]), np.array([1, 0])) == pytest.approx(np.log(2))


def test_kl_div_equals_the_cross_entropy_minus_the_entropy(backend, rng):
    x = rng.standard_normal((7, 5))
    t = targets_for("kl_div", rng, x.shape)
    entropy = -np.sum(t * np.log(t)) / 7
    kl, ce = KLDivLoss(), SoftmaxWithLoss()
    assert kl.forward(x, t) == pytest.approx(ce.forward(x, t) - entropy, rel=1e-12)
    np.testing.assert_allclose(kl.backward(), ce.backward(), rtol=1e-12, atol=1e-15)
    assert KLDivLoss().forward(np.log(t), t) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("layer", [MSELoss, L1Loss, HuberLoss, SigmoidWithLoss, KLDivLoss])
def test_targets_are_converted_to_the_scores_dtype(backend, rng, layer):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    t = targets_for("kl_div", rng, x.shape) if layer is KLDivLoss else rng.integers(0, 2, size=(4, 3))
    loss = layer()
    assert isinstance(loss.forward(x, t), float)
    assert loss.t.dtype == np.float32
    assert loss.backward().dtype == np.float32


@pytest.mark.parametrize("layer", [MSELoss, L1Loss, HuberLoss, SigmoidWithLoss])
def test_a_target_vector_beside_one_output_column(backend, rng, layer):
    x = rng.standard_normal((6, 1))
    t = rng.integers(0, 2, size=6).astype(np.float64)
    assert layer().forward(x, t) == pytest.approx(layer().forward(x, t.reshape(6, 1)))
    loss = layer()
    loss.forward(x, t)
    assert loss.backward().shape == (6, 1)
    with pytest.raises(ValueError, match=r"\(6, 2\).*\(2, 6\)"):
        layer().forward(rng.standard_normal((6, 2)), np.zeros((2, 6)))  # no guessing beyond that


def test_any_shape_and_a_single_sample(backend, rng):
    x = rng.standard_normal((2, 3, 4))
    t = rng.standard_normal((2, 3, 4))
    layer = MSELoss()
    assert layer.forward(x, t) == pytest.approx(np.mean((x - t) ** 2))
    assert layer.backward().shape == (2, 3, 4)
    kl = KLDivLoss()
    p = targets_for("kl_div", rng, (5,))
    logits = rng.standard_normal(5)
    assert kl.forward(logits, p) == pytest.approx(KLDivLoss().forward(logits[None], p[None]))
    assert kl.backward().shape == (5,)


@pytest.mark.parametrize("delta", [0, -1.0, float("nan"), float("inf")])
def test_huber_delta_must_be_positive(delta):
    with pytest.raises(ValueError, match="delta"):
        HuberLoss(delta=delta)
    with pytest.raises(ValueError, match="delta"):
        F.huber_loss(np.zeros(2), np.ones(2), delta=delta)


@pytest.mark.parametrize("bad", [2, -1, 1.5])
def test_sigmoid_bce_labels_must_lie_in_zero_one(backend, bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        SigmoidWithLoss().forward(np.zeros((2, 2)), np.array([[0, 1], [bad, 0]]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        KLDivLoss().forward(np.zeros((2, 2)), np.array([[0.5, 0.5], [bad, 0.0]]))


def test_sigmoid_bce_soft_targets_and_huge_logits(backend):
    x = np.array([1000.0, -1000.0, 0.0])
    assert SigmoidWithLoss().forward(x, np.array([1.0, 0.0, 0.5])) == pytest.approx(np.log(2) / 3)
    assert SigmoidWithLoss().forward(x, np.array([0.0, 1.0, 0.5])) == pytest.approx((2000 + np.log(2)) / 3)


@pytest.mark.parametrize("layer", [MSELoss, L1Loss, HuberLoss, SigmoidWithLoss, KLDivLoss])
def test_backward_before_forward_is_an_error(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer().backward()


def test_the_registry():
    assert set(LOSSES) == {"softmax_ce", "mse", "l1", "huber", "sigmoid_bce", "kl_div"}
    assert loss_layer("MSE") is MSELoss and loss_layer("softmax_ce") is SoftmaxWithLoss
    assert all(issubclass(layer, LossLayer) for layer in LOSSES.values())
    with pytest.raises(ValueError) as info:
        loss_layer("cross_entropy")
    assert all(name in str(info.value) for name in LOSSES)
    tasks = {name: layer.task for name, layer in LOSSES.items()}
    assert tasks == {"softmax_ce": "classification", "kl_div": "classification", "sigmoid_bce": "multilabel",
                     "mse": "regression", "l1": "regression", "huber": "regression"}


# ---------------------------------------------------------------------- label smoothing


@pytest.mark.parametrize("e", [0.1, 0.3])
@pytest.mark.parametrize("one_hot", [False, True])
def test_label_smoothing_is_the_cross_entropy_of_the_smoothed_rows(backend, rng, e, one_hot):
    x = rng.standard_normal((6, 4)) * 3
    labels = rng.integers(0, 4, 6)
    t = np.eye(4)[labels] if one_hot else labels
    layer = SoftmaxWithLoss(label_smoothing=e)
    log_p = x - np.log(np.exp(x).sum(axis=1, keepdims=True))  # (6, 4) log-softmax
    smoothed = (1 - e) * np.eye(4)[labels] + e / 4
    want = -(smoothed * log_p).sum(axis=1).mean()
    # = (1 - e) * the book's loss + e * the mean over classes of -log p
    assert want == pytest.approx((1 - e) * SoftmaxWithLoss().forward(x, t) + e * -log_p.mean(axis=1).mean())
    assert layer.forward(x, t) == pytest.approx(want, rel=1e-12)
    dx = layer.backward(2.0)
    np.testing.assert_allclose(dx, 2.0 * (np.exp(log_p) - smoothed) / 6, rtol=1e-12, atol=1e-15)
    numeric = numerical_gradient(lambda _: 2.0 * layer.forward(x, t), x)
    assert relative_error(dx, numeric)[1] < TOL


def test_label_smoothing_zero_is_the_books_loss_and_float32_stays_float32(backend, rng):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    t = rng.integers(0, 3, 5)
    assert SoftmaxWithLoss(label_smoothing=0).forward(x, t) == SoftmaxWithLoss().forward(x, t)
    layer = SoftmaxWithLoss(label_smoothing=0.1)
    layer.forward(x, t)
    assert layer.t.dtype == np.float32 and layer.backward().dtype == np.float32
    np.testing.assert_allclose(layer.t.sum(axis=1), 1.0, rtol=1e-6)


def test_label_smoothing_leaves_bad_labels_for_the_kernel_to_name(backend):
    with pytest.raises(ValueError, match="label"):
        SoftmaxWithLoss(label_smoothing=0.1).forward(np.zeros((2, 3)), np.array([0, 3]))


@pytest.mark.parametrize("bad, error", [(1.0, ValueError), (-0.1, ValueError), (float("nan"), ValueError),
                                        ("0.1", TypeError), (True, TypeError)])
def test_label_smoothing_must_lie_in_zero_one(bad, error):
    with pytest.raises(error, match="label_smoothing"):
        SoftmaxWithLoss(label_smoothing=bad)


def test_a_network_with_label_smoothing_saves_and_loads_it(tmp_path):
    import ferronet
    from ferronet.networks import MultiLayerNet

    net = MultiLayerNet(4, [3], 2, loss=SoftmaxWithLoss(label_smoothing=0.2), seed=0)
    loaded = ferronet.load(net.save_params(tmp_path / "smooth.npz"))
    assert isinstance(loaded.last_layer, SoftmaxWithLoss) and loaded.last_layer.label_smoothing == 0.2
