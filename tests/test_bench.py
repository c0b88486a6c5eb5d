"""Pieces of the benchmark suite: the book's update loops, the training processes, the targets, timing."""

from __future__ import annotations

import importlib.util
import itertools
import statistics
import time
from collections.abc import Callable

import numpy as np
import pytest

from ferronet.bench import cases, report, targets, timing, training
from ferronet.bench.process_cases import TrainingProcesses
from ferronet.bench.update_cases import book_adam, book_sgd
from ferronet.bench.worker import time_together
from ferronet.optimizers import SGD, Adam


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_book_update_loops_match_the_optimizers(kind: str, backend: str) -> None:
    """The bench's plain-NumPy loops are the book's updates: three steps agree with ferronet's optimizers."""
    rng = np.random.default_rng(0)
    shapes = {"W1": (6, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
    ours = {k: rng.standard_normal(s) for k, s in shapes.items()}
    book = {k: v.copy() for k, v in ours.items()}
    opt, book_update = (SGD(lr=0.1), book_sgd(0.1)) if kind == "sgd" else (Adam(lr=0.01), book_adam(0.01))
    for _ in range(3):
        grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
        opt.update(ours, grads)
        book_update(book, grads)
    for key in shapes:
        np.testing.assert_allclose(ours[key], book[key], rtol=1e-12, atol=1e-15)


def test_adam_steps_walk_the_epochs_across_calls(backend: str) -> None:
    """run(n) continues where the last call stopped, starting a new permutation (and a partial batch) as needed."""
    net = training.mlp((4, 3, 2)).build()
    x, t = np.random.default_rng(1).random((5, 4), dtype=np.float32), np.array([0, 1, 0, 1, 1], np.uint8)
    seen: list[int] = []
    original = net.loss_and_gradient

    def record(xb: np.ndarray, tb: np.ndarray):
        seen.append(len(xb))
        return original(xb, tb)

    net.loss_and_gradient = record
    run = training.adam_steps(net, x, t, batch=2)
    run(2)
    run(3)
    assert seen == [2, 2, 1, 2, 2]  # batches of an epoch of 5 samples: 2, 2, 1


def test_training_processes_start_together_and_stop(tmp_path) -> None:
    """Two NumPy-backend training processes: ready, released once each way, closed with exit code 0."""
    processes = TrainingProcesses(2, "numpy", network="simple_convnet", threads=1, steps=1, batch=2, samples=4,
                                  use_real=False)
    try:
        processes.release(1)
        processes.release(2)
    finally:
        processes.close()
    assert [p.returncode for p in processes.processes] == [0, 0]
    processes.close()  # twice is harmless (both cases of the bundle close it)


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="needs an interpreter without torch")
def test_training_process_failure_is_reported() -> None:
    """A process that dies before it is ready (here: torch missing) is an error naming the backend."""
    processes = TrainingProcesses(1, "torch", network="simple_convnet", threads=1, steps=1, batch=2, samples=4,
                                  use_real=False)
    try:
        with pytest.raises(RuntimeError, match="torch training process sent '' instead of 'ready'"):
            processes.release(1)
    finally:
        processes.close()
    assert processes.processes[0].returncode != 0


def test_compare_takes_samples_back_to_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """No idle pause between samples: what a thread pool leaves behind counts against the next sample."""

    def no_sleep(_: float) -> None:
        raise AssertionError("compare slept")

    monkeypatch.setattr(timing.time, "sleep", no_sleep)
    result = timing.compare({"a": lambda: None, "b": lambda: None}, repeats=3, min_time=0.0, number=2)
    assert [len(r["samples"]) for r in result.values()] == [3, 3]


def test_compare_settles_each_function_into_its_own_loop_before_each_sample() -> None:
    """With ``settle``, each sample follows its own function's untimed calls, never the other's work."""
    calls: list[tuple[str, float]] = []

    def fn(name: str) -> Callable[[], None]:
        return lambda: calls.append((name, time.perf_counter()))

    settle = 0.01
    result = timing.compare({"a": fn("a"), "b": fn("b")}, repeats=2, min_time=0.0, number=1, settle=settle)
    assert [len(r["samples"]) for r in result.values()] == [2, 2]
    # after the two warm-up calls: a's samples, then b's two (the second round runs in reverse), then a's
    blocks = [list(block) for _, block in itertools.groupby(calls[2:], key=lambda call: call[0])]
    assert [block[0][0] for block in blocks] == ["a", "b", "a"]
    assert all(block[-1][1] - block[0][1] >= settle for block in blocks)
    assert all(len(block) >= 3 for block in blocks)


def test_beside_numpy_cases_settle_but_other_bundles_do_not() -> None:
    from ferronet.bench import beside_cases, process_cases

    for bundle in beside_cases.suite(cases.QUICK, None, use_real=False):
        assert bundle.cases[0].settle == cases.QUICK.beside_settle > 0
    assert cases.FULL.beside_settle >= 0.2  # twice OpenBLAS's spin after a matmul
    for bundle in process_cases.suite(cases.QUICK, 1, None, use_real=False):
        assert bundle.cases[0].settle == 0


# ---------------------------------------------------------------------- bundles, loads, rates


def test_bundle_is_timed_together_with_its_load_and_closed() -> None:
    """Two cases of a bundle interleave in one comparison; the load is timed alone; every close runs."""
    calls: list[str] = []
    closed: list[str] = []

    def case(name: str, load: cases.Load | None = None) -> cases.Case:
        def build(backend: str) -> cases.Built | None:
            if backend != "numpy":
                return None
            return cases.Built(lambda: calls.append(name), warmup=lambda: None, close=lambda: closed.append(name))

        return cases.Case("g", name, "shape", build, steps=2, number=1, load=load, info={"x": 1})

    load = cases.Load("the load", lambda: calls.append("load"))
    entries = time_together([case("alone"), case("beside", load)], ["numpy"], cases.QUICK, threads=3)
    assert [e["case"] for e in entries] == ["alone", "beside"] and closed == ["alone", "beside"]
    # the load's warm-up, then two rounds of samples, the second in reverse order
    assert calls[:7] == ["load", "alone", "beside", "load", "load", "beside", "alone"]
    alone, beside = entries
    assert set(alone["times"]) == {"numpy"} and "load" not in alone
    assert beside["load"]["what"] == "the load" and beside["load"]["calls"] == 1 and beside["load"]["number"] >= 1
    assert beside["threads"] == 3 and beside["x"] == 1


def test_bundle_closes_even_when_a_build_fails() -> None:
    closed: list[int] = []

    def build(backend: str) -> cases.Built:
        if backend == "native":
            raise ValueError("no such kernel")
        return cases.Built(lambda: None, close=lambda: closed.append(1))

    (entry,) = time_together([cases.Case("g", "c", "s", build, number=1)], ["numpy", "native"], cases.QUICK, 1)
    assert closed == [1] and entry["times"]["native"] == {"error": "could not build: ValueError: no such kernel"}


def test_derive_takes_the_load_off_the_time_per_step_and_counts_steps_per_second() -> None:
    entry = {"unit": "steps/s", "work": 10.0, "steps": 10, "load": {"what": "m", "calls": 2, "median": 0.5e-3},
             "times": {"native": {"median": 11e-3}, "torch": {"median": 21e-3}}}
    report.derive(entry)
    assert entry["per_step"] == {"native": pytest.approx(1e-3), "torch": pytest.approx(2e-3)}
    assert entry["rate"] == {"native": pytest.approx(10 / 11e-3), "torch": pytest.approx(10 / 21e-3)}


# ---------------------------------------------------------------------- targets on a made-up record


def _entry(case: str, group: str, threads: int, **times: float) -> dict:
    return {"case": case, "group": group, "threads": threads, "unit": None, "work": 0.0, "steps": None,
            "times": {b: {"median": t, "min": t, "samples": [t]} for b, t in times.items()}}


def _record(*entries: dict) -> dict:
    return {"results": [report.derive(e) for e in entries], "threads": [1, 2], "quick": False}


def _rows(record: dict, target: str) -> list[dict]:
    return [r for r in targets.check(record) if r["target"].startswith(target)]


def test_beside_target_takes_the_matmul_off_and_compares_with_the_steps_alone() -> None:
    alone = {**_entry("MLP step alone", "beside_numpy", 2, native=10e-3, torch=20e-3), "steps": 10}
    beside = {**_entry("MLP step beside NumPy", "beside_numpy", 2, native=12e-3, torch=30e-3), "steps": 10,
              "alone": "MLP step alone", "load": {"what": "matmul", "calls": 1, "median": 1e-3}}
    (row,) = _rows(_record(alone, beside), "MLP and SimpleConvNet step beside NumPy")
    assert row["ratio"] == pytest.approx(1.1)  # (12 - 1) / 10 ms per step against 1 ms alone
    assert row["met"] is True and row["required"] == "≤ 1.15"
    assert "torch 2.9 ms vs 2 ms (1.45×)" in row["figures"]


def test_two_process_target_compares_steps_per_second() -> None:
    alone = {**_entry("one", "two_processes", 2, native=0.1), "steps": 20, "unit": "steps/s", "work": 20.0}
    together = {**_entry("two", "two_processes", 2, native=0.25), "steps": 40, "unit": "steps/s", "work": 40.0,
                "alone": "one"}
    (row,) = _rows(_record(alone, together), "two SimpleConvNet processes")
    assert row["ratio"] == pytest.approx(160 / 200) and row["met"] is False
    assert "native 160 steps/s together, 200 alone" in row["figures"]


def test_thread_scaling_target_covers_every_native_case() -> None:
    record = _record(_entry("a", "matmul", 1, native=1.0, numpy=2.0), _entry("a", "matmul", 2, native=1.5),
                     _entry("b", "relu", 1, native=1.0), _entry("b", "relu", 2, native=0.5),
                     _entry("copy", "copy", 2, numpy=1.0))
    rows = _rows(record, targets.SCALING.text)
    assert [(r["case"], r["ratio"], r["met"]) for r in rows] == [("a", 1.5, False), ("b", 0.5, True)]
    text = "\n".join(targets.markdown(record))
    assert "**no**: 1 of 2 cases slower (1 of 2 above 1×, 0 of them within noise)" in text
    assert "1.50× (worst: a)" in text
    assert "| a | 2 | 1.50× | **no** | separate passes: 1 s at 1 thread, 1.5 s at 2 |" in text


def _timed(case: str, group: str, threads: int, samples: list[float]) -> dict:
    entry = _entry(case, group, threads, native=0.0)
    entry["times"]["native"] = {"median": statistics.median(samples), "min": min(samples), "samples": samples}
    return report.derive(entry)


def test_thread_scaling_is_judged_side_by_side_when_the_record_has_it() -> None:
    """The side-by-side run's figures replace the passes' for the cases it timed; the others keep the passes'."""
    record = _record(_entry("a", "matmul", 1, native=1.0), _entry("a", "matmul", 2, native=1.5),
                     _entry("p", "two_processes", 1, native=1.0), _entry("p", "two_processes", 2, native=0.8))
    one = [1.0, 1.1, 0.9, 1.0, 1.2]
    record["side_by_side"] = {"results": [_timed("a", "matmul", 1, one),
                                          _timed("a", "matmul", 2, [t * 1.02 for t in one])]}
    rows = {r["case"]: r for r in _rows(record, targets.SCALING.text)}
    assert rows["a"]["ratio"] == pytest.approx(1.02) and rows["a"]["met"] is False
    assert rows["a"]["figures"] == ("side by side: 1 s at 1 thread, 1.02 s at 2; "
                                    "slower in 5 of 5 interleaved pairs (p = 0.031)")
    assert rows["p"]["ratio"] == pytest.approx(0.8) and rows["p"]["figures"].startswith("separate passes: ")
    assert "**no**: 1 of 2 cases slower (1 of 2 above 1×, 0 of them within noise)" in "\n".join(
        targets.markdown(record))


def test_thread_scaling_above_one_by_chance_is_within_noise() -> None:
    """Two settings that run the same code: a median ratio above 1 with the more-thread samples slower in
    about half the pairs is noise, reported as such; slower in nearly every pair is not."""
    one = [1.00, 1.30, 0.95, 1.10, 1.00, 0.90, 1.20, 1.05, 1.15, 0.98, 1.02]
    chance = [1.10, 1.20, 1.05, 1.00, 1.10, 0.88, 1.10, 1.10, 1.10, 1.00, 1.10]  # slower in 6 of 11
    record = _record(_entry("a", "softmax_ce", 1, native=1.0), _entry("a", "softmax_ce", 2, native=1.0))
    record["side_by_side"] = {"results": [_timed("a", "softmax_ce", 1, one), _timed("a", "softmax_ce", 2, chance)]}
    (row,) = _rows(record, targets.SCALING.text)
    assert row["ratio"] > 1 and row["met"] is True and row["within_noise"] is True
    assert row["figures"].endswith("slower in 6 of 11 interleaved pairs (p = 0.5)")
    text = "\n".join(targets.markdown(record))
    assert "| yes (1 of 1 above 1×, 1 of them within noise) |" in text and "| yes (within noise) |" in text

    always = [t * 1.03 for t in one]  # 3% slower in every pair: a real cost however noisy the samples
    record["side_by_side"]["results"][1] = _timed("a", "softmax_ce", 2, always)
    (row,) = _rows(record, targets.SCALING.text)
    assert row["met"] is False and row["within_noise"] is False
    assert row["figures"].endswith("slower in 11 of 11 interleaved pairs (p = 0.00049)")


def test_sign_test_counts_the_rounds_that_differ() -> None:
    assert targets.slower_in_pairs([1, 1, 1, 1], [2, 2, 0, 1]) == (2, 3, pytest.approx(4 / 8))
    assert targets.slower_in_pairs([1] * 12, [2] * 12)[2] == pytest.approx(2**-12)
    assert targets.slower_in_pairs([1] * 5, [0] * 5) == (0, 5, 1.0)
    assert targets.slower_in_pairs([1, 2], [1, 2]) == (0, 0, 1.0)  # identical: nothing to tell apart
    assert targets.slower_in_pairs([1, 2], [1]) is None and targets.slower_in_pairs([], []) is None


def test_side_by_side_times_native_at_both_thread_counts_interleaved() -> None:
    """Each sample of ``native@n`` runs with ferronet at n threads; the builds get the plain backend name;
    the entry splits into one per thread count."""
    import ferronet
    from ferronet.bench import side_by_side

    seen: list[tuple[str, int]] = []

    def build(backend: str) -> cases.Built:
        return cases.Built(lambda: seen.append((backend, ferronet.get_num_threads())))

    before = ferronet.get_num_threads()
    case = cases.Case("g", "c", "s", build, number=1, steps=2)
    (entry,) = time_together([case], side_by_side.settings(2), cases.QUICK, 2, extra_backends=False)
    assert ferronet.get_num_threads() == before
    assert set(seen) == {("native", 1), ("native", 2)}
    # warm-ups (one each), then rounds alternating the order
    assert [n for _, n in seen[:6]] == [1, 2, 1, 2, 2, 1]
    one, two = (report.derive(e) for e in side_by_side.split(entry))
    assert (one["threads"], two["threads"]) == (1, 2)
    assert set(one["times"]) == set(two["times"]) == {"native"} and one["case"] == two["case"] == "c"
    assert one["per_step"]["native"] == pytest.approx(one["times"]["native"]["median"] / 2)


def test_side_by_side_run_starts_the_training_processes_at_each_thread_count(monkeypatch) -> None:
    """The cases whose native work runs in processes of their own are timed side by side too: a pair of
    training processes started at 1 thread against a pair at 2."""
    import io

    import ferronet
    from ferronet.bench import side_by_side

    if not ferronet.native_available():
        pytest.skip("the native core is not built")
    started: list[list[str]] = []
    start = TrainingProcesses.__init__

    def recording(self, *args, **kwargs) -> None:
        start(self, *args, **kwargs)
        started.extend(process.args for process in self.processes)

    monkeypatch.setattr(TrainingProcesses, "__init__", recording)
    record = side_by_side.run(2, quick=True, only=["update", "two_processes"], log=io.StringIO())
    labels = [(e["case"], e["threads"]) for e in record["results"]]
    flat = [c for item in cases.suite(cases.QUICK, None, False, threads=2)
            for c in (item.cases if isinstance(item, cases.Bundle) else (item,))]
    timed = [c.label for c in flat if c.group in ("update", "two_processes")]
    assert any("process" in label for label in timed)
    assert labels == [(label, n) for label in timed for n in (1, 2)]
    assert all("median" in e["times"]["native"] for e in record["results"])
    threads = sorted(int(args[args.index("--threads") + 1]) for args in started)
    assert threads == [1, 1, 2, 2] and all(args[args.index("--backend") + 1] == "native" for args in started)


def test_adam_bandwidth_target_uses_the_copy_of_the_same_thread_count() -> None:
    copy = {**_entry("copy (np.copyto) 2.5e7", "copy", 2, numpy=1.0), "unit": "GB/s", "work": 40e9}
    adam = {**_entry("Adam step 1e7", "adam", 2, native=1.0), "unit": "GB/s", "work": 36e9}
    (row,) = _rows(_record(copy, adam), "Adam step 1e7")
    assert row["ratio"] == pytest.approx(0.9) and row["met"] is True


def test_update_target_names_the_book_loop() -> None:
    entry = _entry("TwoLayerNet(784, 50, 10) SGD update", "update", 2, native=10e-6, numpy=20e-6)
    (row,) = _rows(_record(entry), "TwoLayerNet")
    assert row["ratio"] == pytest.approx(0.5) and row["figures"] == "native 10 µs, book loop 20 µs"


def test_targets_at_one_thread_count_skip_the_others() -> None:
    record = _record({**_entry("DeepConvNet 50 steps (Adam)", "deep_convnet", 1, native=2.0, torch=1.0), "steps": 50},
                     {**_entry("DeepConvNet 50 steps (Adam)", "deep_convnet", 2, native=0.7, torch=1.0), "steps": 50})
    rows = {(r["target"], r["threads"]): r for r in _rows(record, "DeepConvNet")}
    assert set(rows) == {("DeepConvNet step ≤ 0.8× PyTorch's time (aim 0.7×)", 2),
                         ("DeepConvNet step no slower than PyTorch at 1 thread", 1)}
    assert rows[("DeepConvNet step ≤ 0.8× PyTorch's time (aim 0.7×)", 2)]["met"] is True
    assert rows[("DeepConvNet step no slower than PyTorch at 1 thread", 1)]["ratio"] == pytest.approx(2.0)


def test_augment_target_compares_with_a_simple_convnet_step_of_the_same_run() -> None:
    steps = [{**_entry("SimpleConvNet epoch (Adam)", "simple_convnet", n, native=6.0 / n), "steps": 1000}
             for n in (1, 2)]
    augment = [_entry("augment Compose", "augment", n, native=0.3e-3, numpy=3e-3) for n in (1, 2)]
    rows = _rows(_record(*steps, *augment), "augmenting a batch of 100")
    assert [(r["threads"], r["ratio"], r["met"]) for r in rows] == [(1, pytest.approx(0.05), True),
                                                                    (2, pytest.approx(0.1), True)]
    assert rows[0]["figures"] == "native 300 µs per batch, SimpleConvNet step 6 ms"
    (alone,) = _rows(_record(augment[0]), "augmenting a batch of 100")
    assert alone["ratio"] is None


def test_missing_partners_are_not_measured() -> None:
    beside = {**_entry("MLP step beside NumPy", "beside_numpy", 2, native=1.0), "steps": 10, "alone": "gone"}
    (row,) = _rows(_record(beside), "MLP and SimpleConvNet step beside NumPy")
    assert row["ratio"] is None and row["met"] is None
    assert "not measured" in "\n".join(targets.markdown(_record(beside)))



def test_activation_cases_cover_every_kernel_and_run(backend: str) -> None:
    """One case per activation kernel (Identity has none), each runnable on the ferronet backends."""
    import dataclasses

    from ferronet import ops
    from ferronet.bench import activation_cases

    sizes = dataclasses.replace(cases.QUICK, activation=20_000)
    suite = list(activation_cases.suite(sizes, None))
    kernels = {k for k, _, _ in activation_cases.ELEMENTWISE.values()} | {"prelu"}
    assert kernels == {name.rsplit("_", 1)[0] for name in ops.KERNELS if name.endswith("_backward")} - {
        "affine", "softmax_cross_entropy", "conv", "max_pool", "avg_pool", "batchnorm", "dropout",
        "mse", "l1", "huber", "sigmoid_bce", "kl_div"}  # the losses have their own cases
    assert len(suite) == len(kernels) and all(c.group == "activation" for c in suite)
    for case in suite:
        case.build(backend).fn()
        assert case.build("torch") is None  # no torch module given


def test_side_by_side_worker_needs_more_than_one_thread(capsys) -> None:
    from ferronet.bench import worker

    with pytest.raises(SystemExit) as info:
        worker.main(["--threads", "1", "--side-by-side", "--out", "unused.json"])
    assert info.value.code == 2 and "--threads must be at least 2, got 1" in capsys.readouterr().err


def test_side_by_side_gives_every_case_at_least_five_samples_per_setting() -> None:
    """A ratio of two medians of two samples is noise: the epochs get more side by side, and the short
    cases (the suite's default count) enough pairs for the sign test."""
    from ferronet.bench import cases
    from ferronet.bench.side_by_side import MIN_REPEATS, REPEATS, with_min_repeats

    def case(repeats):
        return cases.Case("g", f"r{repeats}", "", lambda backend: None, repeats=repeats)

    epoch, later = with_min_repeats([case(2), case(2)], default=7)
    assert (epoch.repeats, later.repeats) == (MIN_REPEATS, 2) and MIN_REPEATS >= 5   # a bundle uses the first's
    assert with_min_repeats([case(None)], default=7)[0].repeats == REPEATS >= 15
    assert with_min_repeats([case(None)], default=20)[0].repeats == 20
    assert with_min_repeats([case(9)], default=7)[0].repeats == 9
    assert with_min_repeats([], default=7) == []
