"""The ``ferronet`` command line and the benchmark harness behind ``ferronet bench``."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ferronet
from ferronet.datasets import fashion_mnist
from ferronet.bench import report, timing
from ferronet.cli import COMMANDS, build_parser, main

EXPECTED_GROUPS = {"copy", "matmul", "affine", "softmax_ce", "loss", "adam", "sgd", "update", "relu", "sigmoid",
                   "activation", "mlp_epoch", "im2col", "conv", "deep_conv_layer", "max_pool", "batchnorm", "dropout",
                   "simple_convnet", "deep_convnet", "augment", "beside_numpy", "two_processes", "inference"}
#: groups the NumPy backend does not run (native and PyTorch only; inference adds ONNX Runtime)
NATIVE_AND_TORCH_ONLY = {"beside_numpy", "two_processes", "inference"}


def test_subcommands_are_registered() -> None:
    assert {"info", "demo", "train", "experiment", "search", "export", "predict", "bench"} <= set(COMMANDS)
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([])  # a subcommand is required
    assert exc.value.code == 2


def test_info_prints_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    info = ferronet.build_info()
    assert f"ferronet {ferronet.__version__}" in out
    assert f"backend     : {ferronet.get_backend()}" in out
    assert ("loaded (version" in out) == info["native"]


def test_python_dash_m_runs_the_cli() -> None:
    root = Path(ferronet.__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "ferronet", "info"], capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "FERRONET_BACKEND": "numpy", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"ferronet {ferronet.__version__}")


@pytest.mark.parametrize("bad", ["0", "1,x", ""])
def test_bench_rejects_bad_thread_lists(bad: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--threads", bad])
    assert exc.value.code == 2
    assert "thread" in capsys.readouterr().err


@pytest.fixture(scope="module")
def quick_bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, str]:
    out = tmp_path_factory.mktemp("bench")
    json_path, md_path = out / "r.json", out / "sub" / "r.md"
    code = main(["bench", "--quick", "--threads", "1,2", "--no-torch", "--json", str(json_path),
                 "--markdown", str(md_path)])
    assert code == 0
    return json.loads(json_path.read_text()), md_path.read_text(), str(out)


def test_bench_json_has_every_case_at_every_thread_count(quick_bench) -> None:
    record, _, _ = quick_bench
    assert record["quick"] is True and record["threads"] == [1, 2]
    for n in (1, 2):
        groups = {e["group"] for e in record["results"] if e["threads"] == n}
        assert groups == EXPECTED_GROUPS
    # the square products and the three network-shaped ones, per thread count
    assert sum(e["group"] == "matmul" for e in record["results"]) == 2 * (2 + 3)


def test_bench_children_ran_with_their_thread_settings(quick_bench) -> None:
    record, _, _ = quick_bench
    assert [run["threads"] for run in record["runs"]] == [1, 2]
    for run in record["runs"]:
        n = str(run["threads"])
        assert run["env"] == {"OPENBLAS_NUM_THREADS": n, "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n}
        if run["ferronet"]["native"]:
            assert run["ferronet"]["num_threads"] == run["threads"]
        assert run["torch"]["version"] is None and "--no-torch" in run["torch"]["reason"]


def test_bench_times_native_at_1_and_2_threads_side_by_side(quick_bench) -> None:
    """Every case timed natively is timed again at both thread counts in one comparison (its BLAS at 2
    threads; the training processes started at each count); the thread-scaling rows use those figures."""
    record, _, _ = quick_bench
    if not any("native" in e["times"] for e in record["results"]):
        pytest.skip("the native core is not built")
    side = record["side_by_side"]
    assert side["threads"] == 2 and side["env"]["OPENBLAS_NUM_THREADS"] == "2"
    native_cases = {e["case"] for e in record["results"] if "native" in e["times"]}
    assert any(e["group"] == "two_processes" for e in record["results"] if e["case"] in native_cases)
    for n in (1, 2):
        assert {e["case"] for e in side["results"] if e["threads"] == n} == native_cases
    assert all(set(e["times"]) == {"native"} for e in side["results"])
    rows = [r for r in record["targets"] if r["target"].startswith("native at 2 threads never slower")]
    assert rows and all(row["figures"].startswith("side by side: ") for row in rows), rows


def test_bench_timings_rates_and_ratios_are_consistent(quick_bench) -> None:
    record, _, _ = quick_bench
    native = ferronet.native_available()
    for e in record["results"]:
        assert ("native" in e["times"]) == (native and e["group"] != "copy")
        assert "torch" not in e["times"]
        if e["group"] in NATIVE_AND_TORCH_ONLY:
            assert "numpy" not in e["times"]
            continue
        numpy_t = e["times"]["numpy"]
        assert 0 < numpy_t["min"] <= numpy_t["median"], e["case"]
        assert len(numpy_t["samples"]) >= 2
        if e["unit"]:
            assert e["rate"]["numpy"] == pytest.approx(e["work"] / numpy_t["median"] / 1e9)
        if native and "median" in e["times"].get("native", {}):
            assert e["ratios"]["numpy/native"] == pytest.approx(numpy_t["median"] / e["times"]["native"]["median"])
    matmul64 = next(e for e in record["results"] if e["case"] == "matmul 64")
    assert matmul64["work"] == 2 * 64**3 and matmul64["unit"] == "GFLOP/s"
    adam = next(e for e in record["results"] if e["group"] == "adam")
    assert adam["unit"] == "GB/s" and adam["work"] == 28 * 10**5
    epoch = next(e for e in record["results"] if e["group"] == "mlp_epoch")
    assert epoch["steps"] == 10
    assert epoch["per_step"]["numpy"] == pytest.approx(epoch["times"]["numpy"]["median"] / 10)


def test_bench_inference_runs_onnx_runtime_beside_native(quick_bench) -> None:
    """The inference group's ONNX Runtime column: the exported networks, timed in their helper process."""
    record, text, _ = quick_bench
    entries = [e for e in record["results"] if e["group"] == "inference"]
    assert {e["case"] for e in entries} == {"SimpleConvNet inference", "DeepConvNet inference"}
    has_runtime = importlib.util.find_spec("onnxruntime") is not None
    for e in entries:
        assert set(e["times"]) == {"native", "onnxruntime"} if ferronet.native_available() else {"onnxruntime"}
        assert ("median" in e["times"]["onnxruntime"]) == has_runtime, e["times"]["onnxruntime"]
        if has_runtime and ferronet.native_available():
            ratio = e["times"]["onnxruntime"]["median"] / e["times"]["native"]["median"]
            assert e["ratios"]["onnxruntime/native"] == pytest.approx(ratio)
    assert "| onnxruntime | numpy/native | torch/native | onnxruntime/native | rate |" in text


