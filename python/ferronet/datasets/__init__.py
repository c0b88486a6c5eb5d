"""Data sets in the book's format: ``((x_train, t_train), (x_test, t_test))``.

* :func:`load_mnist` - MNIST from local IDX files (or a mirror when online)
* :func:`load_fashion_mnist` - Fashion-MNIST; finds Debian's
  ``dataset-fashion-mnist`` package by itself
* :func:`load_digits` - the small UCI 8x8 digits shipped inside ferronet
* :mod:`ferronet.datasets.idx` - read and write IDX files
"""

from __future__ import annotations

from ferronet.datasets._cache import data_dir
from ferronet.datasets.digits import load_digits
from ferronet.datasets.errors import DatasetNotFoundError
from ferronet.datasets.fashion_mnist import CLASS_NAMES as FASHION_CLASS_NAMES
from ferronet.datasets.fashion_mnist import fashion_mnist_available, load_fashion_mnist
from ferronet.datasets.mnist import load_mnist

__all__ = [
    "FASHION_CLASS_NAMES",
    "DatasetNotFoundError",
    "data_dir",
    "fashion_mnist_available",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
]
