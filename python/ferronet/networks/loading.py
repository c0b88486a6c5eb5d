"""``ferronet.load``: a network back from one file, its architecture and its weights."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np
from numpy.typing import DTypeLike

from ferronet.networks import architecture
from ferronet.networks.base import LayerNetwork
from ferronet.networks.param_file import read_metadata

PathLike = Union[str, os.PathLike]


def load(path: PathLike, dtype: DTypeLike | None = None) -> LayerNetwork:
    """The network saved in ``path`` by ``save_params`` (``.npz`` or safetensors), ready to predict.

    The file's description (class and constructor arguments, JSON) builds
    the network (see :mod:`ferronet.networks.architecture`; nothing in the
    file is run), then ``load_params`` fills in its weights and batch
    normalisation statistics.  dtype: float32 or float64 to build the
    network in another dtype than it was saved in (None: the saved one).
    ValueError naming the file when it holds no description (the book's
    pickles), names an unknown class, or holds arguments or arrays that do
    not fit; FileNotFoundError when missing.
    """
    file = Path(os.fspath(path))
    overrides = None if dtype is None else {"dtype": np.dtype(dtype)}
    network = architecture.rebuild(read_metadata(file), file, overrides)
    network.load_params(file)
    return network
