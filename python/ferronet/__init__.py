"""ferronet: the networks of *Deep Learning from Scratch* on a Rust core.

Layers, networks, optimizers and the trainer read like the book; every hot
loop runs in Rust (``ferronet._native``) and is checked against a NumPy
reference (``ferronet.ops.reference``).
"""

from __future__ import annotations

from ferronet._version import __version__
from ferronet.backend import get_backend, native_available, set_backend, use_backend
from ferronet.config import (build_info, buffer_cache, get_num_threads, max_threads, release_buffers,
                             set_buffer_cache, set_num_threads, show_config)
from ferronet.numpy_blas import blas_sharing, numpy_blas_threads, share_at_import, share_blas_threads

__all__ = [
    "__version__",
    "blas_sharing",
    "buffer_cache",
    "build_info",
    "get_backend",
    "get_num_threads",
    "load",
    "max_threads",
    "native_available",
    "numpy_blas_threads",
    "release_buffers",
    "set_backend",
    "set_buffer_cache",
    "set_num_threads",
    "share_blas_threads",
    "show_config",
    "use_backend",
]

share_at_import()  # NumPy's BLAS jobs on ferronet's threads (numpy_blas.py; FERRONET_SHARE_BLAS_THREADS=0: not)


def load(path, dtype=None):  # type: ignore[no-untyped-def]
    """The network saved in ``path`` (``save_params``: ``.npz`` or safetensors), rebuilt from the file's
    description and weights alone (in ``dtype`` when given); see :func:`ferronet.networks.loading.load`."""
    from ferronet.networks.loading import load as load_network

    return load_network(path, dtype)
