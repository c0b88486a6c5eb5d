"""``load_digits``: the small UCI 8x8 handwritten digits set shipped inside ferronet.

1797 grey-scale 8x8 images with pixel values 0..16, labels 0..9 (see
``ferronet/data/README.md`` for source and licence).  Always available, so
examples and tests can train on real data when Fashion-MNIST is absent.
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

from ferronet.datasets import _arrays

#: Number of images in the shipped file.
N_SAMPLES = 1797
MAX_PIXEL = 16


def _read_csv() -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (1797, 8, 8) and labels uint8 (1797,) from ``data/digits.csv.gz``."""
    source = resources.files("ferronet").joinpath("data", "digits.csv.gz")
    with source.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.uint8)
    if table.shape != (N_SAMPLES, 65):
        raise ValueError(f"{source}: expected {N_SAMPLES} rows of 64 pixels + 1 label, got shape {table.shape}")
    return table[:, :64].reshape(-1, 8, 8), table[:, 64].copy()


def load_digits(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
                test_fraction: float = 0.2, seed: int = 0,
                ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The digits as ``((x_train, t_train), (x_test, t_test))``, like ``load_mnist``.

    x: float32 in [0, 1] (pixels / 16) when ``normalize`` else uint8 0..16;
    (N, 64) when ``flatten`` else (N, 1, 8, 8).  t: uint8 labels (N,) or
    float32 one-hot rows (N, 10).  The split is a stratified shuffle by
    ``seed``: ``test_fraction`` of each class goes to the test set
    (the default gives 1438 train / 359 test samples).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    images, labels = _read_csv()
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for c in range(10):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_fraction * members.size))
        test_idx.append(members[:n_test])
        train_idx.append(members[n_test:])
    splits = []
    for parts in (train_idx, test_idx):
        order = rng.permutation(np.concatenate(parts))
        splits.append(_arrays.prepare(images[order], labels[order], normalize=normalize, flatten=flatten,
                                      one_hot_label=one_hot_label, classes=10, max_value=MAX_PIXEL))
    return tuple(splits)