def test_bench_records_the_machine(quick_bench) -> None:
    record, _, _ = quick_bench
    m = record["machine"]
    assert m["logical_cores"] >= 1 and m["cpu"] and m["python"] and m["numpy"]
    assert m["numpy_blas"].get("name")
    assert m["ferronet"]["version"] == ferronet.__version__


def test_bench_markdown_describes_machine_then_table(quick_bench) -> None:
    record, text, _ = quick_bench
    assert text.startswith("# ferronet benchmarks")
    assert f"CPU: {record['machine']['cpu']}" in text
    head, table = text.split("| case |", 1)
    table = table.split("\nTargets", 1)[0]
    assert "NumPy" in head
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("|---")]
    assert len(rows) == len(record["results"])
    assert "PyTorch skipped" in text


def test_bench_only_filters_groups(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    assert main(["bench", "--quick", "--threads", "1", "--no-torch", "--only", "adam,relu", "--json", str(path)]) == 0
    record = json.loads(path.read_text())
    assert {e["group"] for e in record["results"]} == {"adam", "relu"}


def test_compare_reports_errors_and_interleaves() -> None:
    calls: list[str] = []

    def broken() -> None:
        raise NotImplementedError("no kernel yet")

    result = timing.compare({"a": lambda: calls.append("a"), "b": lambda: calls.append("b"), "c": broken},
                            repeats=4, min_time=0.0, number=1, warmup={"a": lambda: None, "b": lambda: None})
    assert result["c"] == {"error": "NotImplementedError: no kernel yet"}
    assert len(result["a"]["samples"]) == 4 and result["a"]["number"] == 1
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]


