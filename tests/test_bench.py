"""Pieces of the benchmark suite: the networks' training runs, timing."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet.bench import timing, training


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


def test_compare_takes_samples_back_to_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """No idle pause between samples: what a thread pool leaves behind counts against the next sample."""

    def no_sleep(_: float) -> None:
        raise AssertionError("compare slept")

    monkeypatch.setattr(timing.time, "sleep", no_sleep)
    result = timing.compare({"a": lambda: None, "b": lambda: None}, repeats=3, min_time=0.0, number=2)
    assert [len(r["samples"]) for r in result.values()] == [3, 3]
