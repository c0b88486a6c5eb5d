"""The book's weight files, read without running anything they contain.

The book saves weights with ``pickle.dump(params, f)``: a dict of name ->
NumPy array (``ch03/sample_weight.pkl``, ``ch07/params.pkl``,
``ch08/deep_convnet_params.pkl``, written by NumPy 1.x around 2016).
``pickle.load`` on such a file would call any function the file names, so
ferronet never uses it.  :func:`read_book_pickle` runs the pickle machine
with a restricted set of globals, and even those are stand-ins:

* ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct``
  with ``numpy.ndarray``: an empty array placeholder, whose state
  ``(version, shape, dtype, fortran_order, raw bytes)`` is checked here - a
  dtype made below, a shape of non-negative ints whose size times the item
  size equals the bytes present - before an array is built from the bytes
  (NumPy's own ``__setstate__`` never sees the file's data);
* ``numpy.dtype``: plain numbers only (bool, int, uint, float; any byte
  order), no structured or object dtypes;
* ``numpy.core.numeric._frombuffer`` (and ``numpy._core``): how NumPy writes
  arrays at protocol 5 (Python 3.14's default), checked the same way;
* ``numpy.core.multiarray.scalar`` (and ``numpy._core``): a NumPy scalar,
  checked the same way, loaded as a 0-d array;
* ``_codecs.encode(text, 'latin1')`` and ``bytes()``: how Python 3 writes
  bytes at pickle protocol 2.

Every other global - ``os.system``, ``builtins.eval``, any class - is
refused with :class:`UnsafePickleError` naming the file and the global, at
the moment the file asks for it, before it could be called.  The arrays the
file makes may hold at most twice the file's own size in total (a shared
byte string reused by many arrays is refused, not multiplied), and the file
must end where the pickle ends.  The result must be a dict of str -> array.

Pickle protocols 0 to 5 are understood; Python 2 pickles are read with
``latin1`` strings, as NumPy recommends.
"""

from __future__ import annotations

import io
import math
import os
import pickle
from pathlib import Path
from typing import Any, Callable, Union

import numpy as np

PathLike = Union[str, os.PathLike]

#: dtype kinds a weight file may hold: bool, signed and unsigned ints, floats
ALLOWED_KINDS = "biuf"
_MAX_DIMS = 32  # NumPy's own limit on dimensions
_MAX_DTYPE_SPEC = 16  # 'float64', '<f8', 'uint8' ...


class UnsafePickleError(ValueError):
    """The file asked for a global outside the book's format; nothing in it was run."""


class _BadContent(ValueError):
    """A stand-in refused what the file passed it (message without the path)."""


class _Refused(Exception):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.module, self.name = module, name


def is_pickle(head: bytes) -> bool:
    """True when ``head`` (a file's first bytes) starts a pickle of protocol 2+ or a
    protocol 0/1 dict (``(`` MARK or ``}`` EMPTY_DICT)."""
    if head[:1] == b"\x80":
        return len(head) >= 2 and 2 <= head[1] <= 5
    return head[:1] in (b"(", b"}")


class _Budget:
    """Bytes the file's stand-ins may make, in total."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise _BadContent("the arrays claim more data than the file holds")


class _Global:
    """What ``find_class`` hands the file: a stand-in function, or (``fn`` None) a
    marker that is only recognised (``numpy.ndarray``).  It takes no state, so
    the file cannot change it."""

    __slots__ = ("_fn", "_name")

    def __init__(self, name: str, fn: Callable[..., Any] | None = None) -> None:
        self._name, self._fn = name, fn

    def __call__(self, *args: Any) -> Any:
        if self._fn is None:
            raise _BadContent(f"a call of {self._name}")
        return self._fn(*args)

    def __setstate__(self, state: Any) -> None:
        raise _BadContent(f"a state for {self._name}")


class _Dtype:
    """A checked dtype, with the byte order a later state may set."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self._state_set = False

    def __setstate__(self, state: Any) -> None:
        # NumPy's dtype state: (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        if self._state_set or not isinstance(state, tuple) or len(state) < 2:
            raise _BadContent("a dtype with an unexpected state")
        self._state_set = True
        order = state[1]
        if order not in ("<", ">", "|", "="):
            raise _BadContent(f"a dtype with byte order {order!r}")
        if any(part is not None for part in state[2:5]):
            raise _BadContent("a structured or sub-array dtype")
        if order in "<>" and self.dtype.itemsize > 1:
            self.dtype = self.dtype.newbyteorder(order)