def test_derive_without_native_has_no_ratios() -> None:
    entry = {"unit": "GB/s", "work": 2e9, "steps": None,
             "times": {"numpy": {"median": 0.5}, "native": {"error": "x"}}}
    report.derive(entry)
    assert entry["rate"] == {"numpy": pytest.approx(4.0)} and entry["ratios"] == {}


# ---------------------------------------------------------------------- demo


@pytest.fixture
def small_demo_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("ferronet.trainer")
    pytest.importorskip("ferronet.networks")
    monkeypatch.setenv("FERRONET_DATA_DIR", str(tmp_path))


def test_demo_smoke(small_demo_env, capsys) -> None:
    from ferronet.datasets import fashion_mnist_available

    assert main(["demo", "--epochs", "1", "--limit", "300"]) == 0
    out = capsys.readouterr().out
    dataset = "Fashion-MNIST" if fashion_mnist_available() else "UCI digits"
    assert dataset in out and "300 training / 300 test samples" in out
    assert out.count("test accuracy") == (2 if ferronet.native_available() else 1)
    assert ("numpy/native" in out) == ferronet.native_available()


def test_demo_falls_back_to_the_shipped_digits(small_demo_env, monkeypatch) -> None:
    import ferronet.datasets
    from ferronet.bench.demo import run_demo

    monkeypatch.setattr(ferronet.datasets, "fashion_mnist_available", lambda: False)
    lines: list[str] = []

    class Sink:
        def write(self, s: str) -> None:
            lines.append(s)

    result = run_demo(epochs=2, limit=1000, out=Sink())  # type: ignore[arg-type]
    text = "".join(lines)
    assert "apt-get install dataset-fashion-mnist" in text and "UCI digits" in text
    assert result["sizes"] == [64, 100, 100, 10]
    for backend, r in result["backends"].items():
        assert r["epoch_time"] > 0
        assert r["test_acc"] > 0.5, backend  # two epochs of Adam learn the digits well past chance (0.1)


def test_markdown_marks_noisy_medians(quick_bench) -> None:
    record, text, _ = quick_bench
    noisy = json.loads(json.dumps(record))
    entry = noisy["results"][0]
    timing_ = entry["times"]["numpy"]
    timing_["min"] = timing_["median"] / (report.NOISY * 2)
    marked = report.markdown(noisy)
    row = next(line for line in marked.splitlines() if line.startswith(f"| {entry['case']} |"))
    assert "†" in row and "the median is over" in marked


# ---------------------------------------------------------------------- train

TRAIN_MODELS = ["mlp", "mlp-extend", "simple-convnet", "deep-convnet"]
#: ``<model>: test accuracy 12.34% (50 test images), 0.123 s/epoch (...)``
FINAL_LINE = re.compile(r"^(?P<model>[a-z-]+): test accuracy (?P<acc>\d+\.\d\d)% \((?P<n>\d+) test images\), "
                        r"(?P<seconds>\d+\.\d+) s/epoch \(mean of (?P<epochs>\d+), training only; (?P<ctx>.*)\)$")


def _final_line(out: str) -> re.Match[str]:
    match = FINAL_LINE.match(out.rstrip("\n").splitlines()[-1])
    assert match, out
    return match


