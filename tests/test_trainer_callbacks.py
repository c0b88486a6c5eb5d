"""The Trainer's callbacks, early stopping, augmentation and gradient clipping."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from ferronet.training import validation
from ferronet.training.callbacks import Callback
from ferronet.training.early_stopping import EarlyStopping
from ferronet.networks import SimpleConvNet, TwoLayerNet
from ferronet.optimizers import SGD
from ferronet.trainer import Trainer


def blobs(n, seed, classes=3, dim=2):
    gen = np.random.default_rng(seed)
    t = gen.integers(0, classes, size=n).astype(np.uint8)
    x = (4.0 * np.eye(classes, dim)[t] + gen.standard_normal((n, dim))).astype(np.float32)
    return x, t


def make(n=40, epochs=3, batch=10, seed=0, **kw):
    x, t = blobs(n, seed=1)
    xt, tt = blobs(20, seed=2)
    kw.setdefault("verbose", False)
    net = TwoLayerNet(2, 6, 3, weight_init_std=0.5, seed=0)
    return Trainer(net, x, t, xt, tt, epochs=epochs, mini_batch_size=batch, seed=seed, **kw)


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, trainer, logs):
        self.calls.append(("begin", trainer.current_iter, dict(logs)))

    def on_epoch_end(self, trainer, logs):
        self.calls.append(("epoch", trainer.current_iter, dict(logs)))

    def on_train_end(self, trainer, logs):
        self.calls.append(("end", trainer.current_iter, dict(logs)))


# ---------------------------------------------------------------- callbacks


def test_callbacks_see_the_training_in_order(backend):
    rec, epochs_seen = Recorder(), []
    tr = make(callbacks=[rec, lambda trainer, logs: epochs_seen.append((trainer, logs["epoch"]))])
    tr.train()
    assert [c[:2] for c in rec.calls] == [("begin", 0), ("epoch", 4), ("epoch", 8), ("epoch", 12), ("end", 12)]
    assert rec.calls[0][2] == {}
    for e, (_, _, logs) in enumerate(rec.calls[1:4]):
        assert logs == {key: values[e] for key, values in tr.history.items()}
    assert rec.calls[-1][2] == rec.calls[-2][2]  # the last epoch's entry
    assert epochs_seen == [(tr, 1), (tr, 2), (tr, 3)]


def test_on_epoch_end_runs_when_train_step_is_called_by_hand(backend):
    rec = Recorder()
    tr = make(callbacks=[rec])
    for _ in range(tr.max_iter):
        tr.train_step()
    assert [c[0] for c in rec.calls] == ["epoch"] * 3


def test_returning_false_stops_after_that_epoch(backend):
    tr = make(epochs=5, callbacks=[lambda trainer, logs: False if logs["epoch"] == 2 else None])
    tr.train()
    assert tr.stop_training and tr.current_epoch == 2 and tr.current_iter == 8 and tr.max_iter == 20
    assert len(tr.train_loss_list) == 8 and len(tr.test_acc_list) == len(tr.history["epoch"]) == 2
    assert tr.final_test_acc == tr.network.accuracy(tr.x_test, tr.t_test)
    tr.train()  # the request stays: nothing more
    assert tr.current_iter == 8


def test_stop_training_is_honoured_after_the_current_step(backend):
    tr = make(epochs=5)
    original = tr.network.loss_and_gradient

    def stop_at_six(x, t):
        if tr.current_iter == 5:
            tr.stop_training = True  # e.g. from another thread or a signal handler
        return original(x, t)

    tr.network.loss_and_gradient = stop_at_six
    tr.train()
    assert tr.current_iter == 6 and tr.current_epoch == 1  # mid-epoch: the partial epoch is not evaluated
    tr.stop_training = False  # set back: training goes on to the end
    tr.train()
    assert tr.current_iter == tr.max_iter == 20 and tr.current_epoch == 5


def test_truthy_returns_do_not_stop(backend):
    tr = make(callbacks=[lambda trainer, logs: 0, lambda trainer, logs: True])
    tr.train()
    assert tr.current_epoch == 3 and not tr.stop_training


@pytest.mark.parametrize("bad, error", [([42], TypeError), ([object()], TypeError), ("on_epoch_end", TypeError)])
def test_bad_callbacks(bad, error):
    with pytest.raises(error, match="callback"):
        make(callbacks=bad)


# ---------------------------------------------------------------- early stopping


def fake_trainer():
    return SimpleNamespace(current_iter=0, network=TwoLayerNet(2, 3, 2, seed=0), message=lambda text: None)


@pytest.mark.parametrize("monitor, values, patience, min_delta, stop_epoch, best_epoch", [
    ("val_loss", [1.0, 0.5, 0.6, 0.4, 0.45, 0.5, 0.7], 2, 0.0, 6, 4),
    ("val_loss", [1.0, 0.5, 0.49, 0.48, 0.47], 2, 0.05, 4, 2),  # changes of 0.01 are no improvement
    ("val_acc", [0.5, 0.7, 0.7, 0.69], 2, 0.0, 4, 2),  # equal is no improvement
    ("val_loss", [math.nan, 1.0, math.nan, math.nan], 2, 0.0, 4, 2),  # NaN never improves
    ("val_acc", [0.1, 0.2, 0.3, 0.4], 1, 0.0, None, 4),
])
def test_early_stopping_rule(monitor, values, patience, min_delta, stop_epoch, best_epoch):
    es, tr = EarlyStopping(patience, monitor, min_delta), fake_trainer()
    es.on_train_begin(tr, {})
    stopped = None
    for epoch, value in enumerate(values, start=1):
        if es.on_epoch_end(tr, {"epoch": epoch, monitor: value}) is False:
            stopped = epoch
            break
    assert stopped == es.stopped_epoch == stop_epoch
    assert es.best_epoch == best_epoch


def scripted_val_loss(monkeypatch, values):
    """Make the Trainer's validation loss follow ``values``, one per epoch."""
    it = iter(values)
    monkeypatch.setattr(validation, "validation_loss", lambda *a, **k: next(it))