class _Array:
    """Stands for an array until its state arrives; ``value`` is then a new array."""

    def __init__(self, budget: _Budget) -> None:
        self._budget = budget
        self.value: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if self.value is not None or not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _BadContent("an array with an unexpected state")
        if len(state) == 5:
            version, *state = state
            if version != 1:
                raise _BadContent(f"an array state of version {version!r}")
        shape, dtype, fortran_order, raw = state
        self.build(shape, dtype, bool(fortran_order), raw)

    def build(self, shape: Any, dtype: Any, fortran_order: bool, raw: Any) -> _Array:
        """Make ``value`` from checked pieces: (shape, a _Dtype, order, the bytes)."""
        shape = _shape(shape)
        resolved = _resolved(dtype)
        data = _raw_bytes(raw, self._budget)
        count = math.prod(shape)
        if count * resolved.itemsize != len(data):
            raise _BadContent(f"an array of shape {shape} and dtype {resolved} with {len(data)} bytes of data")
        self._budget.spend(len(data))
        flat = np.frombuffer(data, dtype=resolved, count=count)
        self.value = np.array(flat.reshape(shape, order="F" if fortran_order else "C"), order="C")
        return self


class _Scalar:
    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    def __setstate__(self, state: Any) -> None:
        raise _BadContent("a state for a scalar")


def _shape(shape: Any) -> tuple[int, ...]:
    if (not isinstance(shape, tuple) or len(shape) > _MAX_DIMS
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise _BadContent(f"an array shape {shape!r}")
    return shape


def _resolved(dtype: Any) -> np.dtype:
    if not isinstance(dtype, _Dtype):
        raise _BadContent(f"an array whose dtype is a {type(dtype).__name__}")
    return dtype.dtype


def _raw_bytes(raw: Any, budget: _Budget) -> bytes:
    if isinstance(raw, str):  # a Python 2 str read as latin1
        budget.spend(len(raw))
        return raw.encode("latin1")
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw)
    raise _BadContent(f"array data as {type(raw).__name__}")


