"""The images (and labels) ``ferronet predict`` runs on, checked before anything is predicted.

``--data`` is a data set's name - ``fashion-mnist`` or ``mnist``: its 10,000
test images and their labels, as the loaders give them - or a file, told
apart by its content:

* ``.npy`` (read by :func:`ferronet.fileio.read_npy`, which checks the
  header against the file's size): images (N, 1, 28, 28), (N, 28, 28) or
  (N, 784), or whatever holds one network input per sample;
* IDX, raw or gzip (MNIST's own format, e.g. ``t10k-images-idx3-ubyte.gz``;
  read by :func:`ferronet.datasets.idx.read_idx`): (N, 28, 28).

Images are uint8 (0 to 255, scaled to [0, 1] as the loaders scale them) or
floats (taken as they are: [0, 1] for a network trained by ``ferronet
train``); any other dtype, NaN or infinity, or a shape whose samples do not
hold the network's input is a :class:`~ferronet.cli.common.CliError` naming
the file.  ``--labels`` (``.npy`` or IDX) gives labels to a file of images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ferronet.cli.common import CliError
from ferronet.fileio import NPY_MAGIC, read_npy

DATASETS = ("fashion-mnist", "mnist")
#: the first bytes of an IDX file: raw (two zero bytes) or gzip
IDX_MAGICS = (b"\x00\x00", b"\x1f\x8b")


@dataclass
class Data:
    """Samples to predict, their labels (None when unknown) and where they come from, for messages."""

    x: np.ndarray
    labels: np.ndarray | None
    source: str


def read_array(path: str) -> np.ndarray:
    """The array of a ``.npy`` or IDX file, by its content (CliError for anything else)."""
    from ferronet.datasets.idx import read_idx

    with open(path, "rb") as fh:
        head = fh.read(len(NPY_MAGIC))
    if head.startswith(NPY_MAGIC):
        return read_npy(path)
    if head[:2] in IDX_MAGICS:
        return read_idx(path)
    if not head:
        raise CliError(f"{path}: the file is empty")
    raise CliError(f"{path}: neither a .npy file nor an IDX file (it starts with {head!r})")


def as_images(array: np.ndarray, source: str) -> np.ndarray:
    """uint8 images scaled to float32 in [0, 1]; float images as they are (finite); CliError otherwise."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255)
    if array.dtype.kind != "f":
        raise CliError(f"{source}: images must be uint8 (0 to 255) or floats (0 to 1), not {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise CliError(f"{source}: the images hold NaN or infinite values")
    return array


def fit(x: np.ndarray, sample_shape: tuple[int, ...] | None, source: str) -> np.ndarray:
    """``x`` as (N, \\*sample_shape): the same values, reshaped when each sample holds as many;
    CliError naming ``source`` when they do not."""
    if x.ndim < 1 or len(x) == 0:
        raise CliError(f"{source}: no images (shape {x.shape})")
    if sample_shape is None or x.shape[1:] == tuple(sample_shape):
        return x
    if math.prod(x.shape[1:]) == math.prod(sample_shape):
        return x.reshape(len(x), *sample_shape)
    raise CliError(f"{source}: images of shape {x.shape} do not fit the network's input "
                   f"{tuple(sample_shape)} ({math.prod(sample_shape)} values per image, these have "
                   f"{math.prod(x.shape[1:])})")


def read_labels(path: str, n: int) -> np.ndarray:
    """The labels in ``path`` (``.npy`` or IDX) for ``n`` images: numbers, one row each."""
    labels = read_array(path)
    if labels.dtype.kind not in "uif" or labels.ndim == 0:
        raise CliError(f"{path}: labels must be numbers, one per image, got {labels.dtype} {labels.shape}")
    if len(labels) != n:
        raise CliError(f"{path}: {len(labels)} labels for {n} images")
    return labels


def load(data: str, labels: str | None, download: bool) -> Data:
    """The samples ``--data`` names (see the module docstring) and their labels."""
    if data in DATASETS:
        from ferronet.datasets import load_fashion_mnist, load_mnist

        loader = load_fashion_mnist if data == "fashion-mnist" else load_mnist
        _, (x, t) = loader(flatten=False, download=download)
        source = f"the {data} test set"
        return Data(x, t if labels is None else read_labels(labels, len(x)), source)
    x = as_images(read_array(data), data)
    return Data(x, None if labels is None else read_labels(labels, len(x)), data)