def test_early_stopping_stops_and_restores_the_best_weights(backend, monkeypatch):
    scripted_val_loss(monkeypatch, [1.0, 0.5, 0.6, 0.4, 0.45, 0.5, 0.7, 0.1, 0.1, 0.1])
    weights = []

    def keep(trainer, logs):
        weights.append({k: v.copy() for k, v in trainer.network.params.items()})

    tr = make(epochs=10, validation_split=0.25, early_stopping=2, callbacks=[keep])
    tr.train()
    es = tr.early_stopping
    assert isinstance(es, EarlyStopping) and es.monitor == "val_loss" and es.patience == 2
    assert tr.current_epoch == 6 and es.stopped_epoch == 6 and es.best_epoch == 4 and es.best == 0.4
    assert tr.callbacks.callbacks[-1] is es  # appended after the given callbacks
    for k, v in tr.network.params.items():
        np.testing.assert_array_equal(v, weights[3][k])  # epoch 4's weights are back
    assert tr.final_test_acc == tr.network.accuracy(tr.x_test, tr.t_test)
    assert len(tr.test_acc_list) == len(tr.train_acc_list) == 6  # the book's lists: epochs trained


def test_early_stopping_can_keep_the_last_weights(backend, monkeypatch):
    scripted_val_loss(monkeypatch, [1.0, 2.0, 3.0])
    tr = make(epochs=5, validation_split=0.25, early_stopping={"patience": 2, "restore_best_weights": False})
    tr.train()
    last = {k: v.copy() for k, v in tr.network.params.items()}
    assert tr.current_epoch == 3
    for k, v in tr.network.params.items():
        np.testing.assert_array_equal(v, last[k])


def test_early_stopping_messages_when_verbose(backend, monkeypatch, capsys):
    scripted_val_loss(monkeypatch, [1.0, 2.0, 3.0])
    make(epochs=5, validation_split=0.25, early_stopping=2, verbose=True).train()
    out = capsys.readouterr().out
    assert "early stopping after epoch 3: val_loss has not improved for 2 epochs (best 1.0000 at epoch 1)" in out
    assert "restored the weights of epoch 1 (val_loss 1.0000)" in out


def test_early_stopping_on_val_acc_and_on_training_metrics(backend):
    tr = make(epochs=2, validation_split=0.25, early_stopping=EarlyStopping(3, monitor="val_acc"))
    tr.train()
    assert tr.early_stopping.best == max(tr.history["val_acc"])
    tr = make(epochs=2, early_stopping={"patience": 3, "monitor": "train_loss"})  # no validation needed
    tr.train()
    assert tr.early_stopping.best == min(tr.history["train_loss"])