def _stand_ins(budget: _Budget) -> dict[tuple[str, str], _Global]:
    """The only globals a book pickle may name, mapped to checked stand-ins (new for each file)."""
    ndarray = _Global("numpy.ndarray")

    def reconstruct(cls: Any, shape: Any, typecode: Any) -> _Array:
        if cls is not ndarray:
            raise _BadContent(f"_reconstruct of {type(cls).__name__}, not numpy.ndarray")
        if math.prod(_shape(shape)) != 0 or not isinstance(typecode, (bytes, str)) or len(typecode) > 8:
            raise _BadContent(f"_reconstruct{(shape, typecode)!r}: an empty array was expected")
        return _Array(budget)

    def dtype(spec: Any, align: Any = False, copy: Any = True) -> _Dtype:
        if isinstance(spec, bytes):
            spec = spec.decode("ascii", "replace")
        if not isinstance(spec, str) or len(spec) > _MAX_DTYPE_SPEC:
            raise _BadContent(f"dtype({spec!r})")
        try:
            made = np.dtype(spec)
        except Exception as exc:  # whatever NumPy's parser says of a bad spec
            raise _BadContent(f"dtype({spec!r}): {exc}") from None
        if made.kind not in ALLOWED_KINDS or made.fields is not None or made.subdtype is not None:
            raise _BadContent(f"dtype {spec!r}: weight files hold numbers only (bool, int, uint, float)")
        return _Dtype(made)

    def scalar(dt: Any, raw: Any) -> _Scalar:
        resolved = _resolved(dt)
        data = _raw_bytes(raw, budget)
        if len(data) != resolved.itemsize:
            raise _BadContent(f"a {resolved} scalar with {len(data)} bytes")
        budget.spend(len(data))
        return _Scalar(np.frombuffer(data, dtype=resolved, count=1).reshape(()).copy())

    def frombuffer(raw: Any, dt: Any, shape: Any, order: Any) -> _Array:
        if order not in ("C", "F"):
            raise _BadContent(f"_frombuffer with order {order!r}")
        return _Array(budget).build(shape, dt, order == "F", raw)

    def encode(text: Any, encoding: Any = "utf-8") -> bytes:
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise _BadContent(f"_codecs.encode of {type(text).__name__} as {encoding!r}")
        budget.spend(len(text))
        return text.encode("latin1")

    def empty_bytes(*args: Any) -> bytes:
        if args:
            raise _BadContent("bytes() with arguments")
        return b""

    functions = {
        ("numpy.core.multiarray", "_reconstruct"): reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): reconstruct,
        ("numpy", "dtype"): dtype,
        ("numpy.core.multiarray", "scalar"): scalar,
        ("numpy._core.multiarray", "scalar"): scalar,
        ("numpy.core.numeric", "_frombuffer"): frombuffer,
        ("numpy._core.numeric", "_frombuffer"): frombuffer,
        ("_codecs", "encode"): encode,
        ("__builtin__", "bytes"): empty_bytes,
        ("builtins", "bytes"): empty_bytes,
    }
    stand_ins = {key: _Global(".".join(key), fn) for key, fn in functions.items()}
    stand_ins[("numpy", "ndarray")] = ndarray
    return stand_ins


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, stand_ins: dict[tuple[str, str], _Global]) -> None:
        super().__init__(file, encoding="latin1")
        self._stand_ins = stand_ins

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._stand_ins[(module, name)]
        except KeyError:
            raise _Refused(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _BadContent("a persistent id")


#: What unpickling damaged data can raise
_DAMAGE = (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
           UnicodeDecodeError, OverflowError, MemoryError, RecursionError)


def read_book_pickle(path: PathLike) -> dict[str, np.ndarray]:
    """The ``{name: array}`` dict of a weight file pickled as the book does, without running it.

    Returns new, writeable, C-contiguous arrays in the file's dtypes (0-d for
    scalars).  Raises :class:`UnsafePickleError` (a ValueError) naming the
    file and the global when the file asks for anything outside the book's
    format, ValueError naming the file when it is damaged, is not a dict of
    str -> array, or goes on after the pickle, FileNotFoundError when it is
    missing.
    """
    file = Path(os.fspath(path))
    data = file.read_bytes()
    buffer = io.BytesIO(data)
    unpickler = _RestrictedUnpickler(buffer, _stand_ins(_Budget(2 * len(data))))
    try:
        loaded = unpickler.load()
    except _Refused as refused:
        raise UnsafePickleError(
            f"{file}: refused to load the global {refused.module}.{refused.name}: a weight file of the "
            f"book holds only NumPy arrays in a dict, so nothing in this file was run") from None
    except _BadContent as exc:
        raise ValueError(f"{file}: not in the book's weight format: refused {exc}") from None
    except _DAMAGE as exc:
        raise ValueError(f"{file}: not a readable pickle of the book's weights "
                         f"({type(exc).__name__}: {exc})") from None
    if buffer.tell() != len(data):
        raise ValueError(f"{file}: data go on after the pickle ({len(data) - buffer.tell()} more bytes)")
    return _arrays_of(file, loaded)


def _arrays_of(file: Path, loaded: Any) -> dict[str, np.ndarray]:
    """The checked ``{name: array}`` behind the stand-ins of a loaded pickle."""
    if not isinstance(loaded, dict):
        raise ValueError(f"{file}: holds a {type(loaded).__name__}, not the book's dict of name -> array")
    arrays: dict[str, np.ndarray] = {}
    for key, value in loaded.items():
        if not isinstance(key, str):
            raise ValueError(f"{file}: a key of type {type(key).__name__} ({key!r}), not a parameter name")
        if not isinstance(value, (_Array, _Scalar)) or value.value is None:
            what = "an array without data" if isinstance(value, _Array) else type(value).__name__
            raise ValueError(f"{file}: {key!r} holds {what}, not a NumPy array")
        arrays[key] = value.value
    return arrays
