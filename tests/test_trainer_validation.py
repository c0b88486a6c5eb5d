"""The Trainer's validation data and history (ferronet.training.validation, ferronet.training.history)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from ferronet.training import validation
from ferronet.training.history import write_history
from ferronet.networks import TwoLayerNet
from ferronet.schedules import StepDecay
from ferronet.trainer import Trainer


def blobs(n, seed, classes=3, dim=2):
    gen = np.random.default_rng(seed)
    t = gen.integers(0, classes, size=n).astype(np.uint8)
    x = (4.0 * np.eye(classes, dim)[t] + gen.standard_normal((n, dim))).astype(np.float32)
    return x, t


def make(n=50, epochs=2, batch=10, seed=0, **kw):
    x, t = blobs(n, seed=1)
    xt, tt = blobs(20, seed=2)
    kw.setdefault("verbose", False)
    net = TwoLayerNet(2, 6, 3, weight_init_std=0.5, seed=0)
    return Trainer(net, x, t, xt, tt, epochs=epochs, mini_batch_size=batch, seed=seed, **kw)


# ---------------------------------------------------------------- validation_split


def test_validation_split_holds_out_a_random_fraction_once(backend):
    x, t = blobs(50, seed=1)
    tr = make(validation_split=0.2)
    val = tr.validation_indices
    assert len(val) == 10 and tr.train_size == len(tr.x_train) == 40 and tr.iter_per_epoch == 4
    assert val.dtype == np.int64 and np.all(np.diff(val) > 0)
    np.testing.assert_array_equal(tr.x_val, x[val])
    np.testing.assert_array_equal(tr.t_val, t[val])
    rest = np.setdiff1d(np.arange(50), val)
    np.testing.assert_array_equal(tr.x_train, x[rest])
    assert not np.array_equal(val, np.arange(40, 50))  # drawn at random, not the tail
    tr.train()
    np.testing.assert_array_equal(tr.validation_indices, val)  # taken once
    assert len(tr.train_loss_list) == 2 * 4 and len(tr.train_acc_list) == len(tr.test_acc_list) == 2


def test_the_split_follows_the_seed_or_numpys_global_generator():
    same = [make(seed=5, validation_split=0.3).validation_indices for _ in range(2)]
    np.testing.assert_array_equal(*same)
    assert not np.array_equal(same[0], make(seed=6, validation_split=0.3).validation_indices)
    np.random.seed(3)
    a = make(seed=None, validation_split=0.3).validation_indices
    np.random.seed(3)
    np.testing.assert_array_equal(a, make(seed=None, validation_split=0.3).validation_indices)


def test_given_validation_data_is_used_as_it_is(backend):
    xv, tv = blobs(7, seed=9)
    tr = make(x_val=xv, t_val=tv)
    assert tr.x_val is xv and tr.t_val is tv and tr.validation_indices is None and tr.train_size == 50
    tr.train()
    net = tr.network
    assert tr.history["val_acc"][-1] == net.accuracy(xv, tv)
    assert tr.history["val_loss"][-1] == pytest.approx(net.loss(xv, tv), rel=1e-6)


def test_validation_loss_is_the_mean_over_batches(backend):
    tr = make(x_val=blobs(250, seed=4)[0], t_val=blobs(250, seed=4)[1])
    whole = tr.network.loss(tr.x_val, tr.t_val)
    assert validation.validation_loss(tr.network, tr.x_val, tr.t_val, batch_size=100) == pytest.approx(whole, rel=1e-6)
    assert validation.validation_loss(tr.network, tr.x_val, tr.t_val, batch_size=7) == pytest.approx(whole, rel=1e-6)


@pytest.mark.parametrize("kw, error, message", [
    ({"validation_split": 0}, ValueError, "strictly between 0 and 1"),
    ({"validation_split": 1.0}, ValueError, "strictly between 0 and 1"),
    ({"validation_split": -0.2}, ValueError, "strictly between 0 and 1"),
    ({"validation_split": "0.2"}, TypeError, "real number"),
    ({"validation_split": 0.01}, ValueError, "leaves 0 for validation"),
    ({"validation_split": 0.2, "x_val": np.zeros((2, 2)), "t_val": np.zeros(2, int)}, ValueError, "not both"),
    ({"x_val": np.zeros((2, 2))}, ValueError, "both x_val and t_val"),
    ({"x_val": np.zeros((2, 2)), "t_val": np.zeros(3, int)}, ValueError, "differ in length"),
    ({"x_val": np.zeros((0, 2)), "t_val": np.zeros(0, int)}, ValueError, "empty"),
])
def test_bad_validation_arguments(kw, error, message):
    with pytest.raises(error, match=message):
        make(**kw)


# ---------------------------------------------------------------- history


def test_history_without_validation_data(backend):
    tr = make(n=45, epochs=3, batch=10, optimizer="sgd", optimizer_param={"lr": 0.2}, lr_schedule=StepDecay(1, 0.5))
    tr.train()
    h = tr.history
    assert list(h) == ["epoch", "train_loss", "train_acc", "test_acc", "lr", "seconds"]
    assert all(len(v) == 3 for v in h.values())
    assert h["epoch"] == [1, 2, 3]
    steps = tr.iter_per_epoch
    assert h["train_loss"] == [pytest.approx(np.mean(tr.train_loss_list[e * steps:(e + 1) * steps])) for e in range(3)]
    assert h["train_acc"] == tr.train_acc_list and h["test_acc"] == tr.test_acc_list
    assert h["lr"] == [0.2, 0.1, 0.05] and h["seconds"] == tr.epoch_times
    assert len(tr.train_loss_list) == tr.max_iter  # the book's lists keep their meaning


def test_history_with_validation_data_and_the_books_lines(backend, capsys):
    tr = make(validation_split=0.2, verbose=True)
    tr.train()
    h = tr.history
    assert list(h) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_acc", "lr", "seconds"]
    assert len(h["val_loss"]) == len(h["val_acc"]) == 2
    assert h["val_acc"][-1] == tr.network.accuracy(tr.x_val, tr.t_val)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"=== epoch:1, train acc:{h['train_acc'][0]}, test acc:{h['test_acc'][0]}, "
                        f"val loss:{h['val_loss'][0]}, val acc:{h['val_acc'][0]} ===")
    assert lines[-2:] == ["=============== Final Test Accuracy ===============", f"test acc:{tr.final_test_acc}"]


def test_history_path_is_written_after_every_epoch(backend, tmp_path: Path):
    path = tmp_path / "history.json"
    seen = []
    tr = make(epochs=3, history_path=path, callbacks=[
        lambda trainer, logs: seen.append(json.loads(path.read_text())["epoch"] if path.exists() else None)])
    tr.train()
    assert seen == [None, [1], [1, 2]]  # callbacks run before the epoch's file is written
    assert json.loads(path.read_text()) == tr.history
    assert not [p for p in tmp_path.iterdir() if p.name != "history.json"]  # no temporary files left


def test_save_history_writes_standard_json(tmp_path: Path):
    tr = make(epochs=1)
    tr.train()
    assert tr.save_history(tmp_path / "h.json") == tmp_path / "h.json"
    assert json.loads((tmp_path / "h.json").read_text()) == tr.history
    write_history(tmp_path / "nan.json", {"train_loss": [1.0, math.nan, math.inf], "lr": [None, 0.1, 0.1]})
    text = (tmp_path / "nan.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"train_loss": [1.0, None, None], "lr": [None, 0.1, 0.1]}


def test_history_path_in_a_missing_directory_fails_before_training(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        make(history_path=tmp_path / "nowhere" / "h.json")
