"""The accuracy recipes of the README (``ferronet train`` with ``--augment``, ``--schedule``, ``--hidden``,
``--batchnorm``, ...) and their options.

The recipe tests run a short version of each README recipe (the same options, a few thousand
training images, 1-2 epochs, 2 threads) on the real Fashion-MNIST and are skipped without it.
Their thresholds sit well below what the short recipes reach on the whole test set and far above
what a network that does not learn (10%), or learns from wrongly augmented images, would score.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import ferronet
from ferronet.cli import build_parser, main
from ferronet.datasets.fashion_mnist import DEBIAN_DIR

FINAL = re.compile(r"^(?P<model>[a-z-]+): test accuracy (?P<acc>\d+\.\d\d)% \((?P<n>\d+) test images\)")

needs_fashion = pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason=f"Fashion-MNIST not installed in {DEBIAN_DIR}")


def _accuracy(out: str) -> float:
    match = FINAL.match(out.rstrip("\n").splitlines()[-1])
    assert match and match["n"] == "10000", out
    return float(match["acc"])


@pytest.fixture
def real_fashion(monkeypatch: pytest.MonkeyPatch):
    """The installed Fashion-MNIST, never a download; the native thread count restored afterwards."""
    monkeypatch.setenv("FERRONET_FASHION_MNIST_DIR", str(DEBIAN_DIR))
    monkeypatch.setenv("FERRONET_OFFLINE", "1")
    threads = ferronet.get_num_threads()
    yield DEBIAN_DIR
    ferronet.set_num_threads(threads)


#: (README recipe options, shortened: training images, epochs; accuracy threshold in %).
#: Measured (seed 0, 2 threads): mlp-extend 83.0%, simple-convnet 79.1%, deep-convnet --batchnorm 74.7%;
#: a network that does not learn scores about 10%.
SHORT_RECIPES = {
    "mlp": (["mlp-extend", "--hidden", "1024,512", "--dropout", "0.3", "--augment", "flip",
             "--schedule", "cosine", "--warmup-epochs", "1"], 10000, 2, 76.0),
    "simple-convnet": (["simple-convnet", "--augment", "shift-flip", "--schedule", "cosine",
                        "--warmup-epochs", "1"], 6000, 2, 72.0),
    "deep-convnet": (["deep-convnet", "--batchnorm", "--dropout", "0", "--augment", "shift-flip", "--optimizer",
                      "momentum", "--lr", "0.1", "--weight-decay", "5e-4", "--label-smoothing", "0.1", "--schedule",
                      "cosine", "--warmup-epochs", "1", "--tta"], 6000, 2, 70.0),
}


@needs_fashion
@pytest.mark.parametrize("recipe", list(SHORT_RECIPES))
def test_short_recipe_learns(recipe: str, real_fashion, capsys: pytest.CaptureFixture[str]) -> None:
    options, images, epochs, threshold = SHORT_RECIPES[recipe]
    code = main(["train", *options, "--train-samples", str(images), "--epochs", str(epochs), "--seed", "0",
                 "--threads", "2", "--backend", "native" if ferronet.native_available() else "numpy",
                 "--eval-samples", "500", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert _accuracy(out) >= threshold, out


# ---------------------------------------------------------------------- the options, on tiny data


def test_recipe_options_reach_the_trainer_and_the_network(tiny_fashion, tmp_path: Path, capsys) -> None:
    save = tmp_path / "mlp.npz"
    assert main(["train", "mlp-extend", "--hidden", "32,16,8", "--dropout", "0.2", "--augment", "standard",
                 "--schedule", "cosine", "--warmup-epochs", "1", "--weight-decay", "1e-4", "--label-smoothing", "0.1",
                 "--epochs", "3", "--batch-size", "40", "--quiet", "--save", str(save)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "MultiLayerNetExtend 784-32-16-8-10 with BatchNorm, dropout 0.2" in first
    assert "augment standard, cosine schedule (1 warm-up epoch), weight decay 0.0001, label smoothing 0.1" in first
    net = ferronet.load(save)
    assert [net.params[f"W{i}"].shape for i in (1, 2, 3, 4)] == [(784, 32), (32, 16), (16, 8), (8, 10)]
    assert net.weight_decay_lambda == pytest.approx(1e-4)
    assert net.last_layer.label_smoothing == pytest.approx(0.1)


@pytest.mark.parametrize("augment", ["none", "flip", "shift-flip", "standard"])
@pytest.mark.parametrize("model", ["mlp", "simple-convnet"])
def test_each_augment_preset_trains_flat_and_image_inputs(augment: str, model: str, tiny_fashion, capsys) -> None:
    assert main(["train", model, "--augment", augment, "--schedule", "step", "--epochs", "1", "--batch-size", "40",
                 "--quiet", "--threads", "1"]) == 0
    assert "test accuracy" in capsys.readouterr().out.splitlines()[-1]


def test_deep_convnet_batchnorm_saves_exports_and_loads(tiny_fashion, tmp_path: Path, capsys) -> None:
    save = tmp_path / "deep.npz"
    assert main(["train", "deep-convnet", "--batchnorm", "--dropout", "0.2", "--epochs", "1", "--batch-size", "40",
                 "--quiet", "--save", str(save)]) == 0
    out = capsys.readouterr().out
    assert "(6 conv 3x3, 3 pools, 50, dropout 0.2, 10), BatchNorm after each conv)" in out.splitlines()[0]
    net = ferronet.load(save)
    assert [net.layers[f"Dropout{i}"].dropout_ratio for i in (1, 2)] == [0.2, 0.2]
    assert net.batchnorm and [f"BatchNorm{i}" for i in range(1, 7)] == [n for n in net.layers.keys()
                                                                          if n.startswith("BatchNorm")]
    assert net.params["gamma3"].shape == (32,) and net.params["beta6"].shape == (64,)
    x = np.random.default_rng(0).random((3, 1, 28, 28), dtype=np.float32)
    with np.load(save) as saved:
        assert {"BatchNorm1.running_mean", "BatchNorm6.running_var"} <= set(saved.files)
    pytest.importorskip("onnxruntime")
    assert main(["export", str(save), "--onnx", str(tmp_path / "deep.onnx")]) == 0
    assert "checked in ONNX Runtime" in capsys.readouterr().out
    assert net.predict(x, train_flg=False).shape == (3, 10)


def test_tta_reports_the_mirror_averaged_accuracy_before_the_final_line(tiny_fashion, tmp_path: Path,
                                                                        capsys) -> None:
    from ferronet.augment import mirror_averaged_accuracy
    from ferronet.cli.train import load_data

    save = tmp_path / "simple.npz"
    assert main(["train", "simple-convnet", "--augment", "flip", "--tta", "--epochs", "1", "--batch-size", "40",
                 "--quiet", "--save", str(save)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("simple-convnet: test accuracy ")
    tta = [line for line in lines if line.startswith("test accuracy with each image averaged with its mirror")]
    assert len(tta) == 1 and tta[0].endswith("(50 test images)"), lines
    _, _, xt, tt = load_data("fashion-mnist", True, np.float32, download=False)
    assert f"{100 * mirror_averaged_accuracy(ferronet.load(save), xt, tt):.2f}%" in tta[0]


def test_deep_convnet_default_is_the_books() -> None:
    """batchnorm=False (the default) keeps the book's layers, parameters and weights: old weight files load."""
    from ferronet.networks import DeepConvNet

    book, explicit = DeepConvNet(seed=3), DeepConvNet(seed=3, batchnorm=False)
    assert list(book.layers.keys())[:3] == ["Conv1", "Relu1", "Conv2"] and len(book.layers) == 20
    assert sorted(book.params) == sorted([f"W{i}" for i in range(1, 9)] + [f"b{i}" for i in range(1, 9)])
    for name in book.params:
        np.testing.assert_array_equal(book.params[name], explicit.params[name])
    with_bn = DeepConvNet(seed=3, batchnorm=True)
    assert len(with_bn.layers) == 26 and list(with_bn.layers.keys())[:3] == ["Conv1", "BatchNorm1", "Relu1"]
    for i in range(1, 9):  # the same random draws for the weights
        np.testing.assert_array_equal(book.params[f"W{i}"], with_bn.params[f"W{i}"])


