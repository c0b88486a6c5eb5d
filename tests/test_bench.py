"""Pieces of the benchmark suite: the networks' training runs."""

from __future__ import annotations

import numpy as np

from ferronet.bench import training


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
