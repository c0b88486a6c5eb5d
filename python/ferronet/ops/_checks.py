"""Argument checks shared by the NumPy reference kernels.

The native kernels perform the same checks in Rust (``rust/bindings``) and
raise the same exception types, so both backends reject bad input alike:

* wrong dtype (integers, float16, mixed float32/float64) -> ``TypeError``
* mismatched shapes -> ``ValueError`` naming both shapes
* arrays written in place must be C-contiguous and writeable -> ``ValueError``
* labels or max-pooling argmax out of range -> ``ValueError``
* convolution / pooling geometry that does not fit (stride < 1, pad < 0, a
  window larger than the padded input, pooling pad >= pool size) -> ``ValueError``
* non-integer sizes, strides, pads and seeds -> ``TypeError``
* hyper-parameters that are not real numbers (strings, bools) -> ``TypeError``;
  NaN or infinite ones -> ``ValueError``
* flags (``trans_a``, ``need_dx``, ``train``, ``inverted``) that are not bools -> ``TypeError``
* softmax over an empty class axis, or a loss over zero rows (or elements) -> ``ValueError``
* multi-tensor arguments (one array or a list/tuple of them) that do not
  match the call's first one, or arrays written in place that overlap ->
  ``ValueError``
* a Huber ``delta`` that is not a finite number > 0 -> ``ValueError``
* targets outside [0, 1] where a loss needs probabilities (binary
  cross-entropy, KL divergence) -> ``ValueError`` (NaN is let through)
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ferronet.arrays import FLOAT_DTYPES


def real(name: str, v: object) -> float:
    """A real-number argument (int or float, Python or NumPy; not bool, not str) as a float."""
    if isinstance(v, (bool, np.bool_, str, bytes)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"argument '{name}': expected a real number, got {type(v).__name__}")
    return float(v)


def finite(name: str, v: object) -> float:
    """:func:`real`, and neither NaN nor infinite (ValueError)."""
    value = real(name, v)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def positive(name: str, v: object) -> float:
    """:func:`finite`, and > 0 (ValueError)."""
    value = finite(name, v)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def non_negative(name: str, v: object) -> float:
    """:func:`finite`, and >= 0 (ValueError)."""
    value = finite(name, v)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def finite_reals(**values: object) -> tuple[float, ...]:
    """:func:`finite` of each value, types checked for all of them before any value
    (the order in which the native bindings read their arguments)."""
    reals = [real(name, v) for name, v in values.items()]
    return tuple(finite(name, v) for name, v in zip(values, reals))


def flag(name: str, v: object) -> bool:
    """A bool argument (Python's or NumPy's bool; an int is a TypeError)."""
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"argument '{name}': expected a bool, got {type(v).__name__}")
    return bool(v)


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


# --------------------------------------------------------------------------
# Multi-tensor arguments: one array, or a list/tuple of arrays
# --------------------------------------------------------------------------

Items = list[tuple[str, object]]  # (name for errors, array) per tensor


def tensor_items(name: str, arg: object) -> tuple[bool, Items]:
    """``(is a sequence, [(name, array)])`` for argument ``name``: ``param`` or ``param[2]``."""
    if isinstance(arg, np.ndarray):
        return False, [(name, arg)]
    if isinstance(arg, (list, tuple)):
        return True, [(f"{name}[{i}]", a) for i, a in enumerate(arg)]
    raise TypeError(f"{name} must be a numpy.ndarray or a list of them, got {type(arg).__name__}")


def matching_items(name: str, arg: object, first_name: str, first: tuple[bool, Items]) -> Items:
    """:func:`tensor_items` of ``arg``, which must hold what the call's first argument holds."""
    sequence, items = tensor_items(name, arg)
    if sequence != first[0] or len(items) != len(first[1]):
        def describe(seq: bool, its: Items) -> str:
            return f"a sequence of {len(its)} arrays" if seq else "one array"

        raise ValueError(f"{name} must match {first_name}: {first_name} is {describe(*first)}, "
                         f"{name} is {describe(sequence, items)}")
    return items


def no_overlap(written: Items, read: Items = ()) -> None:
    """ValueError when an array written in place overlaps another written or read array."""
    for i, (name, a) in enumerate(written):
        for _, b in [*written[:i], *read]:
            if np.may_share_memory(a, b):
                raise ValueError(f"{name} is being written by another call or overlaps an array written by this call")


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


def probabilities(t: np.ndarray) -> None:
    """Targets a loss takes as probabilities: every value in [0, 1] (ValueError
    naming the range found; NaN is neither refused nor counted)."""
    if np.any(t < 0) or np.any(t > 1):
        raise ValueError(f"targets must be probabilities in [0, 1], got min {np.nanmin(t)} max {np.nanmax(t)}")


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


# --------------------------------------------------------------------------
# Convolution and pooling geometry (NCHW)
# --------------------------------------------------------------------------

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def integer(name: str, v: object) -> int:
    """``v`` as a Python int; TypeError for floats, strings and other non-integers."""
    if isinstance(v, bool):
        raise TypeError(f"{name} must be an int, got bool")
    try:
        return operator.index(v)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(v).__name__}") from None


