"""Reading and writing the IDX format used by MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (``TT`` the element
type, ``DD`` the number of dimensions), then ``DD`` big-endian uint32 sizes,
then the elements in C order, big-endian.  Files may be gzip-compressed;
compression is detected from the content, not from the file name.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

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


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's content, decompressed when it is gzip.

    Raises ``ValueError`` naming the file when the gzip stream is corrupt or
    truncated.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from exc


def parse_idx(data: bytes, name: str = "<bytes>", *, expect_ndim: int | None = None,
              expect_dtype: np.dtype | type | None = None) -> np.ndarray:
    """Decode IDX ``data`` into an array of the native-endian element dtype.

    ``expect_ndim`` / ``expect_dtype`` add checks on the header.  Every
    problem (bad magic, wrong dimension count, too few or too many bytes)
    raises ``ValueError`` whose message starts with ``name``.
    """
    if len(data) < 4:
        raise ValueError(f"{name}: only {len(data)} bytes, too short for an IDX header")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
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
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated header ({len(data)} bytes, the header needs {header})")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    count = int(np.prod(shape, dtype=np.int64))
    expected = header + count * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: {problem}: header promises shape {shape} ({expected} bytes in all), "
            f"the file holds {len(data)} bytes"
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a native-endian, writeable copy


def read_idx(path: str | os.PathLike[str], *, expect_ndim: int | None = None,
             expect_dtype: np.dtype | type | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a native-endian ndarray.

    Returns e.g. uint8 (N, 28, 28) for an MNIST image file or uint8 (N,) for
    a label file.  Raises ``ValueError`` naming ``path`` on any format error.
    """
    return parse_idx(read_bytes(path), str(path), expect_ndim=expect_ndim, expect_dtype=expect_dtype)


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
    """Write ``array`` as an IDX file; gzip it when ``compress`` (default: name ends in ``.gz``)."""
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    data = encode_idx(array)
    if compress:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path
