"""Test-time augmentation: probabilities averaged over each image and its mirror image."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet import functions, use_backend
from ferronet.augment import mirror_averaged_accuracy, mirror_averaged_probabilities
from ferronet.networks import MultiLayerNet, SimpleConvNet


def _net(dtype: type = np.float64) -> SimpleConvNet:
    return SimpleConvNet(input_dim=(1, 8, 8), conv_param={"filter_num": 4, "filter_size": 3, "pad": 0, "stride": 1},
                         hidden_size=12, output_size=5, weight_init_std="he", dtype=dtype, seed=1)


def _images(n: int = 7, dtype: type = np.float64) -> np.ndarray:
    return np.random.default_rng(2).random((n, 1, 8, 8)).astype(dtype)  # (N, 1, 8, 8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_probabilities_are_the_mean_of_the_two_softmaxes(backend: str, dtype: type) -> None:
    net, x = _net(dtype), _images(dtype=dtype)
    with use_backend(backend):
        got = mirror_averaged_probabilities(net, x, batch_size=3)
    plain = functions.softmax(net.predict(x).astype(np.float64))  # (N, 5)
    mirrored = functions.softmax(net.predict(x[:, :, :, ::-1].copy()).astype(np.float64))
    assert got.dtype == dtype and got.shape == (7, 5)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, (plain + mirrored) / 2, rtol=tol, atol=tol)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=tol)


def test_an_image_and_its_mirror_image_get_the_same_probabilities() -> None:
    net, x = _net(), _images()
    np.testing.assert_allclose(mirror_averaged_probabilities(net, x),
                               mirror_averaged_probabilities(net, x[..., ::-1]), rtol=1e-12, atol=1e-15)


def test_the_accuracy_counts_the_largest_averaged_probability() -> None:
    net, x = _net(), _images(40)
    probabilities = mirror_averaged_probabilities(net, x)
    t = np.argmax(probabilities, axis=1)
    t[:10] = (t[:10] + 1) % 5  # 10 of 40 wrong
    assert mirror_averaged_accuracy(net, x, t) == pytest.approx(0.75)
    assert mirror_averaged_accuracy(net, x, np.eye(5)[t]) == pytest.approx(0.75)  # one-hot rows


def test_a_plain_symmetric_image_changes_nothing() -> None:
    net = _net()
    x = _images(3)
    x = (x + x[..., ::-1]) / 2  # each image its own mirror image
    np.testing.assert_allclose(mirror_averaged_probabilities(net, x), functions.softmax(net.predict(x)),
                               rtol=1e-12)


def test_flat_inputs_and_empty_batches_are_refused() -> None:
    with pytest.raises(ValueError, match=r"images \(N, C, H, W\), got an array of shape \(7, 64\)"):
        mirror_averaged_probabilities(_net(), _images().reshape(7, 64))
    with pytest.raises(ValueError, match="at least one image"):
        mirror_averaged_probabilities(_net(), np.zeros((0, 1, 8, 8)))


def test_a_regression_network_is_refused() -> None:
    regression = MultiLayerNet(64, [4], 1, loss="mse", seed=0)
    with pytest.raises(ValueError, match="needs a classifier"):
        mirror_averaged_probabilities(regression, _images())