def shape4(name: str, shape: object) -> tuple[int, int, int, int]:
    """A 4-d shape ``(N, C, H, W)``: a tuple (or list) of 4 non-negative ints."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of 4 ints (N, C, H, W), got {type(shape).__name__}")
    dims = tuple(integer(f"{name}[{i}]", d) for i, d in enumerate(shape))
    if len(dims) != 4 or min(dims) < 0:
        raise ValueError(f"{name} must be 4 non-negative ints (N, C, H, W), got {dims}")
    return dims  # type: ignore[return-value]


def geometry(shape: tuple[int, ...], filter_h: object, filter_w: object, stride: object, pad: object,
             what: str = "x", window: str = "filter", unrolled: bool = True) -> tuple[int, int]:
    """Output size ``(oh, ow)`` of a ``filter_h x filter_w`` window sliding over
    the NCHW input ``shape`` with ``stride`` and zero ``pad``.

    ``oh = (H + 2*pad - filter_h) // stride + 1``.  ValueError (naming the
    shapes) for stride < 1, pad < 0, a window smaller than 1x1, a padded size
    beyond int64, a window larger than the padded input, or (``unrolled``) an
    output plane ``oh*ow`` or im2col matrix ``(N*oh*ow, C*fh*fw)`` with a
    dimension beyond int64; TypeError for non-integer parameters.  (The
    native bindings check the same, in the same order.)
    """
    if len(shape) != 4:
        raise ValueError(f"{what} must be 4-d (N, C, H, W), got shape {tuple(shape)}")
    fh, fw = integer(f"{window}_h", filter_h), integer(f"{window}_w", filter_w)
    s, p = integer("stride", stride), integer("pad", pad)
    if s < 1:
        raise ValueError(f"stride must be >= 1, got {s}")
    if p < 0:
        raise ValueError(f"pad must be >= 0, got {p}")
    if fh < 1 or fw < 1:
        raise ValueError(f"{window} size must be at least (1, 1), got ({fh}, {fw})")
    hp, wp = shape[2] + 2 * p, shape[3] + 2 * p
    if max(hp, wp) > INT64_MAX:
        raise ValueError(f"pad {p} is too large for {what} with shape {tuple(shape)}")
    if fh > hp or fw > wp:
        raise ValueError(
            f"{window} ({fh}, {fw}) is larger than the padded input ({hp}, {wp}) of {what} with shape {tuple(shape)}"
        )
    oh, ow = (hp - fh) // s + 1, (wp - fw) // s + 1
    if unrolled and max(oh * ow, shape[0] * oh * ow, shape[1] * fh * fw) > INT64_MAX:
        raise ValueError(f"the arrays for {what} with shape {tuple(shape)} and this window would be too large")
    return oh, ow


def pool_geometry(shape: tuple[int, ...], pool_h: object, pool_w: object, stride: object, pad: object,
                  what: str = "x") -> tuple[int, int]:
    """``geometry`` for pooling, which also needs every window to hold a real
    element: pad < pool_h, pad < pool_w and H, W >= 1 (else ValueError)."""
    oh, ow = geometry(shape, pool_h, pool_w, stride, pad, what, window="pool", unrolled=False)
    ph, pw, p = integer("pool_h", pool_h), integer("pool_w", pool_w), integer("pad", pad)
    if p >= ph or p >= pw:
        raise ValueError(f"pad {p} must be smaller than the pool ({ph}, {pw}): a window would hold only padding")
    if shape[2] == 0 or shape[3] == 0:
        raise ValueError(f"{what} with shape {tuple(shape)} has an empty plane: every window would hold only padding")
    if shape[2] * shape[3] > INT32_MAX:
        raise ValueError(f"{what} with shape {tuple(shape)}: H*W does not fit the int32 argmax")
    if oh * ow > INT64_MAX:
        raise ValueError(f"the arrays for {what} with shape {tuple(shape)} and this window would be too large")
    return oh, ow


def expect_shape(name: str, a: np.ndarray, expected: tuple[int, ...], why: str) -> None:
    """ValueError naming both shapes unless ``a.shape == expected``."""
    if a.shape != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)} ({why}), got shape {a.shape}")


def argmax_array(a: object, shape: tuple[int, ...], plane: int) -> np.ndarray:
    """Max-pooling argmax: int32 ndarray of ``shape`` with values in [0, plane)."""
    if not isinstance(a, np.ndarray) or a.dtype != np.int32:
        kind = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
        raise TypeError(f"argmax must be an int32 ndarray, got {kind}")
    if a.shape != tuple(shape):
        raise ValueError(f"argmax has shape {a.shape} but dout has shape {tuple(shape)}")
    if a.size and (a.min() < 0 or a.max() >= plane):
        raise ValueError(f"argmax values out of range: expected [0, {plane}), got min {a.min()} max {a.max()}")
    return a


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------


def dropout_ratio(r: object) -> float:
    """A dropout ratio: a real number in [0, 1) (ValueError otherwise, NaN included)."""
    if isinstance(r, (bool, np.bool_)) or not isinstance(r, (int, float, np.integer, np.floating)):
        raise TypeError(f"dropout_ratio must be a float, got {type(r).__name__}")
    value = float(r)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"dropout_ratio must lie in [0, 1), got {value}")
    return value


def seed64(seed: object) -> int:
    """A 64-bit unsigned seed: an int in [0, 2**64)."""
    s = integer("seed", seed)
    if not 0 <= s < 2**64:
        raise ValueError(f"seed must lie in [0, 2**64), got {s}")
    return s


def bool_mask(mask: object, like_name: str, like: np.ndarray) -> np.ndarray:
    """A dropout mask: a bool ndarray with the shape of ``like``."""
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        kind = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(f"mask must be a bool ndarray, got {kind}")
    same_shape(like_name, like, "mask", mask)
    return mask
