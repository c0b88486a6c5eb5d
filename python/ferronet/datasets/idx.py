"""Reading and writing the IDX format used by MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (``TT`` the element
type, ``DD`` the number of dimensions), then ``DD`` big-endian uint32 sizes,
then the elements in C order, big-endian.  Files may be gzip-compressed;
compression is detected from the content, not from the file name.

The header is never trusted: it is read and checked first, the size it
promises is computed with Python integers (no wrap-around) and compared
with :data:`MAX_DATA_BYTES` and with what the file can hold, and a gzip
stream is inflated only up to the promised size plus one byte (to see
whether data follow).  Every format problem raises ``ValueError`` whose
message starts with the file's path (or the ``name`` given to
:func:`parse_idx`).
"""

from __future__ import annotations

import gzip
import io
import math
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ferronet.datasets._gzip_stream import GzipStream
from ferronet.fileio import atomic_write

#: IDX type code -> big-endian element dtype.
TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in TYPE_CODES.items()}
_GZIP_MAGIC = b"\x1f\x8b"

#: The most element data a header may promise (4 GiB; MNIST's largest file holds 47 MB).
MAX_DATA_BYTES = 1 << 32
#: Deflate's best possible ratio: one bit per 258 bytes for the length and one
#: for the distance.  A gzip file of n bytes cannot inflate to more than this times n.
DEFLATE_MAX_RATIO = 1032
#: Element data copied per read from a raw file.
_READ_CHUNK = 1 << 20


