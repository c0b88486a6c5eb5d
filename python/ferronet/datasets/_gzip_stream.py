"""Decompressing a gzip file only as far as the reader asks.

``gzip.decompress`` inflates a whole file at once, so a small file that
inflates to gigabytes costs gigabytes before anyone can look at it.
:class:`GzipStream` inflates at most the number of bytes asked for
(``zlib`` ``max_length``), reading the compressed file 64 KiB at a time.
Every member of a multi-member file is read, zero padding after the last
one is ignored (as ``gzip.decompress`` does), and each member's CRC-32 and
length are checked by zlib when its end is reached.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

#: Compressed bytes read from the file at a time.
INPUT_CHUNK = 1 << 16
#: Decompressed bytes produced at a time by :meth:`GzipStream.readinto`.
OUTPUT_CHUNK = 1 << 20
#: ``wbits`` for zlib: a gzip header and trailer around the deflate data.
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class GzipStream:
    """A read-only, forward-only view of the decompressed content of ``fh``.

    ``name`` starts every error message: a corrupt stream, or one cut off
    before its end, raises ``ValueError(f"{name}: ...")``.
    """

    def __init__(self, fh: BinaryIO, name: str) -> None:
        self._fh = fh
        self._name = name
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self._input = b""  # compressed bytes read but not yet given to the inflater
        self._finished = False  # the last member has ended and only padding (if any) follows

    def _next_member(self) -> bool:
        """After a member's end: start the next one; False when the file holds no more."""
        rest = self._inflater.unused_data
        while True:
            rest = rest.lstrip(b"\x00")
            if rest:
                self._inflater = zlib.decompressobj(_GZIP_WBITS)
                self._input = rest
                return True
            rest = self._fh.read(INPUT_CHUNK)
            if not rest:
                self._finished = True
                return False

    def read(self, size: int) -> bytes:
        """Up to ``size`` decompressed bytes; fewer only at the end of the data."""
        parts = []
        while size > 0 and not self._finished:
            if self._inflater.eof and not self._next_member():
                break
            if not self._input:
                self._input = self._fh.read(INPUT_CHUNK)
                if not self._input:
                    raise ValueError(f"{self._name}: truncated gzip data (the file ends inside a compressed stream)")
            try:
                out = self._inflater.decompress(self._input, size)
            except zlib.error as exc:
                raise ValueError(f"{self._name}: corrupt gzip data ({exc})") from exc
            self._input = self._inflater.unconsumed_tail
            parts.append(out)
            size -= len(out)
        return b"".join(parts)

    def readinto(self, buffer: memoryview) -> int:
        """Fill the start of ``buffer`` (at most 1 MiB of it); returns the byte count, 0 at the end."""
        data = self.read(min(len(buffer), OUTPUT_CHUNK))
        buffer[: len(data)] = data
        return len(data)
