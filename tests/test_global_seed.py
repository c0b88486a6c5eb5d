"""Without ``seed=``, randomness comes from NumPy's global generator, so
``np.random.seed`` repeats a run as in the book; ``seed=`` stays private."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet.layers import Dropout
from ferronet.networks import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, TwoLayerNet
from ferronet.trainer import Trainer
from ferronet.utils import shuffle_dataset

SMALL_IMAGE = {"input_dim": (1, 8, 8), "hidden_size": 6, "output_size": 3}
BUILDERS = {
    "TwoLayerNet": lambda **kw: TwoLayerNet(5, 4, 3, **kw),
    "MultiLayerNet": lambda **kw: MultiLayerNet(5, [4, 4], 3, **kw),
    "MultiLayerNetExtend": lambda **kw: MultiLayerNetExtend(5, [4], 3, use_dropout=True, use_batchnorm=True, **kw),
    "SimpleConvNet": lambda **kw: SimpleConvNet(conv_param={"filter_num": 2, "filter_size": 3}, **SMALL_IMAGE, **kw),
    "DeepConvNet": lambda **kw: DeepConvNet(**SMALL_IMAGE, **kw),
}


def params_of(net):
    return {k: v.copy() for k, v in net.params.items()}


def assert_same_params(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_np_random_seed_repeats_the_initial_weights(name):
    build = BUILDERS[name]
    np.random.seed(7)
    first = params_of(build())
    np.random.seed(7)
    again = params_of(build())
    assert_same_params(first, again)
    fresh = params_of(build())  # the global stream moved on
    assert any(not np.array_equal(first[k], fresh[k]) for k in first if k.startswith("W"))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_private_seed_leaves_the_global_state_alone(name):
    np.random.seed(1)
    before = np.random.get_state()[1].copy()
    a = params_of(BUILDERS[name](seed=3))
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.random.seed(99)  # a different global state changes nothing
    assert_same_params(a, params_of(BUILDERS[name](seed=3)))


def blobs(n, seed):
    gen = np.random.default_rng(seed)
    t = gen.integers(0, 3, n)
    x = gen.standard_normal((n, 5)) + 2.0 * np.eye(3, 5)[t]
    return x, t


def book_run(seed_value):
    """What a book script does: np.random.seed, build, Trainer without seed=, train."""
    x, t = blobs(60, 0)
    np.random.seed(seed_value)
    net = MultiLayerNetExtend(5, [8, 8], 3, use_dropout=True, dropout_ration=0.2)
    trainer = Trainer(net, x, t, x[:20], t[:20], epochs=2, mini_batch_size=16, verbose=False)
    trainer.train()
    return trainer.train_loss_list


def test_np_random_seed_repeats_a_training_run_with_dropout():
    first, again, other = book_run(5), book_run(5), book_run(6)
    assert first == again
    assert first != other


def test_the_trainer_shuffles_from_the_global_generator_without_a_seed():
    x, t = blobs(30, 1)
    net = MultiLayerNet(5, [4], 3, seed=0)
    np.random.seed(2)
    a = Trainer(net, x, t, x, t, epochs=1, mini_batch_size=30, verbose=False)._next_batch()[1]
    np.random.seed(2)
    b = Trainer(net, x, t, x, t, epochs=1, mini_batch_size=30, verbose=False)._next_batch()[1]
    np.testing.assert_array_equal(a, b)
    before = np.random.get_state()[1].copy()
    Trainer(net, x, t, x, t, epochs=1, mini_batch_size=30, verbose=False, seed=4)._next_batch()
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_dropout_masks_follow_np_random_seed():
    x = np.ones((4, 50))
    layer = Dropout(0.5)
    np.random.seed(0)
    m1 = layer.forward(x) != 0
    np.random.seed(0)
    m2 = layer.forward(x) != 0
    np.testing.assert_array_equal(m1, m2)
    assert not np.array_equal(m1, layer.forward(x) != 0)
    seeded = [Dropout(0.5, seed=8).forward(x) for _ in range(2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])


def test_shuffle_dataset_follows_np_random_seed():
    x, t = np.arange(40).reshape(20, 2), np.arange(20)
    np.random.seed(3)
    a = shuffle_dataset(x, t)
    np.random.seed(3)
    b = shuffle_dataset(x, t)
    np.testing.assert_array_equal(a[1], b[1])
