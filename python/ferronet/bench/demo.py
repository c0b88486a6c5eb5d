"""``ferronet demo``: train the same float32 MLP on each backend and compare epoch times."""

from __future__ import annotations

import statistics
import sys
from typing import Any, TextIO

import numpy as np

import ferronet


def _data(out: TextIO) -> tuple[tuple[np.ndarray, ...], str]:
    from ferronet.datasets import fashion_mnist_available, load_digits, load_fashion_mnist

    if fashion_mnist_available():
        (x, t), (xt, tt) = load_fashion_mnist()
        return (x, t, xt, tt), "Fashion-MNIST"
    print("Fashion-MNIST not found (install it with `apt-get install dataset-fashion-mnist`); "
          "using the 8x8 UCI digits shipped with ferronet instead.", file=out)
    (x, t), (xt, tt) = load_digits()
    return (x, t, xt, tt), "UCI digits (8x8)"


def run_demo(epochs: int = 3, threads: int | None = None, limit: int | None = None, seed: int = 0,
             out: TextIO = sys.stdout) -> dict[str, Any]:
    """Train MultiLayerNet in-100-100-10 (float32, Adam lr=0.001, batch 100) on every available backend.

    ``limit`` keeps only the first ``limit`` training and test samples (for
    smoke tests).  Returns ``{"dataset", "sizes", "backends": {name:
    {"epoch_time", "test_acc"}}, "ratio"}`` where ratio is numpy/native
    epoch time (None without the native core).
    """
    from ferronet.networks import MultiLayerNet
    from ferronet.trainer import Trainer

    if threads is not None:
        ferronet.set_num_threads(threads)
    (x, t, xt, tt), name = _data(out)
    if limit:
        x, t, xt, tt = x[:limit], t[:limit], xt[:limit], tt[:limit]
    sizes = [x.shape[1], 100, 100, 10]
    backends = (["native"] if ferronet.native_available() else []) + ["numpy"]
    if not ferronet.native_available():
        print("The native core is not built: timing the NumPy backend only.", file=out)
    print(f"Training MultiLayerNet {'-'.join(map(str, sizes))} (float32, Adam lr=0.001, batch 100) on {name}: "
          f"{len(x)} training / {len(xt)} test samples, {epochs} epoch{'s' if epochs != 1 else ''}, "
          f"{ferronet.get_num_threads()} native thread(s).", file=out)
    results: dict[str, dict[str, float]] = {}
    for backend in backends:
        with ferronet.use_backend(backend):
            net = MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], dtype=np.float32, seed=seed)
            trainer = Trainer(net, x, t, xt, tt, epochs=epochs, mini_batch_size=100, optimizer="Adam",
                              optimizer_param={"lr": 0.001}, verbose=False, seed=seed)
            trainer.train()
        results[backend] = {"epoch_time": statistics.median(trainer.epoch_times),
                            "test_acc": float(trainer.test_acc_list[-1])}
        print(f"  {backend:<6}  {results[backend]['epoch_time']:.3f} s/epoch (median)   "
              f"test accuracy {100 * results[backend]['test_acc']:.2f}%", file=out)
    ratio = None
    if "native" in results:
        ratio = results["numpy"]["epoch_time"] / results["native"]["epoch_time"]
        print(f"  native is {ratio:.2f}x the speed of NumPy (numpy/native epoch time)", file=out)
    return {"dataset": name, "sizes": sizes, "backends": results, "ratio": ratio}
