"""The book's experiments (ferronet.experiments) at tiny sizes, from Python and from ``ferronet experiment``:
each writes its PNGs and its JSON summary; bad names and options are one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from ferronet.cli import main
from ferronet.experiments import EXPERIMENTS, get_experiment, run_experiment
from ferronet.experiments.optimizers import NAIVE_LEARNING_RATES, optimizer_path
from ferronet.optimizers import get_optimizer

#: Each experiment at a size that runs in a second or two on the tiny data set, and the figures it draws.
TINY = {
    "optimizers": ({"iterations": 3}, ["paths", "loss"]),
    "weight-init": ({"samples": 20, "iterations": 3}, ["activations", "loss"]),
    "batchnorm": ({"epochs": 2, "train_samples": 40, "weight_scales": 2}, ["accuracy", "final-accuracy"]),
    "overfit": ({"epochs": 2, "train_samples": 40, "test_samples": 20}, ["accuracy"]),
    "hyperparameters": ({"trials": 3, "epochs": 2, "train_samples": 50}, ["best-trials", "search"]),
    "filters": ({"epochs": 1, "train_samples": 40}, ["filters", "curves"]),
    "misclassified": ({"epochs": 1, "train_samples": 40, "test_samples": 30},
                      ["misclassified", "confusion", "curves"]),
    "half-float": ({"epochs": 1, "train_samples": 40, "test_samples": 30}, ["accuracy"]),
}


def test_every_experiment_has_a_tiny_size() -> None:
    assert list(TINY) == list(EXPERIMENTS)  # the book's order


@pytest.mark.parametrize("name", list(TINY))
def test_experiment_writes_its_figures_and_summary(name: str, tiny_fashion, tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    sizes, stems = TINY[name]
    summary = run_experiment(name, tmp_path / "out", seed=3, sizes=sizes)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{name}-{s}.png" for s in stems] + [f"{name}.json"])
    for stem in stems:
        assert (out / f"{name}-{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = json.loads((out / f"{name}.json").read_text())
    assert written == json.loads(json.dumps(summary))
    assert written["experiment"] == name and written["seed"] == 3 and written["data"] == "fashion-mnist"
    assert written["sizes"] == {**get_experiment(name).resolve_sizes(), **sizes}
    assert written["figures"] == [f"{name}-{s}.png" for s in stems]
    assert written["seconds"] > 0 and written["results"]
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith(f"{name}: ") for line in lines)
    assert lines[-1].startswith(f"{name}: wrote {len(stems)} figures and {name}.json to ")


def test_experiment_results_say_what_the_figures_show(tiny_fashion, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    init = run_experiment("weight-init", tmp_path, sizes={"samples": 200, "iterations": 2})["results"]
    relu_small, relu_he = init["activations"]["ReLU, std 0.01"], init["activations"]["ReLU, He"]
    assert relu_small["layer 5"]["std"] < 1e-4 < 0.3 < relu_he["layer 5"]["std"]  # vanished vs kept
    assert init["activations"]["sigmoid, std 1"]["layer 1"]["saturated"] > 0.5
    results = run_experiment("half-float", tmp_path, sizes=TINY["half-float"][0])["results"]
    assert set(results["test_acc"]) == {"float64", "float32", "float16"}
    assert results["max_probability_difference"]["float32"] < 1e-5 < results["max_probability_difference"]["float16"]


def test_optimizer_paths_follow_the_book() -> None:
    paths = {name: np.array(optimizer_path(get_optimizer(name, lr=lr))) for name, lr in NAIVE_LEARNING_RATES.items()}
    for name, p in paths.items():
        assert p.shape == (31, 2) and tuple(p[0]) == (-7.0, 2.0)
        assert p[-1, 0] ** 2 / 20 + p[-1, 1] ** 2 < 0.2, name  # each gets close to the minimum
    sgd_y = paths["SGD"][:, 1]
    assert np.all(np.sign(sgd_y[1:]) != np.sign(sgd_y[:-1]))  # SGD zigzags across y at every step


def test_sizes_scale_and_can_be_set() -> None:
    overfit = get_experiment("overfit")
    assert overfit.resolve_sizes() == {"epochs": 200, "train_samples": 300, "test_samples": 10000}
    assert overfit.resolve_sizes(0.1, {"test_samples": 50}) == {"epochs": 20, "train_samples": 300, "test_samples": 50}
    assert get_experiment("batchnorm").resolve_sizes(0.001)["weight_scales"] == 1  # at least 1
    with pytest.raises(ValueError, match=r"--trials does not apply to overfit \(its sizes: --epochs, "):
        overfit.resolve_sizes(1.0, {"trials": 3})
    with pytest.raises(ValueError, match=r"--epochs must be a whole number >= 1, got 0"):
        overfit.resolve_sizes(1.0, {"epochs": 0})
    with pytest.raises(ValueError, match="unknown experiment 'nope'; choose one of optimizers, weight-init"):
        get_experiment("nope")


# ---------------------------------------------------------------------- the command


def test_cli_runs_an_experiment(tiny_fashion, tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "figures"
    assert main(["experiment", "overfit", "--out", str(out), "--seed", "1", "--threads", "1", "--epochs", "2",
                 "--train-samples", "30", "--test-samples", "20"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["overfit-accuracy.png", "overfit.json"]
    summary = json.loads((out / "overfit.json").read_text())
    assert summary["sizes"] == {"epochs": 2, "train_samples": 30, "test_samples": 20} and summary["seed"] == 1
    assert summary["environment"]["threads"] == 1
    assert "overfit: wrote 1 figures" in capsys.readouterr().out


def test_cli_scale_shrinks_the_default_sizes(tiny_fashion, tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    assert main(["experiment", "optimizers", "--out", str(tmp_path), "--scale", "0.002"]) == 0
    assert json.loads((tmp_path / "optimizers.json").read_text())["sizes"] == {"iterations": 4}


def test_cli_lists_the_experiments(capsys) -> None:
    assert main(["experiment", "--list"]) == 0
    out = capsys.readouterr().out
    for name, experiment in EXPERIMENTS.items():
        assert f"{name} (chapter {experiment.chapter}): " in out
    assert "    --iterations 2000: " in out and "--train-samples 300: training images (the book's 300) (not scaled)" in out


@pytest.mark.parametrize("argv, message", [
    (["nope"], "error: unknown experiment 'nope'; choose one of optimizers, "),
    ([], "error: name an experiment (one of: optimizers, "),
    (["optimizers", "--trials", "3"], "error: --trials does not apply to optimizers (its sizes: --iterations)"),
    (["optimizers", "--seed", "x"], "error: argument --seed: invalid int value: 'x'"),
    (["optimizers", "--iterations", "0"], "error: argument --iterations: must be at least 1, got 0"),
    (["optimizers", "--scale", "-1"], "error: argument --scale: must be a number > 0, got -1"),
    (["optimizers", "--data", "cifar"], "error: argument --data: invalid choice: 'cifar'"),
])
def test_cli_bad_input_is_one_line(argv: list[str], message: str, capsys) -> None:
    try:
        code = main(["experiment", *argv])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1, captured.err
    assert captured.err.startswith(f"ferronet experiment: {message}"), captured.err


def test_cli_without_the_data_set_or_matplotlib(tiny_fashion, tmp_path: Path, monkeypatch, capsys) -> None:
    pytest.importorskip("matplotlib")
    assert main(["experiment", "optimizers", "--out", str(tmp_path), "--data", "mnist", "--data-path",
                 str(tmp_path / "no-mnist"), "--no-download"]) == 1
    err = capsys.readouterr().err  # the loader's message, as ferronet train gives it: where it looked, how to get it
    assert err.startswith("ferronet experiment: MNIST not found") and str(tmp_path / "no-mnist") in err
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    assert main(["experiment", "optimizers", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "pip install 'ferronet[plot]'" in err
    assert not (tmp_path / "optimizers.json").exists()


def test_cli_reads_mnist_from_local_files(book_mnist, tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    assert main(["experiment", "misclassified", "--out", str(tmp_path), "--data", "mnist", "--data-path",
                 str(book_mnist), "--epochs", "1", "--train-samples", "100", "--test-samples", "40"]) == 0
    summary = json.loads((tmp_path / "misclassified.json").read_text())
    assert summary["data"] == "mnist" and summary["results"]["test_samples"] == 40
    assert set(summary["results"]["class_accuracy"]) <= set("0123456789")