@pytest.mark.parametrize("bad, message", [
    (["mlp", "--hidden", "0,10"], "argument --hidden: layer sizes must be at least 1"),
    (["mlp", "--hidden", "512;256"], "argument --hidden: expected comma-separated layer sizes"),
    (["mlp", "--augment", "mixup"], "argument --augment: invalid choice: 'mixup'"),
    (["mlp", "--schedule", "linear"], "argument --schedule: invalid choice: 'linear'"),
    (["mlp", "--warmup-epochs", "-1"], "argument --warmup-epochs: must be at least 0"),
    (["mlp", "--weight-decay", "-0.1"], "argument --weight-decay: must be a finite number >= 0"),
    (["mlp", "--weight-decay", "inf"], "argument --weight-decay: must be a finite number >= 0"),
    (["mlp", "--label-smoothing", "1"], "argument --label-smoothing: must be below 1, got 1"),
    (["mlp", "--label-smoothing", "-0.1"], "argument --label-smoothing: must be a finite number >= 0"),
    (["mlp", "--lr", "0"], "argument --lr: must be a finite number > 0"),
    (["mlp", "--lr", "fast"], "argument --lr: expected a number"),
])
def test_bad_recipe_values_are_one_line_usage_errors(bad: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train", *bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("ferronet train: error: ") and message in err.splitlines()[-1], err
    assert "Traceback" not in err


@pytest.mark.parametrize("bad, message", [
    (["simple-convnet", "--hidden", "64"], "--hidden sets the hidden layers of mlp and mlp-extend, not simple-convnet"),
    (["mlp-extend", "--batchnorm"], "--batchnorm is an option of deep-convnet, not mlp-extend"),
    (["mlp", "--dropout", "0.2"], "--dropout sets the dropout of mlp-extend and deep-convnet, not mlp"),
    (["mlp", "--warmup-epochs", "1"], "--warmup-epochs needs --schedule cosine"),
    (["mlp-extend", "--tta"], "--tta mirrors images: an option of simple-convnet and deep-convnet, not mlp-extend"),
    (["mlp", "--schedule", "cosine", "--warmup-epochs", "3", "--epochs", "3"],
     "--warmup-epochs (3) must be smaller than --epochs (3)"),
])
def test_options_that_do_not_fit_are_one_line_errors(bad: list[str], message: str, capsys) -> None:
    assert main(["train", *bad, "--no-download"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"ferronet train: {message}"), captured.err
    assert len(captured.err.splitlines()) == 1


def test_recipe_defaults_change_nothing() -> None:
    args = build_parser().parse_args(["train", "mlp"])
    assert (args.augment, args.schedule, args.warmup_epochs, args.weight_decay, args.hidden, args.batchnorm,
            args.dropout, args.label_smoothing, args.tta) == ("none", "none", 0, 0.0, None, False, None, 0.0, False)
    from ferronet.cli.train import MODELS

    deep = MODELS["deep-convnet"].build((1, 28, 28), np.float32, 0, args)
    assert [deep.layers[f"Dropout{i}"].dropout_ratio for i in (1, 2)] == [0.5, 0.5] and not deep.batchnorm


def test_schedules_count_iterations_with_warm_up() -> None:
    from types import SimpleNamespace

    from ferronet.cli.recipes import attach_schedule

    trainer = SimpleNamespace(iter_per_epoch=10, max_iter=50, lr_schedule=None, lr_schedule_per="epoch")
    attach_schedule(trainer, SimpleNamespace(schedule="cosine", warmup_epochs=1))
    s = trainer.lr_schedule
    assert trainer.lr_schedule_per == "iteration" and (s.total_steps, s.warmup_steps) == (50, 10)
    assert s(0) == pytest.approx(0.1) and s(9) == 1.0 and s(10) == 1.0 and s(30) == pytest.approx(0.5)
    assert s(49) < 0.01
    attach_schedule(trainer, SimpleNamespace(schedule="step", warmup_epochs=0))
    assert trainer.lr_schedule(16) == 1.0 and trainer.lr_schedule(17) == pytest.approx(0.1)
    attach_schedule(trainer, SimpleNamespace(schedule="none", warmup_epochs=0))
    assert trainer.lr_schedule is None


def test_resume_continues_the_schedule_and_augmentation(tiny_fashion, tmp_path: Path, monkeypatch, capsys) -> None:
    """A run with --schedule and --augment stopped after its first epoch and resumed ends on the weights of
    the uninterrupted run, bit for bit."""
    import ferronet.trainer

    common = ["train", "mlp-extend", "--hidden", "16", "--batch-size", "40", "--threads", "1", "--quiet",
              "--augment", "standard", "--schedule", "cosine", "--warmup-epochs", "1", "--epochs", "3"]
    assert main([*common, "--checkpoint", str(tmp_path / "full")]) == 0

    class StopsAfterOneEpoch(ferronet.trainer.Trainer):  # as if killed after the first epoch's checkpoint
        def _end_epoch(self) -> None:
            super()._end_epoch()
            self.stop_training = True

    with monkeypatch.context() as patch:
        patch.setattr(ferronet.trainer, "Trainer", StopsAfterOneEpoch)
        assert main([*common, "--checkpoint", str(tmp_path / "cut")]) == 0
    assert main([*common, "--resume", str(tmp_path / "cut")]) == 0
    outs = capsys.readouterr().out.split("Training ")[1:]
    assert "(mean of 1," in outs[1] and "(mean of 3," in outs[2]
    with np.load(tmp_path / "full-last.npz") as full, np.load(tmp_path / "cut-last.npz") as resumed:
        for name in full.files:
            np.testing.assert_array_equal(resumed[name], full[name])