@pytest.mark.parametrize("kw, error, message", [
    ({"early_stopping": 2}, ValueError, "needs validation data"),
    ({"early_stopping": 0, "validation_split": 0.2}, ValueError, "at least 1"),
    ({"early_stopping": 1.5, "validation_split": 0.2}, TypeError, "patience must be an int"),
    ({"early_stopping": True, "validation_split": 0.2}, TypeError, "not a bool"),
    ({"early_stopping": {"monitor": "val_f1"}, "validation_split": 0.2}, ValueError, "unknown metric"),
    ({"early_stopping": {"min_delta": -1}, "validation_split": 0.2}, ValueError, "min_delta"),
    ({"callbacks": [EarlyStopping()]}, ValueError, "needs validation data"),
])
def test_bad_early_stopping(kw, error, message):
    with pytest.raises(error, match=message):
        make(**kw)


# ---------------------------------------------------------------- augment


def test_augment_sees_each_training_batch_once_and_only_those(backend):
    calls = []

    def record(x_batch, rng):
        calls.append((x_batch.shape, x_batch.dtype, rng))
        return x_batch

    tr = make(n=25, epochs=2, batch=10, augment=record)
    tr.train()
    assert [c[0] for c in calls] == [(10, 2), (10, 2), (5, 2)] * 2  # training batches only, not evaluation
    assert all(dtype == np.float32 and rng is tr.rng for _, dtype, rng in calls)


def test_augment_changes_training_reproducibly_and_may_work_in_place(backend):
    def flip(x_batch, rng):
        x_batch *= np.where(rng.random(len(x_batch)) < 0.5, -1, 1).astype(x_batch.dtype)[:, None]
        return x_batch

    plain, a, b = make(), make(augment=flip), make(augment=flip)
    x_before = a.x_train.copy()
    for tr in (plain, a, b):
        tr.train()
    np.testing.assert_array_equal(a.x_train, x_before)  # the batch was a copy
    assert a.train_loss_list == b.train_loss_list != plain.train_loss_list


def test_augment_on_image_batches(backend):
    gen = np.random.default_rng(0)
    x = gen.standard_normal((12, 1, 6, 6)).astype(np.float32)
    t = gen.integers(0, 3, 12)
    shapes = []

    def mirror(x_batch, rng):
        shapes.append(x_batch.shape)
        return np.ascontiguousarray(x_batch[:, :, :, ::-1])  # N x C x H x W, flipped left-right

    net = SimpleConvNet(input_dim=(1, 6, 6), conv_param={"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1},
                        hidden_size=4, output_size=3, seed=0)
    Trainer(net, x, t, x, t, epochs=1, mini_batch_size=4, verbose=False, seed=0, augment=mirror).train()
    assert shapes == [(4, 1, 6, 6)] * 3


@pytest.mark.parametrize("result", [lambda x: x[:-1], lambda x: x.tolist(), lambda x: None])
def test_augment_must_return_the_batchs_shape(result):
    tr = make(augment=lambda x_batch, rng: result(x_batch))
    with pytest.raises(ValueError, match=r"augment must return an array of the batch's shape \(10, 2\)"):
        tr.train()


def test_augment_must_be_callable():
    with pytest.raises(TypeError, match="augment"):
        make(augment="flip")


# ---------------------------------------------------------------- clip_norm


def test_clip_norm_goes_to_the_optimizer(backend):
    named = make(optimizer="sgd", optimizer_param={"lr": 0.5}, clip_norm=0.1)
    given = make(optimizer=SGD(lr=0.5, clip_norm=0.1))
    by_object = make(optimizer=SGD(lr=0.5), clip_norm=0.1)
    for tr in (named, given, by_object):
        tr.train()
    assert named.optimizer.clip_norm == by_object.optimizer.clip_norm == 0.1
    assert named.optimizer.grad_norm is not None
    assert named.train_loss_list == given.train_loss_list == by_object.train_loss_list
    unclipped = make(optimizer="sgd", optimizer_param={"lr": 0.5})
    unclipped.train()
    assert unclipped.train_loss_list != named.train_loss_list


def test_bad_clip_norm():
    with pytest.raises(ValueError, match="clip_norm must be > 0"):
        make(clip_norm=0)
    with pytest.raises(ValueError, match="given twice"):
        make(optimizer_param={"lr": 0.1, "clip_norm": 1.0}, clip_norm=2.0)

    class BookSGD:
        lr = 0.1

        def update(self, params, grads):
            pass

    with pytest.raises(TypeError, match="clip_grads"):
        make(optimizer=BookSGD(), clip_norm=1.0)
