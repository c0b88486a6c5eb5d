"""The Trainer (ferronet.trainer): bookkeeping, reproducibility, and that it learns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ferronet.training import progress
from ferronet import trainer as trainer_module
from ferronet.networks import MultiLayerNet, TwoLayerNet
from ferronet.optimizers import SGD, Momentum
from ferronet.trainer import Trainer
from ferronet.utils import as_float_array, shuffle_dataset, smooth_curve, to_one_hot


def blobs(n, seed, classes=3, dim=2):
    """``classes`` well-separated Gaussian blobs in ``dim`` dimensions; float32 x, uint8 labels."""
    gen = np.random.default_rng(seed)
    centers = 4.0 * np.eye(classes, dim)
    t = gen.integers(0, classes, size=n).astype(np.uint8)
    x = (centers[t] + gen.standard_normal((n, dim))).astype(np.float32)
    return x, t


def make_trainer(n=103, batch=10, epochs=3, seed=0, net_seed=0, **kw):
    x, t = blobs(n, seed=1)
    xt, tt = blobs(40, seed=2)
    net = TwoLayerNet(2, 8, 3, weight_init_std=0.5, seed=net_seed)
    kw.setdefault("verbose", False)
    return Trainer(net, x, t, xt, tt, epochs=epochs, mini_batch_size=batch, seed=seed, **kw)


def test_iterations_per_epoch_is_ceil_when_the_batch_does_not_divide_n(backend):
    tr = make_trainer(n=103, batch=10, epochs=3)
    assert tr.iter_per_epoch == math.ceil(103 / 10) == 11
    assert isinstance(tr.iter_per_epoch, int)
    tr.train()
    assert tr.current_iter == tr.max_iter == 33
    assert len(tr.train_loss_list) == 33
    assert tr.current_epoch == 3
    assert len(tr.train_acc_list) == len(tr.test_acc_list) == len(tr.epoch_times) == 3
    assert all(t > 0 for t in tr.epoch_times)
    assert all(0.0 <= a <= 1.0 for a in tr.train_acc_list + tr.test_acc_list)


def test_every_sample_once_per_epoch_with_a_fresh_order(backend):
    tr = make_trainer(n=23, batch=5, epochs=3)
    ids = np.arange(23)
    tr.x_train = np.column_stack([ids, ids]).astype(np.float64)  # column 0 names the sample
    seen: list[np.ndarray] = []
    net = tr.network
    original = net.loss_and_gradient

    def spy(x, t, *rest, **kw):
        seen.append(x[:, 0].astype(int))
        return original(x, t, *rest, **kw)

    net.loss_and_gradient = spy
    tr.train()
    assert [len(b) for b in seen] == [5, 5, 5, 5, 3] * 3  # last partial batch included
    epochs = [np.concatenate(seen[i * 5:(i + 1) * 5]) for i in range(3)]
    for order in epochs:
        np.testing.assert_array_equal(np.sort(order), ids)
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled each epoch


def test_evaluation_happens_at_the_end_of_each_real_epoch(backend):
    tr = make_trainer(n=50, batch=20, epochs=2)  # 3 steps per epoch
    when: list[int] = []
    original = tr.network.accuracy

    def spy(x, t, *rest, **kw):
        when.append(tr.current_iter)
        return original(x, t, *rest, **kw)

    tr.network.accuracy = spy
    for _ in range(2):
        tr.train_step()
    assert when == [] and tr.train_acc_list == []
    tr.train()
    assert when == [3, 3, 6, 6]  # train and test accuracy after steps 3 and 6


def test_evaluate_sample_num_per_epoch_limits_the_per_epoch_evaluation(backend):
    tr = make_trainer(n=50, batch=20, epochs=2, evaluate_sample_num_per_epoch=7)
    sizes: list[int] = []
    original = tr.network.accuracy

    def spy(x, t, *rest, **kw):
        sizes.append(len(x))
        return original(x, t, *rest, **kw)

    tr.network.accuracy = spy
    tr.train()
    assert sizes == [7, 7, 7, 7, len(tr.x_test)]  # per-epoch samples, then the full test set
    assert tr.final_test_acc == pytest.approx(original(tr.x_test, tr.t_test))


def test_one_forward_pass_per_step(backend):
    tr = make_trainer(n=40, batch=10, epochs=2)
    calls = {"forward": 0}
    net = tr.network
    original = net._forward  # every pass through the layers, loss and predict alike

    def counting(x, train_flg, keep_state):
        calls["forward"] += 1
        return original(x, train_flg, keep_state)

    net._forward = counting
    tr.train()
    steps, evaluations = tr.max_iter, 2 * tr.epochs  # accuracy predicts once per set per epoch (40 < 100)
    assert calls["forward"] == steps + evaluations


def test_seeded_runs_are_reproducible(backend):
    a, b = make_trainer(seed=5), make_trainer(seed=5)
    a.train()
    b.train()
    assert a.train_loss_list == b.train_loss_list
    assert a.test_acc_list == b.test_acc_list
    for k in a.network.params:
        np.testing.assert_array_equal(a.network.params[k], b.network.params[k])
    c = make_trainer(seed=6)
    c.train()
    assert c.train_loss_list != a.train_loss_list


def test_optimizer_param_is_not_mutated_and_names_are_case_insensitive(backend):
    param = {"lr": 0.05, "momentum": 0.5}
    tr = make_trainer(optimizer="momentum", optimizer_param=param)
    tr.train()
    assert param == {"lr": 0.05, "momentum": 0.5}
    assert isinstance(tr.optimizer, Momentum)
    assert tr.optimizer.lr == 0.05 and tr.optimizer.momentum == 0.5
    default = make_trainer()
    assert isinstance(default.optimizer, SGD) and default.optimizer.lr == 0.01
    own = SGD(lr=0.2)
    assert make_trainer(optimizer=own).optimizer is own


def test_book_style_network_without_loss_and_gradient(backend):
    inner = TwoLayerNet(2, 8, 3, weight_init_std=0.5, seed=0)

    class BookNet:  # only the book's interface
        params = inner.params

        def loss(self, x, t):
            return inner.loss(x, t)

        def gradient(self, x, t):
            return inner.gradient(x, t)

        def accuracy(self, x, t):
            return inner.accuracy(x, t)

    ref = make_trainer(seed=3)
    x, t = ref.x_train, ref.t_train
    tr = Trainer(BookNet(), x, t, ref.x_test, ref.t_test, epochs=3, mini_batch_size=10, verbose=False, seed=3)
    tr.train()
    ref.train()
    np.testing.assert_allclose(tr.train_loss_list, ref.train_loss_list, rtol=1e-12)


def test_verbose_output_on_a_terminal(backend, capsys, monkeypatch):
    monkeypatch.setattr(progress, "_BAR_INTERVAL", 0.0)  # draw the bar on every step, from the first
    monkeypatch.setattr(progress, "on_terminal", lambda: True)
    tr = make_trainer(n=30, batch=10, epochs=2, verbose=True)
    tr.train()
    out, err = capsys.readouterr()
    assert out.count("epoch ") == 2 and "final test accuracy" in out
    assert out.splitlines()[0].startswith("epoch 1/2: train loss ")
    assert "\r" in err and "3/3" in err and "step/s" in err  # tqdm's bar: steps done, rate
    assert "loss=" in err and "acc=" in err  # running loss and accuracy of the epoch's batches
    quiet = make_trainer(n=30, batch=10, epochs=2, verbose=False)
    quiet.train()
    assert capsys.readouterr() == ("", "")


def test_verbose_output_elsewhere_is_the_books(backend, capsys):
    tr = make_trainer(n=30, batch=10, epochs=2, verbose=True)  # capsys: stdout is not a terminal
    tr.train()
    out, err = capsys.readouterr()
    assert err == ""  # no progress bar, no carriage returns
    lines = out.splitlines()
    assert lines == [
        f"=== epoch:1, train acc:{tr.train_acc_list[0]}, test acc:{tr.test_acc_list[0]} ===",
        f"=== epoch:2, train acc:{tr.train_acc_list[1]}, test acc:{tr.test_acc_list[1]} ===",
        "=============== Final Test Accuracy ===============",
        f"test acc:{tr.final_test_acc}",
    ]


def test_on_terminal_needs_both_streams_to_be_terminals(monkeypatch):
    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    for out_tty, err_tty in ((True, True), (True, False), (False, True), (False, False)):
        monkeypatch.setattr("sys.stdout", Stream(out_tty))
        monkeypatch.setattr("sys.stderr", Stream(err_tty))
        assert progress.on_terminal() is (out_tty and err_tty)
    monkeypatch.setattr("sys.stderr", None)  # pythonw
    assert progress.on_terminal() is False


@pytest.mark.parametrize("epochs, steps", [(0.2, 2), (0.5, 5), (1.5, 15), (0.29, 2), (0.01, 1), (0, 0), (2, 20)])
def test_fractional_epochs_train_the_books_number_of_steps(backend, epochs, steps):
    tr = make_trainer(n=100, batch=10, epochs=epochs)  # 10 steps per epoch
    before = {k: v.copy() for k, v in tr.network.params.items()}
    tr.train()
    assert tr.max_iter == tr.current_iter == steps
    assert len(tr.train_loss_list) == steps
    assert tr.current_epoch == len(tr.test_acc_list) == int(epochs)  # whole epochs only
    changed = any(not np.array_equal(before[k], v) for k, v in tr.network.params.items())
    assert changed is (steps > 0)  # epochs=0.2 trains (the old int(epochs) trained nothing)
    assert tr.final_test_acc == tr.network.accuracy(tr.x_test, tr.t_test)  # measured after the last step


def test_book_rounding_of_fractional_epochs():
    assert trainer_module.steps_for(0.29, 100) == 29  # 0.29 * 100 == 28.999999999999996
    assert trainer_module.steps_for(0.7, 10) == 7
    assert trainer_module.steps_for(1e-6, 10) == 1
    assert trainer_module.steps_for(20, 600) == 12000


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
                                        ("3", TypeError), (True, TypeError)])
def test_bad_epochs(bad, error):
    with pytest.raises(error):
        make_trainer(epochs=bad)


def test_invalid_arguments():
    x, t = blobs(10, seed=0)
    net = TwoLayerNet(2, 3, 3)
    with pytest.raises(ValueError):
        Trainer(net, x, t[:5], x, t, verbose=False)
    with pytest.raises(ValueError):
        Trainer(net, x, t, x, t, mini_batch_size=0, verbose=False)
    with pytest.raises(ValueError):
        Trainer(net, x, t, x, t, optimizer="nope", verbose=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_mlp_learns_an_easy_problem(backend, dtype):
    # two interleaved classes: the sign of x0 * x1 (not linearly separable)
    gen = np.random.default_rng(11)
    x = gen.uniform(-1, 1, size=(1200, 2)).astype(np.float32)
    x = x[np.abs(x[:, 0] * x[:, 1]) > 0.02]  # keep a small margin around the boundary
    t = (x[:, 0] * x[:, 1] > 0).astype(np.uint8)
    x_train, t_train, x_test, t_test = x[:900], t[:900], x[900:], t[900:]
    net = MultiLayerNet(2, [32, 32], 2, dtype=dtype, seed=0)
    tr = Trainer(net, x_train, t_train, x_test, t_test, epochs=30, mini_batch_size=32,
                 optimizer="Adam", optimizer_param={"lr": 0.01}, verbose=False, seed=0)
    tr.train()
    losses = np.array(tr.train_loss_list)
    assert losses[-50:].mean() < 0.1 * losses[:10].mean()
    assert tr.train_acc_list[-1] > 0.97
    assert tr.test_acc_list[-1] > 0.95
    assert all(p.dtype == dtype for p in net.params.values())


# ---------------------------------------------------------------- data helpers (ferronet.utils)


def test_shuffle_dataset_keeps_pairs_and_is_seedable():
    x = np.arange(20).reshape(10, 2)
    t = np.arange(10)
    xs, ts = shuffle_dataset(x, t, rng=0)
    np.testing.assert_array_equal(xs[:, 0] // 2, ts)  # rows still paired with their labels
    np.testing.assert_array_equal(np.sort(ts), t)
    assert not np.array_equal(ts, t)
    xs2, ts2 = shuffle_dataset(x, t, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(ts2, ts)
    np.testing.assert_array_equal(t, np.arange(10))  # inputs untouched
    with pytest.raises(ValueError):
        shuffle_dataset(x, t[:3])


def test_to_one_hot():
    labels = np.array([2, 0, 1, 2], dtype=np.uint8)
    oh = to_one_hot(labels, 3, np.float32)
    assert oh.dtype == np.float32 and oh.shape == (4, 3)
    np.testing.assert_array_equal(oh.argmax(axis=1), labels)
    np.testing.assert_array_equal(oh.sum(axis=1), 1)
    with pytest.raises(ValueError):
        to_one_hot(labels, 2)
    with pytest.raises(TypeError):
        to_one_hot(np.array([0.5]), 2)


def test_smooth_curve_same_length_and_less_noisy():
    gen = np.random.default_rng(0)
    trend = np.linspace(2.0, 0.5, 200)
    noisy = trend + 0.2 * gen.standard_normal(200)
    smooth = smooth_curve(noisy)
    assert smooth.shape == noisy.shape
    assert np.mean((smooth - trend) ** 2) < 0.3 * np.mean((noisy - trend) ** 2)
    np.testing.assert_allclose(smooth_curve(np.full(50, 3.0)), 3.0)  # constants are preserved
    assert smooth_curve([1.0, 2.0]).shape == (2,)


def test_as_float_array():
    f32 = np.zeros(3, dtype=np.float32)
    assert as_float_array(f32) is f32
    assert as_float_array(np.arange(3)).dtype == np.float64
    assert as_float_array(np.arange(3, dtype=np.uint8), np.float32).dtype == np.float32


def test_the_trainer_trains_a_regression_network_and_reports_r2():
    """A regression network has no accuracy: the Trainer reports its score (R²) instead."""
    from ferronet.networks import MultiLayerNet
    from ferronet.trainer import Trainer

    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 5))
    t = (x @ rng.standard_normal((5, 1)) + 0.1 * rng.standard_normal((400, 1)))  # (400, 1)
    net = MultiLayerNet(5, [16], 1, loss="mse", seed=0)
    trainer = Trainer(net, x[:300], t[:300], x[300:], t[300:], epochs=30, mini_batch_size=50,
                      optimizer="Adam", optimizer_param={"lr": 0.01}, seed=0, verbose=False)
    trainer.train()
    assert trainer.test_acc_list[-1] > 0.9 > trainer.test_acc_list[0] - 1  # R² close to 1
    assert trainer.final_test_acc == pytest.approx(net.score(x[300:], t[300:]))


def test_a_trainer_without_a_test_set(backend):
    """x_test and t_test may both be None: no test accuracy is measured, the rest works."""
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((60, 4)), rng.integers(0, 3, 60)
    net = TwoLayerNet(4, 8, 3, seed=0)
    trainer = Trainer(net, x, t, None, None, epochs=2, mini_batch_size=20, seed=0, verbose=False,
                      validation_split=0.25)
    trainer.train()
    assert trainer.test_acc_list == [] and trainer.final_test_acc is None
    assert "test_acc" not in trainer.history and len(trainer.history["val_acc"]) == 2
    with pytest.raises(ValueError, match="both x_test and t_test"):
        Trainer(net, x, t, x, None)
