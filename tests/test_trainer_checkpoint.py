"""Checkpoints and resuming (ferronet.training.checkpoint, Trainer.state_dict): a killed run continues exactly."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import ferronet
from ferronet.training.checkpoint import CheckpointError, checkpoint_paths
from ferronet.networks import TwoLayerNet
from ferronet.networks.param_file import METADATA_MEMBER
from ferronet.training.state_file import read_state
from ferronet.trainer import Trainer
from resumable_run import BATCH, build_trainer, data, results

TESTS = Path(__file__).resolve().parent


def assert_same_results(a: dict, b: dict) -> None:
    assert a["arrays"].keys() == b["arrays"].keys()
    for name in a["arrays"]:
        np.testing.assert_array_equal(a["arrays"][name], b["arrays"][name], err_msg=name)
    for key in a:
        if key != "arrays":
            assert a[key] == b[key], key


def uninterrupted(seed, tmp_path: Path, global_seed=7, epochs=5) -> dict:
    if seed is None:
        np.random.seed(global_seed)
    trainer = build_trainer(seed, epochs, checkpoint=tmp_path / "full")
    trainer.train()
    return results(trainer)


# ---------------------------------------------------------------- the files


def test_checkpoint_writes_best_last_and_state(backend, tmp_path: Path):
    snapshots = []

    def keep(trainer, logs):
        snapshots.append({k: v.copy() for k, v in trainer.network.params.items()})

    trainer = build_trainer(3, 4, checkpoint=tmp_path / "run.npz", callbacks=[keep])  # ".npz" is dropped
    paths = checkpoint_paths(tmp_path / "run")
    assert [p.name for p in paths] == ["run-best.npz", "run-last.npz", "run-state.npz"]
    assert not any(p.exists() for p in paths)
    trainer.train()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-best.npz", "run-last.npz", "run-state.npz"]
    best_epoch = int(np.argmin(trainer.history["val_loss"]))  # the monitor: early stopping's val_loss
    assert trainer.checkpoint.best.metric == "val_loss" and trainer.checkpoint.best.epoch == best_epoch + 1
    net = build_trainer(3, 4).network
    net.load_params(paths.best)  # an ordinary weight file
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, snapshots[best_epoch][k])
    net.load_params(paths.last)
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, snapshots[-1][k])
    with np.load(paths.state, allow_pickle=False) as archive:  # no pickle anywhere
        assert "__state__" in archive.files
    state = read_state(paths.state)
    assert state["progress"]["current_iter"] == trainer.current_iter and state["progress"]["current_epoch"] == 4


def test_without_validation_the_best_is_by_test_accuracy(backend, tmp_path: Path):
    x, t, xt, tt = data()
    tr = Trainer(TwoLayerNet(6, 5, 3, seed=0), x, t, xt, tt, epochs=3, mini_batch_size=20, verbose=False, seed=0,
                 checkpoint=tmp_path / "c")
    tr.train()
    assert tr.checkpoint.best.metric == "test_acc"
    assert tr.checkpoint.best.best == max(tr.test_acc_list)
    assert tr.checkpoint.best.epoch == 1 + tr.test_acc_list.index(max(tr.test_acc_list))


def test_checkpoint_in_a_missing_directory_fails_before_training(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        build_trainer(0, checkpoint=tmp_path / "nowhere" / "ckpt")


def test_checkpoint_needs_an_optimizer_with_a_state_dict(tmp_path: Path):
    class BookSGD:
        lr = 0.01

        def update(self, params, grads):
            for k in params:
                params[k] -= self.lr * grads[k]

    x, t, xt, tt = data()
    with pytest.raises(TypeError, match="state_dict"):
        Trainer(TwoLayerNet(6, 5, 3), x, t, xt, tt, optimizer=BookSGD(), verbose=False, checkpoint=tmp_path / "c")


# ---------------------------------------------------------------- resuming in-process


@pytest.mark.parametrize("seed", [3, None], ids=["seed", "numpy-global"])
@pytest.mark.parametrize("stop_after", [2, 2.5], ids=["at-an-epoch", "mid-epoch"])
def test_resume_continues_exactly(backend, tmp_path: Path, seed, stop_after):
    expected = uninterrupted(seed, tmp_path)
    if seed is None:
        np.random.seed(7)
    build_trainer(seed, stop_after, checkpoint=tmp_path / "part").train()
    if seed is None:
        np.random.seed(12345)  # another global state: the checkpoint's is restored
    resumed = build_trainer(None if seed is None else 99, 5, resume=tmp_path / "part")  # another seed: ditto
    assert resumed.resumed_from == checkpoint_paths(tmp_path / "part").state
    assert resumed.current_iter == int(stop_after * 6) and resumed.current_epoch == 2
    resumed.train()
    assert_same_results(results(resumed), expected)
    with np.load(checkpoint_paths(tmp_path / "part").last) as last, np.load(tmp_path / "full-last.npz") as full:
        # resuming kept checkpointing to the same PATH: the same arrays (the description member records the
        # constructor arguments, and the resumed network was built with another seed)
        for k in full.files:
            if k != METADATA_MEMBER:
                np.testing.assert_array_equal(last[k], full[k])


def test_resume_a_seeded_trainer_with_unseeded_dropout(backend, tmp_path: Path):
    """The Trainer's generator is private, the dropout layers draw from NumPy's global one: both are saved."""
    from ferronet.networks import MultiLayerNetExtend

    def run(epochs, global_seed, **kw):
        np.random.seed(global_seed)
        x, t, xt, tt = data()
        net = MultiLayerNetExtend(6, [10], 3, use_dropout=True, dropout_ration=0.3, dtype=np.float32)
        tr = Trainer(net, x, t, xt, tt, epochs=epochs, mini_batch_size=BATCH, optimizer="momentum", seed=3,
                     verbose=False, **kw)
        tr.train()
        return results_of(tr)

    def results_of(tr):
        return {"params": {k: v.copy() for k, v in tr.network.params.items()}, "losses": tr.train_loss_list}

    full = run(3, 1, checkpoint=tmp_path / "full")
    run(1, 1, checkpoint=tmp_path / "part")
    resumed = run(3, 2, resume=tmp_path / "part")
    assert read_state(tmp_path / "part-state.npz")["random"]["numpy_global"] is not None
    assert resumed["losses"] == full["losses"]
    for k in full["params"]:
        np.testing.assert_array_equal(resumed["params"][k], full["params"][k])


def test_early_stopping_given_as_a_callback_picks_the_best_checkpoint(tmp_path: Path):
    from ferronet.training.early_stopping import EarlyStopping

    stopper = EarlyStopping(5, monitor="val_acc")
    tr = build_trainer(3, 1, checkpoint=tmp_path / "c", early_stopping=None, callbacks=[stopper])
    assert tr.early_stopping is stopper and tr.checkpoint.best.metric == "val_acc"


def test_resume_from_the_state_file_itself_and_of_a_finished_run(backend, tmp_path: Path):
    first = build_trainer(3, 3, checkpoint=tmp_path / "c")
    first.train()
    again = build_trainer(3, 3, resume=tmp_path / "c-state.npz")
    assert again.checkpoint.paths == checkpoint_paths(tmp_path / "c")
    assert again.current_iter == again.max_iter
    again.train()  # nothing left to train; early stopping restores the same best weights
    assert_same_results(results(again), results(first))


def test_resume_after_early_stopping_stays_stopped(backend, tmp_path: Path, monkeypatch):
    from ferronet.training import validation

    values = iter([1.0, 2.0, 3.0])
    monkeypatch.setattr(validation, "validation_loss", lambda *a, **k: next(values))
    first = build_trainer(3, 5, checkpoint=tmp_path / "c", early_stopping=2)
    first.train()
    assert first.stop_training and first.current_epoch == 3
    again = build_trainer(3, 5, resume=tmp_path / "c", early_stopping=2)
    assert again.stop_training and again.early_stopping.stopped_epoch == 3 and again.early_stopping.best_epoch == 1
    again.train()
    assert again.current_epoch == 3
    assert_same_results(results(again), results(first))


def test_epochs_may_grow_on_resume(backend, tmp_path: Path):
    build_trainer(3, 2, checkpoint=tmp_path / "c").train()
    longer = build_trainer(3, 4, resume=tmp_path / "c")
    longer.train()
    assert longer.current_epoch == 4 and len(longer.history["epoch"]) == 4


# ---------------------------------------------------------------- refusing a bad checkpoint


def params_of(trainer):
    return {k: v.copy() for k, v in trainer.network.params.items()}


def test_resume_from_a_missing_checkpoint(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=f"no checkpoint to resume from: {tmp_path / 'c-state.npz'}"):
        build_trainer(3, resume=tmp_path / "c")


@pytest.mark.parametrize("damage", ["truncate", "weights", "garbage", "not-a-trainer"])
def test_a_damaged_checkpoint_is_an_error_naming_the_file(tmp_path: Path, damage):
    trainer = build_trainer(3, 1, checkpoint=tmp_path / "c")
    trainer.train()
    state = checkpoint_paths(tmp_path / "c").state
    if damage == "truncate":
        state.write_bytes(state.read_bytes()[:2000])
    elif damage == "weights":
        state.write_bytes(checkpoint_paths(tmp_path / "c").last.read_bytes())
    elif damage == "garbage":
        state.write_bytes(b"\x80\x04 a pickle, never loaded")
    else:
        from ferronet.training.state_file import write_state

        write_state(state, {"kind": "something else"})
    with pytest.raises(CheckpointError, match=f"^{state}: "):
        build_trainer(3, resume=tmp_path / "c")


def _edit_state(path: Path, edit) -> None:
    from ferronet.training.state_file import write_state

    state = read_state(path)
    edit(state)
    write_state(path, state)


@pytest.mark.parametrize("change, message", [
    ({"hidden": [12]}, "does not match this network|do not match this network"),
    ({"optimizer": "sgd"}, "trained with Adam, this Trainer has SGD"),
    ({"batch": 10}, "batch size 16 in it, 10 here"),
    ({"validation_split": 0.5}, "validation samples 30 in it, 60 here"),
    ({"seed": None}, "seed setting|private"),
    ({"epochs": 1}, "past this run's"),
    ({"callbacks": 1}, "callbacks"),
    ({"edit": lambda s: s["progress"].pop("order")}, "damaged training state"),
    ({"edit": lambda s: s["network"]["arrays"].update(W1=np.zeros((2, 2), np.float32))}, "'W1' has shape"),
])
def test_a_mismatched_checkpoint_is_refused_and_changes_nothing(tmp_path: Path, change, message):
    build_trainer(3, 2, checkpoint=tmp_path / "c").train()
    if "edit" in change:
        _edit_state(checkpoint_paths(tmp_path / "c").state, change["edit"])
    x, t, xt, tt = data()
    from ferronet.networks import MultiLayerNetExtend

    net = MultiLayerNetExtend(6, change.get("hidden", [12, 12]), 3, use_dropout=True, dropout_ration=0.2,
                              use_batchnorm=True, dtype=np.float32, seed=change.get("seed", 3))
    before = {k: v.copy() for k, v in net.params.items()}
    kw = {"optimizer": change.get("optimizer", "adam"), "mini_batch_size": change.get("batch", BATCH),
          "validation_split": change.get("validation_split", 0.25), "epochs": change.get("epochs", 5),
          "seed": change.get("seed", 3), "early_stopping": {"patience": 50},
          "callbacks": [lambda tr, logs: None] * change.get("callbacks", 0)}
    with pytest.raises(CheckpointError, match=message) as exc:
        Trainer(net, x, t, xt, tt, verbose=False, resume=tmp_path / "c", **kw)
    assert str(exc.value).startswith(f"{checkpoint_paths(tmp_path / 'c').state}: ")
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k])


# ---------------------------------------------------------------- killing a child process


def _child(args: list[str]) -> list[str]:
    return [sys.executable, str(TESTS / "resumable_run.py"), *args]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(ferronet.__file__).resolve().parent.parent),
                                         env.get("PYTHONPATH", "")])
    return env


def _wait_for_line(proc: subprocess.Popen, wanted: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            line = proc.stdout.readline()
            if line.strip() == wanted:
                return
            if not line:
                break
    proc.kill()
    raise AssertionError(f"the child never printed {wanted!r}; stderr: {proc.stderr.read()}")


def _load(out: Path) -> dict:
    with np.load(f"{out}.npz", allow_pickle=False) as arrays:
        found = {"arrays": {k: arrays[k] for k in arrays.files}}
    found.update(json.loads(Path(f"{out}.json").read_text()))
    return found


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("seeds", [("--seed", "3", "5"), ("--global-seed", "7", "8")], ids=["seed", "numpy-global"])
def test_a_run_killed_mid_epoch_resumes_to_the_uninterrupted_result(tmp_path: Path, seeds):
    flag, seed, other_seed = seeds
    env = _child_env()
    ckpt = tmp_path / "killed"
    hang_at = 15  # during epoch 3 (6 steps per epoch): epoch 2's checkpoint is on disk
    proc = subprocess.Popen(_child([str(tmp_path / "unused"), "--checkpoint", str(ckpt), flag, seed,
                                    "--hang-at", str(hang_at)]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _wait_for_line(proc, "HANG", timeout=120)
        saved = read_state(checkpoint_paths(ckpt).state)["progress"]
        assert (saved["current_epoch"], saved["current_iter"]) == (2, 12)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert not Path(f"{tmp_path / 'unused'}.json").exists()

    # resumed with another seed value: everything comes from the checkpoint
    resumed = subprocess.run(_child([str(tmp_path / "resumed"), "--checkpoint", str(ckpt), "--resume", str(ckpt),
                                     flag, other_seed]), capture_output=True, text=True, env=env, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    full = subprocess.run(_child([str(tmp_path / "full"), "--checkpoint", str(tmp_path / "full"), flag, seed]),
                          capture_output=True, text=True, env=env, timeout=120)
    assert full.returncode == 0, full.stderr
    a, b = _load(tmp_path / "resumed"), _load(tmp_path / "full")
    assert_same_results(a, b)
    assert a["current_iter"] == 30 and len(a["history"]["epoch"]) == 5
