"""Argument checks shared by the NumPy reference kernels.

The native kernels perform the same checks in Rust (``rust/bindings``) and
raise the same exception types, so both backends reject bad input alike:

* wrong dtype (integers, float16, mixed float32/float64) -> ``TypeError``
* mismatched shapes -> ``ValueError`` naming both shapes
* arrays written in place must be C-contiguous and writeable -> ``ValueError``
* labels out of range -> ``ValueError``
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_array(name: str, a: object) -> np.ndarray:
    """Return ``a`` if it is a float32/float64 ndarray, else raise TypeError."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32 or float64, got {type(a).__name__}")
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {a.dtype}")
    return a


def same_dtype(**arrays: np.ndarray) -> np.dtype:
    """Check every array is float32/float64 and that they all share one dtype."""
    dtype = None
    first = None
    for name, a in arrays.items():
        float_array(name, a)
        if dtype is None:
            dtype, first = a.dtype, name
        elif a.dtype != dtype:
            raise TypeError(
                f"dtype mismatch: {first} is {dtype} but {name} is {a.dtype}; "
                "float32 and float64 are not mixed (no silent casting)"
            )
    assert dtype is not None
    return dtype


def ndim(name: str, a: np.ndarray, expected: int) -> None:
    if a.ndim != expected:
        raise ValueError(f"{name} must be {expected}-d, got shape {a.shape}")


def same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {name_a} has shape {a.shape} but {name_b} has shape {b.shape}")


def writable(name: str, a: np.ndarray) -> None:
    """Arrays updated in place must be C-contiguous and writeable."""
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} is written in place and must be C-contiguous (got strides {a.strides})")
    if not a.flags.writeable:
        raise ValueError(f"{name} is written in place but is read-only")


def labels(t: object, n: int, classes: int) -> np.ndarray:
    """Validate integer class labels of shape (n,) with values in [0, classes)."""
    if not isinstance(t, np.ndarray) or t.dtype.kind not in "iu":
        kind = t.dtype if isinstance(t, np.ndarray) else type(t).__name__
        raise TypeError(f"labels must be an integer ndarray (or one-hot rows of the logits' dtype), got {kind}")
    if t.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match logits with {n} rows, got shape {t.shape}")
    if n and (t.min() < 0 or t.max() >= classes):
        raise ValueError(f"labels out of range: expected values in [0, {classes}), got min {t.min()} max {t.max()}")
    return t


def targets(x: np.ndarray, t: object) -> bool:
    """Validate softmax-cross-entropy targets for logits ``x`` (N, C).

    Returns True for one-hot rows (shape (N, C), same float dtype as ``x``),
    False for integer labels (shape (N,)).
    """
    if isinstance(t, np.ndarray) and t.ndim == 2:
        if t.dtype.kind == "f":
            same_dtype(x=x, t=t)
            same_shape("x", x, "t", t)
            return True
        raise TypeError(f"one-hot targets must have the logits' dtype {x.dtype}, got {t.dtype}")
    labels(t, x.shape[0], x.shape[1])
    return False
