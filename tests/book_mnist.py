"""A small synthetic stand-in for MNIST, written as the four IDX files the book's loader reads.

MNIST cannot be downloaded here, so the book-script tests use images of the
same format: 28x28 uint8, labels 0-9.  Class ``c`` is a bright bar three
rows high whose position depends on ``c`` (moved down a row at random,
never onto another class's rows) over dim noise, so every one of the book's networks learns it
within a few steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferronet.datasets import idx

FILES = {"x_train": "train-images-idx3-ubyte.gz", "t_train": "train-labels-idx1-ubyte.gz",
         "x_test": "t10k-images-idx3-ubyte.gz", "t_test": "t10k-labels-idx1-ubyte.gz"}
N_TRAIN, N_TEST = 600, 200


def images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, t)``: x (n, 28, 28) uint8, t (n,) uint8."""
    gen = np.random.default_rng(seed)
    t = gen.integers(0, 10, size=n).astype(np.uint8)
    x = gen.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(t):
        top = 2 + 2 * int(c) + int(gen.integers(0, 2))
        x[i, top:top + 3, 4:24] = gen.integers(200, 256, size=(3, 20))
    return x, t


def write_synthetic_mnist(directory: Path) -> Path:
    """Write the four gzipped IDX files of a synthetic MNIST into ``directory``; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    x_train, t_train = images(N_TRAIN, seed=0)
    x_test, t_test = images(N_TEST, seed=1)
    arrays = {"x_train": x_train, "t_train": t_train, "x_test": x_test, "t_test": t_test}
    for part, name in FILES.items():
        idx.write_idx(directory / name, arrays[part], compress=True)
    return directory
