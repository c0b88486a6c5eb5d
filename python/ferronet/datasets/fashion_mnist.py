"""``load_fashion_mnist``: Zalando's Fashion-MNIST, a drop-in replacement for MNIST."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ferronet.datasets import _mnist_format

#: Where Debian's ``dataset-fashion-mnist`` package installs the files.
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: The ten classes, by label.
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

SPEC = _mnist_format.Spec(
    key="fashion-mnist",
    title="Fashion-MNIST",
    env_var="FERRONET_FASHION_MNIST_DIR",
    md5={
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    how_to_get=(
        "To get Fashion-MNIST: on Debian/Ubuntu run `apt-get install dataset-fashion-mnist` "
        f"(installs into {DEBIAN_DIR}), or point FERRONET_FASHION_MNIST_DIR (or the path "
        "argument) at a directory holding the four files."
    ),
    system_dirs=(DEBIAN_DIR,),
)


def load_fashion_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
                       path: str | os.PathLike[str] | None = None, download: bool = True,
                       ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST as ``((x_train, t_train), (x_test, t_test))``, exactly like ``load_mnist``.

    Looks in ``path`` only when given; else ``$FERRONET_FASHION_MNIST_DIR``,
    ``<data dir>/fashion-mnist``, then Debian's ``/usr/share/datasets/fashion-mnist``;
    downloads when the files are nowhere and ``download`` and the network allow.
    Labels index :data:`CLASS_NAMES`.
    """
    return _mnist_format.load(SPEC, normalize=normalize, flatten=flatten, one_hot_label=one_hot_label,
                              path=path, download=download)


def fashion_mnist_available() -> bool:
    """True when the four files are somewhere :func:`load_fashion_mnist` looks (no download)."""
    try:
        _mnist_format.locate(SPEC, None, download=False)
    except FileNotFoundError:
        return False
    return True