@pytest.mark.parametrize("model", TRAIN_MODELS)
def test_train_runs_each_model_and_saves_loadable_params(model: str, backend: str, tiny_fashion, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from ferronet.cli.train import MODELS, load_data

    save = tmp_path / "params.npz"
    code = main(["train", model, "--epochs", "1", "--batch-size", "40", "--backend", backend, "--threads", "1",
                 "--eval-samples", "50", "--save", str(save)])
    out = capsys.readouterr().out
    assert code == 0, out
    final = _final_line(out)
    assert final["model"] == model and final["n"] == "50" and final["epochs"] == "1"
    assert float(final["seconds"]) > 0 and f"{backend} backend, float32" in final["ctx"]
    assert f"saved the parameters to {save}" in out and "=== epoch:1, train acc:" in out  # not a terminal

    # a fresh network of the same model loads the file and scores what the command printed
    args = build_parser().parse_args(["train", model])
    _, _, x_test, t_test = load_data("fashion-mnist", MODELS[model].images, np.float32, download=False)
    net = MODELS[model].build(x_test.shape[1:], np.float32, 123, args)
    with np.load(save, allow_pickle=False) as saved:
        assert set(net.params) <= set(saved.files)
        net.load_params(save)
        for name, value in net.params.items():
            np.testing.assert_array_equal(value, saved[name])
    assert f"{100 * net.accuracy(x_test, t_test, batch_size=40):.2f}" == final["acc"]


@pytest.mark.parametrize("model", TRAIN_MODELS)
def test_trained_file_exports_and_predicts_without_naming_the_model(model: str, tiny_fashion, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """train --save, then export and predict (ferronet and ONNX Runtime): the file says what network it holds,
    and both print the accuracy train printed."""
    pytest.importorskip("onnxruntime")
    save, model_file = tmp_path / "net.npz", tmp_path / "net.onnx"
    assert main(["train", model, "--epochs", "1", "--batch-size", "40", "--quiet", "--save", str(save)]) == 0
    accuracy = _final_line(capsys.readouterr().out)["acc"]
    assert main(["export", str(save), "--onnx", str(model_file)]) == 0
    assert "checked in ONNX Runtime" in capsys.readouterr().out
    for argv in (["predict", str(save)], ["predict", str(model_file), "--onnx"]):
        assert main([*argv, "--data", "fashion-mnist", "--batch-size", "40"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert "50 images from the fashion-mnist test set" in lines[0]
        assert lines[1].startswith(f"accuracy {accuracy}% ("), lines


def test_train_float64_sgd_without_extension(tiny_fashion, tmp_path: Path, capsys) -> None:
    save = tmp_path / "mlp"  # np.savez adds the suffix
    assert main(["train", "mlp", "--epochs", "2", "--dtype", "float64", "--optimizer", "SGD", "--lr", "0.1",
                 "--quiet", "--save", str(save)]) == 0
    out = capsys.readouterr().out
    assert "=== epoch:" not in out and "epoch 1/2" not in out  # --quiet: no per-epoch lines
    final = _final_line(out)
    assert final["epochs"] == "2" and "float64" in final["ctx"]
    assert "sgd lr=0.1" in out
    with np.load(tmp_path / "mlp.npz", allow_pickle=False) as saved:
        assert saved["W1"].dtype == np.float64 and saved["W1"].shape == (784, 100)


def test_train_without_the_data_set_fails_clearly(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("FERRONET_FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("FERRONET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(fashion_mnist, "SPEC", dataclasses.replace(fashion_mnist.SPEC,
                                                                   system_dirs=(tmp_path / "no-debian",)))
    assert main(["train", "simple-convnet", "--no-download"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("ferronet train: Fashion-MNIST not found")
    assert str(tmp_path / "nowhere") in captured.err and "apt-get install dataset-fashion-mnist" in captured.err


def test_train_native_backend_missing(monkeypatch, capsys) -> None:
    monkeypatch.setattr(ferronet, "native_available", lambda: False)
    assert main(["train", "mlp", "--backend", "native"]) == 2
    assert "native backend is not available" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--epochs", "0"], ["--dropout", "1"], ["--optimizer", "lbfgs"], ["resnet"]])
def test_train_rejects_bad_arguments(bad: list[str], capsys) -> None:
    argv = ["train", *bad] if bad == ["resnet"] else ["train", "mlp", *bad]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


@pytest.mark.parametrize("bad", [["--validation-split", "1.5"], ["--validation-split", "abc"],
                                 ["--validation-split", "0"], ["--early-stopping", "0"], ["--early-stopping", "x"]])
def test_train_rejects_bad_trainer_options_in_one_line(bad: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train", "mlp", *bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(f"ferronet train: error: argument {bad[0]}: ")


def test_train_with_validation_early_stopping_checkpoint_and_history(tiny_fashion, tmp_path: Path, capsys) -> None:
    ckpt, history = tmp_path / "ckpt", tmp_path / "history.json"
    assert main(["train", "mlp", "--epochs", "2", "--batch-size", "40", "--validation-split", "0.25",
                 "--early-stopping", "1", "--checkpoint", str(ckpt), "--history", str(history),
                 "--eval-samples", "50"]) == 0
    out = capsys.readouterr().out
    assert "90 training / 30 validation / 50 test images" in out.splitlines()[0]
    assert ", val loss:" in out and "restored the weights of epoch" in out
    final = _final_line(out)
    assert final["epochs"] in ("1", "2")  # patience 1 may stop after the first epoch without improvement
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("ckpt")) == [
        "ckpt-best.npz", "ckpt-last.npz", "ckpt-state.npz"]
    recorded = json.loads(history.read_text())
    assert {"val_loss", "val_acc", "train_loss", "test_acc"} <= set(recorded)
    assert len(recorded["epoch"]) == int(final["epochs"])


def test_train_resume_continues_to_the_uninterrupted_weights(tiny_fashion, tmp_path: Path, capsys) -> None:
    common = ["train", "mlp", "--batch-size", "40", "--validation-split", "0.25", "--threads", "1", "--quiet"]
    assert main([*common, "--epochs", "1", "--checkpoint", str(tmp_path / "a")]) == 0
    assert main([*common, "--epochs", "3", "--resume", str(tmp_path / "a")]) == 0  # keeps checkpointing to a
    assert main([*common, "--epochs", "3", "--checkpoint", str(tmp_path / "b")]) == 0
    outs = capsys.readouterr().out.split("Training ")[1:]
    assert _final_line(outs[1])["acc"] == _final_line(outs[2])["acc"]
    assert _final_line(outs[1])["epochs"] == "3"
    with np.load(tmp_path / "a-last.npz") as resumed, np.load(tmp_path / "b-last.npz") as full:
        for name in full.files:
            np.testing.assert_array_equal(resumed[name], full[name])


@pytest.mark.parametrize("make_argv, code, message", [
    (lambda d: ["--early-stopping", "2"], 2, "--early-stopping watches the validation loss: add --validation-split"),
    (lambda d: ["--resume", str(d / "none")], 1, "no checkpoint to resume from: "),
    (lambda d: ["--checkpoint", str(d / "no" / "dir")], 1, "the directory"),
    (lambda d: ["--history", str(d / "no" / "h.json")], 1, "the directory"),
    (lambda d: ["--train-samples", "5", "--validation-split", "0.1"], 2, "leaves 0 for validation"),
    (lambda d: ["--resume", str(d / "weights.npz")], 1, "not a ferronet state file"),
    (lambda d: ["--resume", str(d / "ckpt"), "--batch-size", "30"], 1, "batch size 40 in it, 30 here"),
])
def test_train_option_errors_are_one_line(tiny_fashion, tmp_path: Path, capsys, make_argv, code, message) -> None:
    assert main(["train", "mlp", "--epochs", "1", "--batch-size", "40", "--quiet", "--checkpoint",
                 str(tmp_path / "ckpt"), "--save", str(tmp_path / "weights.npz")]) == 0
    capsys.readouterr()
    argv = ["train", "mlp", "--epochs", "1", "--quiet", *make_argv(tmp_path)]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("ferronet train: ") and message in err, err


def test_train_plot_writes_curves_misclassified_and_confusion(tiny_fashion, tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    plots = tmp_path / "plots" / "mlp"  # made if missing
    assert main(["train", "mlp", "--epochs", "2", "--batch-size", "40", "--quiet", "--plot", str(plots)]) == 0
    names = ["mlp-curves.png", "mlp-misclassified.png", "mlp-confusion.png"]
    assert sorted(p.name for p in plots.iterdir()) == sorted(names)
    assert all((plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in names)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2] == "wrote " + ", ".join(str(plots / name) for name in names)
    _final_line(lines[-1])  # the test accuracy stays the last line


def test_train_plot_without_matplotlib_fails_before_training(tiny_fashion, tmp_path: Path, monkeypatch,
                                                             capsys) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    assert main(["train", "mlp", "--epochs", "1", "--plot", str(tmp_path / "plots")]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1
    assert captured.err.startswith("ferronet train: ") and "pip install 'ferronet[plot]'" in captured.err


def test_bench_conv_kernel_cases(quick_bench) -> None:
    record, _, _ = quick_bench
    by_case = {(e["case"], e["threads"]): e for e in record["results"]}
    conv = by_case[("conv fwd+bwd 1->30 5x5", 1)]
    assert conv["unit"] == "GFLOP/s" and conv["work"] == 3 * 2 * 4 * 30 * 24 * 24 * 1 * 5 * 5  # batch 4 (quick)
    pool = by_case[("max pool fwd+bwd 2x2 stride 2", 1)]
    assert pool["work"] == 8 * 4 * 30 * 24 * 24 + 16 * 4 * 30 * 12 * 12
    assert by_case[("Dropout fwd+bwd 1e5", 1)]["work"] == 18 * 10**5
    assert {e["shape"] for e in record["results"] if e["group"] == "batchnorm"} == {
        "(4, 16, 28, 28), train mode, per channel", "(4, 100), train mode, per channel"}


def test_bench_convnets_extrapolate_only_numpy(quick_bench) -> None:
    record, text, _ = quick_bench
    simple = next(e for e in record["results"] if e["group"] == "simple_convnet")
    deep = next(e for e in record["results"] if e["group"] == "deep_convnet")
    assert simple["steps"] == 5 and deep["steps"] == 2  # quick: 100 images in batches of 20; 2 DeepConvNet steps
    for entry, factor in ((simple, 2.5), (deep, 2.0)):  # numpy times 2 of 5 and 1 of 2 steps
        numpy_t = entry["times"]["numpy"]
        assert numpy_t["extrapolated"] == factor
        assert numpy_t["median"] == pytest.approx(factor * statistics.median(s / factor for s in numpy_t["samples"]))
        assert f"time scaled by {factor:g} (extrapolated)" in entry["notes"]["numpy"]
        assert "extrapolated" not in entry["times"].get("native", {})
    row = next(line for line in text.splitlines() if line.startswith("| SimpleConvNet epoch"))
    assert "extrapolated" in row and "the backend was timed on a part of the steps" in text


def test_extrapolate_scales_times_and_keeps_errors() -> None:
    result = {"median": 2.0, "min": 1.0, "samples": [1.0, 2.0, 3.0], "number": 1}
    assert timing.extrapolate(result, 10) == {"median": 20.0, "min": 10.0, "samples": [10.0, 20.0, 30.0],
                                              "number": 1, "extrapolated": 10}
    assert timing.extrapolate({"error": "x"}, 10) == {"error": "x"}


def test_torch_models_match_the_networks() -> None:
    """The PyTorch models of the end-to-end cases have the ferronet networks' parameter shapes and outputs."""
    pytest.importorskip("torch")
    from ferronet.bench import torch_impl
    from ferronet.networks import DeepConvNet, MultiLayerNet, SimpleConvNet

    pairs = [(torch_impl.mlp([784, 100, 100, 10], seed=0), MultiLayerNet(784, [100, 100], 10)),
             (torch_impl.simple_convnet(seed=0), SimpleConvNet()), (torch_impl.deep_convnet(seed=0), DeepConvNet())]
    for model, net in pairs:
        torch_shapes = sorted(tuple(p.shape) for p in model.parameters())
        # nn.Linear stores W transposed
        ours = sorted(p.shape[::-1] if p.ndim == 2 else p.shape for p in net.params.values())
        assert torch_shapes == ours, type(net).__name__
    x = np.zeros((3, 1, 28, 28), np.float32)
    step = torch_impl.adam_steps(torch_impl.deep_convnet(seed=0), x, np.zeros(3, np.uint8), 2, lr=1e-3, seed=0)
    step(2)  # a full and a partial batch


def test_torch_losses_match_the_loss_layers() -> None:
    """The PyTorch forms the loss cases time compute the loss layers' losses and gradients."""
    torch = pytest.importorskip("torch")
    from ferronet.bench import cases, torch_impl
    from ferronet.layers import loss_layer

    rng = np.random.default_rng(0)
    for name in cases.LOSS_LAYERS:
        x = rng.standard_normal((6, 5)) * 3
        t = cases.loss_targets(name, rng, 6, 5).astype(np.float64)
        layer = loss_layer(name)()
        loss = layer.forward(x, t)
        tx = torch.from_numpy(x.copy()).requires_grad_()
        torch_loss = torch_impl.LOSSES[name](tx, torch.from_numpy(t))
        torch_loss.backward()
        assert torch_loss.item() == pytest.approx(loss, rel=1e-12), name
        np.testing.assert_allclose(tx.grad.numpy(), layer.backward(), rtol=1e-10, atol=1e-15, err_msg=name)


def test_bench_checks_the_issue_targets(quick_bench) -> None:
    from ferronet.bench.targets import SCALING, TARGETS

    record, text, _ = quick_bench
    target = {t.text: t for t in TARGETS}
    assert {r["target"] for r in record["targets"]} <= set(target)
    for r in record["targets"]:
        t = target[r["target"]]
        assert t.threads is None or r["threads"] == t.threads
        assert r["required"] == t.required and r["quantity"] == t.quantity
        assert r["met"] is (None if r["ratio"] is None else t.met(r["ratio"]) or r["within_noise"])
        assert not r["within_noise"] or (t is SCALING and "interleaved pairs" in r["figures"])
    # the earlier issue's targets, set at 2 threads: 2 convs, pool, SimpleConvNet vs NumPy
    for text_, count in (("convolution fwd+bwd ≥ 4× NumPy", 2), ("max pooling fwd+bwd ≥ 10× NumPy", 1),
                         ("SimpleConvNet epoch ≥ 5× the NumPy backend", 1)):
        assert sum(r["target"] == text_ for r in record["targets"]) == count
    # without torch the PyTorch targets are reported, not measured
    torch_rows = [r for r in record["targets"] if "torch" in r["quantity"]]
    assert torch_rows and all(r["ratio"] is None and r["met"] is None for r in torch_rows)
    assert "| target | case | threads | ratio | required | met | figures |" in text
    table = text.split("Targets (", 1)[1].split("\nNative at more threads", 1)[0]
    assert table.count("not measured") == sum(r["ratio"] is None for r in record["targets"]
                                              if r["target"] != SCALING.text)
    if ferronet.native_available():
        # every case timed natively at 2 threads is compared with itself at 1 thread, in a table of its own
        scaling = [r for r in record["targets"] if r["target"] == SCALING.text]
        native_2 = [e for e in record["results"] if e["threads"] == 2 and "native" in e["times"]]
        assert [r["case"] for r in scaling] == [e["case"] for e in native_2]
        assert all(r["ratio"] is not None for r in scaling)
        assert "Native at more threads against 1 thread" in text
        for r in scaling:
            assert f"| {r['case']} | 2 | {r['ratio']:.2f}× |" in text


@pytest.mark.skipif(not ferronet.native_available(), reason="native core not built")
def test_bench_steps_beside_numpy(quick_bench) -> None:
    """Each step is timed alone and beside a NumPy matmul (with threadpoolctl, also with NumPy's BLAS at one
    thread); the matmul's own time comes off the per-step figure."""
    from ferronet.bench.beside_cases import blas_limit_available

    record, text, _ = quick_bench
    for n in (1, 2):
        by_case = {e["case"]: e for e in record["results"] if e["group"] == "beside_numpy" and e["threads"] == n}
        limited = ("beside NumPy, its BLAS at 1 thread",) if blas_limit_available() else ()
        assert set(by_case) == {f"{net} step {how}" for net in ("MLP 784-100-100-10", "SimpleConvNet")
                                for how in ("alone", "beside NumPy", *limited)}
        for net in ("MLP 784-100-100-10", "SimpleConvNet"):
            alone = by_case[f"{net} step alone"]
            assert "load" not in alone
            for how in ("beside NumPy", *limited):
                beside = by_case[f"{net} step {how}"]
                assert beside["alone"] == alone["case"]
                assert alone["steps"] == beside["steps"] == 2  # quick: a matmul every 2 steps
                load = beside["load"]
                assert load["what"].startswith("NumPy 32x32 @ 32x32 float32 matmul") and load["calls"] == 1
                assert load["what"].endswith("one BLAS thread") == (how in limited)
                assert 0 < load["median"] < beside["times"]["native"]["median"]
                assert beside["per_step"]["native"] == pytest.approx(
                    (beside["times"]["native"]["median"] - load["median"]) / 2)
                assert alone["per_step"]["native"] == pytest.approx(alone["times"]["native"]["median"] / 2)
                ratio = next(r["ratio"] for r in record["targets"]
                             if r["case"] == beside["case"] and r["threads"] == 2)
                if n == 2:
                    assert ratio == pytest.approx(beside["per_step"]["native"] / alone["per_step"]["native"])
    assert "the latter's time alone in the same run" in text


@pytest.mark.skipif(not ferronet.native_available(), reason="native core not built")
def test_bench_two_processes(quick_bench) -> None:
    """One process alone and two together, each of 2 steps per release: steps/s is the rate, combined for two."""
    record, _, _ = quick_bench
    for n in (1, 2):
        alone, together = (e for e in record["results"] if e["group"] == "two_processes" and e["threads"] == n)
        assert (alone["processes"], together["processes"]) == (1, 2) and together["alone"] == alone["case"]
        assert (alone["steps"], together["steps"]) == (2, 4) and alone["unit"] == "steps/s"
        for e in (alone, together):
            t = e["times"]["native"]
            assert t["number"] == 1 and len(t["samples"]) == 2  # quick: 2 releases
            assert e["rate"]["native"] == pytest.approx(e["steps"] / t["median"])
    row = next(r for r in record["targets"] if r["case"] == "SimpleConvNet, 2 processes together")
    assert row["threads"] == 2
    assert row["ratio"] == pytest.approx(together["rate"]["native"] / alone["rate"]["native"])


def test_bench_update_and_deep_conv_layer_cases(quick_bench) -> None:
    record, text, _ = quick_bench
    updates = [e for e in record["results"] if e["group"] == "update" and e["threads"] == 1]
    assert [e["case"] for e in updates] == ["TwoLayerNet(20, 5, 3) SGD update", "TwoLayerNet(20, 5, 3) Adam update"]
    assert all("book's update loop" in e["notes"]["numpy"] for e in updates)
    layers = [e for e in record["results"] if e["group"] == "deep_conv_layer" and e["threads"] == 1]
    assert [e["case"].split(" fwd+bwd ")[1] for e in layers] == [
        "1->16 3x3 pad 1 at 28x28 (no dx)", "16->16 3x3 pad 1 at 28x28", "16->32 3x3 pad 1 at 14x14",
        "32->32 3x3 pad 2 at 14x14", "32->64 3x3 pad 1 at 8x8", "64->64 3x3 pad 1 at 8x8"]
    conv1, conv2 = layers[0], layers[1]
    assert conv1["work"] == 2 * 2 * 4 * 16 * 28 * 28 * 1 * 9  # batch 4 (quick); forward and dW, no dx
    assert conv2["work"] == 3 * 2 * 4 * 16 * 28 * 28 * 16 * 9
