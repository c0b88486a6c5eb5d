"""The ``ferronet`` command line and the benchmark harness behind ``ferronet bench``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ferronet
from ferronet.bench import report, timing
from ferronet.cli import COMMANDS, build_parser, main

EXPECTED_GROUPS = {"copy", "matmul", "affine", "softmax_ce", "adam", "sgd", "relu", "sigmoid", "mlp_epoch"}


def test_subcommands_are_registered() -> None:
    assert {"info", "demo", "bench"} <= set(COMMANDS)
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


def test_bench_timings_rates_and_ratios_are_consistent(quick_bench) -> None:
    record, _, _ = quick_bench
    native = ferronet.native_available()
    for e in record["results"]:
        numpy_t = e["times"]["numpy"]
        assert 0 < numpy_t["min"] <= numpy_t["median"], e["case"]
        assert len(numpy_t["samples"]) >= 2
        assert ("native" in e["times"]) == (native and e["group"] != "copy")
        assert "torch" not in e["times"]
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
