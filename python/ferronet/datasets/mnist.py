"""``load_mnist``: the book's MNIST loader, without its dead download URL."""

from __future__ import annotations

import os

import numpy as np

from ferronet.datasets import _mnist_format

SPEC = _mnist_format.Spec(
    key="mnist",
    title="MNIST",
    env_var="FERRONET_MNIST_DIR",
    md5={
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    how_to_get=(
        "To get MNIST: copy the four files into one of those directories, point "
        "FERRONET_MNIST_DIR (or the path argument) at a directory holding them, or run "
        "load_mnist() once on a machine with internet access (it downloads into the data directory)."
    ),
)


def load_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
               path: str | os.PathLike[str] | None = None, download: bool = True,
               ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as ``((x_train, t_train), (x_test, t_test))`` (60000 / 10000 samples).

    x: float32 in [0, 1] when ``normalize`` else uint8; (N, 784) when
    ``flatten`` else (N, 1, 28, 28).  t: uint8 labels (N,), or float32
    one-hot rows (N, 10) with ``one_hot_label``.

    Looks in ``path`` only when given; else in ``$FERRONET_MNIST_DIR`` and
    ``<data dir>/mnist`` (see ``ferronet.datasets.data_dir``), then downloads
    there when ``download`` and the network allow.  Raises
    ``DatasetNotFoundError`` when the files are nowhere, ``ValueError``
    naming the file when one is malformed.
    """
    return _mnist_format.load(SPEC, normalize=normalize, flatten=flatten, one_hot_label=one_hot_label,
                              path=path, download=download)
