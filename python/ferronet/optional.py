"""Optional dependencies, imported on first use with an error that says how to install them.

ONNX export needs ``onnx`` (and ``onnxruntime`` to run the result), the
safetensors format the ``safetensors`` package; ferronet itself needs
NumPy only.  Each belongs to an extra of the package (``pip install
'ferronet[onnx]'``, ``'ferronet[safetensors]'``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: module -> (the extra that installs it, what needs it)
EXTRAS = {
    "onnx": ("onnx", "ONNX export"),
    "onnxruntime": ("onnx", "running ONNX models"),
    "safetensors": ("safetensors", "the safetensors format"),
    "safetensors.numpy": ("safetensors", "the safetensors format"),
    "threadpoolctl": ("blas", "limiting NumPy's BLAS threads (numpy_blas_threads)"),
}


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message says which extra brings it."""


def require(module: str) -> ModuleType:
    """``import module``, or :class:`MissingDependencyError` naming the ``pip install`` that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra, purpose = EXTRAS[module]
        raise MissingDependencyError(f"{purpose} needs the {module.split('.')[0]!r} package, which is not "
                                     f"installed ({exc}): pip install 'ferronet[{extra}]'") from exc