class _Stream(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def readinto(self, buffer: memoryview, /) -> int: ...


@dataclass(frozen=True)
class IdxHeader:
    """What an IDX header declares: the elements' dtype (big-endian, as stored) and the shape."""

    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def header_bytes(self) -> int:
        """Bytes of the header itself: the magic number and one uint32 per dimension."""
        return 4 + 4 * len(self.shape)

    @property
    def data_bytes(self) -> int:
        """Bytes of the elements (a Python int: never wraps, however large the sizes)."""
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def total_bytes(self) -> int:
        """Bytes of the whole (uncompressed) file."""
        return self.header_bytes + self.data_bytes


def _read_header(stream: _Stream, name: str, expect_ndim: int | None,
                 expect_dtype: np.dtype | type | None) -> IdxHeader:
    """Read and check the magic number and the sizes at the start of ``stream``."""
    magic_bytes = stream.read(4)
    if len(magic_bytes) < 4:
        raise ValueError(f"{name}: only {len(magic_bytes)} bytes, too short for an IDX header")
    zero0, zero1, code, ndim = magic_bytes
    magic = int.from_bytes(magic_bytes, "big")
    if zero0 != 0 or zero1 != 0 or code not in TYPE_CODES:
        raise ValueError(f"{name}: bad IDX magic number 0x{magic:08x} (expected 0x0000TTDD with a known type TT)")
    dtype = TYPE_CODES[code]
    if expect_dtype is not None and dtype.newbyteorder("=") != np.dtype(expect_dtype).newbyteorder("="):
        raise ValueError(
            f"{name}: IDX magic 0x{magic:08x} holds {dtype.newbyteorder('=')} elements, "
            f"expected {np.dtype(expect_dtype)}"
        )
    if expect_ndim is not None and ndim != expect_ndim:
        raise ValueError(f"{name}: IDX magic 0x{magic:08x} declares {ndim} dimensions, expected {expect_ndim}")
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise ValueError(f"{name}: truncated header ({4 + len(sizes)} bytes, the header needs {4 + 4 * ndim})")
    return IdxHeader(dtype, struct.unpack(f">{ndim}I", sizes))


def _check_size(header: IdxHeader, name: str, stored_bytes: int | None, compressed: bool, max_bytes: int) -> None:
    """Refuse a header promising more than ``max_bytes`` of data or more than the file can hold.

    ``stored_bytes``: the file's size on disk when known.  A raw file must be
    exactly the promised size; a gzip file must be big enough to inflate to it.
    """
    promise = f"header promises shape {header.shape} ({header.total_bytes} bytes in all)"
    if header.data_bytes > max_bytes:
        raise ValueError(
            f"{name}: {promise}: more than the {max_bytes}-byte limit (max_bytes, by default idx.MAX_DATA_BYTES)"
        )
    if stored_bytes is None:
        return
    if not compressed and stored_bytes != header.total_bytes:
        problem = "truncated" if stored_bytes < header.total_bytes else "has trailing bytes"
        raise ValueError(f"{name}: {problem}: {promise}, the file holds {stored_bytes} bytes")
    if compressed and header.total_bytes > stored_bytes * DEFLATE_MAX_RATIO:
        raise ValueError(
            f"{name}: truncated: {promise}, a gzip file of {stored_bytes} bytes inflates to at most "
            f"{stored_bytes * DEFLATE_MAX_RATIO}"
        )


def _read_data(stream: _Stream, header: IdxHeader, name: str) -> np.ndarray:
    """The elements after the header, native-endian, shaped as the header says; nothing may follow."""
    native = header.dtype.newbyteorder("=")
    array = np.empty(header.shape, dtype=native)  # filled below, page by page
    raw = memoryview(array.reshape(-1).view(np.uint8))  # (data_bytes,)
    filled = 0
    while filled < len(raw):
        got = stream.readinto(raw[filled: filled + _READ_CHUNK])
        if got == 0:
            raise ValueError(
                f"{name}: truncated: header promises shape {header.shape} ({header.total_bytes} bytes in all), "
                f"the data end after {header.header_bytes + filled} bytes"
            )
        filled += got
    if stream.read(1):
        raise ValueError(
            f"{name}: has trailing bytes: header promises shape {header.shape} "
            f"({header.total_bytes} bytes in all), more data follow"
        )
    if not header.dtype.isnative:
        array.byteswap(inplace=True)  # the big-endian bytes as read -> native values, in place
    return array


def _decode(stream: _Stream, name: str, stored_bytes: int | None, compressed: bool, *,
            expect_ndim: int | None, expect_dtype: np.dtype | type | None, max_bytes: int) -> np.ndarray:
    header = _read_header(stream, name, expect_ndim, expect_dtype)
    _check_size(header, name, stored_bytes, compressed, max_bytes)
    return _read_data(stream, header, name)


def _open_content(fh: io.BufferedReader, name: str) -> tuple[_Stream, bool]:
    """The (decompressed) content of the open file ``fh`` and whether it is gzip."""
    compressed = fh.peek(2)[:2] == _GZIP_MAGIC
    return (GzipStream(fh, name), True) if compressed else (fh, False)


def parse_idx(data: bytes, name: str = "<bytes>", *, expect_ndim: int | None = None,
              expect_dtype: np.dtype | type | None = None, max_bytes: int = MAX_DATA_BYTES) -> np.ndarray:
    """Decode uncompressed IDX ``data`` into a writeable array of the native-endian element dtype.

    ``expect_ndim`` / ``expect_dtype`` add checks on the header.  Every
    problem (bad magic, wrong dimension count, a size over ``max_bytes``,
    too few or too many bytes) raises ``ValueError`` whose message starts
    with ``name``.
    """
    return _decode(io.BytesIO(data), name, len(data), False,
                   expect_ndim=expect_ndim, expect_dtype=expect_dtype, max_bytes=max_bytes)


def read_header(path: str | os.PathLike[str], *, expect_ndim: int | None = None,
                expect_dtype: np.dtype | type | None = None) -> IdxHeader:
    """The header of an IDX file (raw or gzip), checked like :func:`read_idx` checks it; reads no data."""
    name = str(path)
    with open(path, "rb") as fh:
        stream, _ = _open_content(fh, name)
        return _read_header(stream, name, expect_ndim, expect_dtype)


def read_idx(path: str | os.PathLike[str], *, expect_ndim: int | None = None,
             expect_dtype: np.dtype | type | None = None, max_bytes: int = MAX_DATA_BYTES) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a native-endian ndarray.

    Returns e.g. uint8 (N, 28, 28) for an MNIST image file or uint8 (N,) for
    a label file.  Raises ``ValueError`` naming ``path`` on any format error
    (see the module docstring for what is checked before anything is
    allocated); ``OSError`` when the file cannot be opened or read.
    """
    name = str(path)
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        stored_bytes = st.st_size if stat.S_ISREG(st.st_mode) else None
        stream, compressed = _open_content(fh, name)
        return _decode(stream, name, stored_bytes, compressed,
                       expect_ndim=expect_ndim, expect_dtype=expect_dtype, max_bytes=max_bytes)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array`` (uint8, int8, int16, int32, float32 or float64)."""
    array = np.asarray(array)
    code = _CODE_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise TypeError(f"IDX cannot store dtype {array.dtype}")
    if array.ndim > 255:
        raise ValueError("IDX stores at most 255 dimensions")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=TYPE_CODES[code]).tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically; gzip it when ``compress`` (default: name ends in ``.gz``)."""
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    data = encode_idx(array)
    if compress:
        data = gzip.compress(data, mtime=0)
    with atomic_write(path) as fh:
        fh.write(data)
    return path
