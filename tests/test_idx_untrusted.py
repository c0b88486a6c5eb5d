"""IDX files never trusted: sizes checked before allocating, gzip inflated only as far as promised.

Every error must be a ValueError whose message starts with the file's path.
"""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest

from ferronet.datasets import _gzip_stream, idx

MiB = 1 << 20


def idx_header(code: int, *shape: int) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def write_file(directory: Path, data: bytes, compress: bool, name: str = "images-idx3-ubyte") -> Path:
    """``data`` as a raw file, or gzipped into ``<name>.gz``."""
    if compress:
        path = directory / (name + ".gz")
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path = directory / name
        path.write_bytes(data)
    return path


def refused(path: Path, **kwargs) -> str:
    """The message of the ValueError ``read_idx(path)`` raises; it must start with the path."""
    with pytest.raises(ValueError) as info:
        idx.read_idx(path, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    return message


def make_gzip_bomb(path: Path, shape: tuple[int, ...], inflated_mib: int) -> None:
    """A small gzip file whose header promises ``shape`` of uint8 but which inflates to ``inflated_mib`` MiB."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with open(path, "wb") as fh:
        fh.write(deflate.compress(idx_header(0x08, *shape)))
        zeros = bytes(MiB)
        for _ in range(inflated_mib):
            fh.write(deflate.compress(zeros))
        fh.write(deflate.flush())


@pytest.fixture
def counted_inflation(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records how many decompressed bytes each gzip stream ``read_idx`` opens hands out."""
    counts: list[int] = []

    class CountingStream(_gzip_stream.GzipStream):
        def __init__(self, *args) -> None:
            super().__init__(*args)
            counts.append(0)

        def read(self, size: int) -> bytes:
            data = super().read(size)
            counts[-1] += len(data)
            return data

    monkeypatch.setattr(idx, "GzipStream", CountingStream)
    return counts


# ---------------------------------------------------------------- gzip bombs


def test_gzip_bomb_is_refused_after_inflating_only_the_promise(tmp_path: Path, counted_inflation) -> None:
    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    make_gzip_bomb(bomb, (20, 28, 28), inflated_mib=64)
    assert bomb.stat().st_size < 100_000
    assert "trailing" in refused(bomb)
    promised = 16 + 20 * 28 * 28
    assert counted_inflation == [promised + 1]  # the header, the data, and one byte to see more follows


BOMB_CHILD = textwrap.dedent("""
    import json, resource, sys
    from ferronet.datasets import idx
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        idx.read_idx(sys.argv[1])
        message = None
    except ValueError as exc:
        message = str(exc)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"message": message, "growth_kib": after - before}))
""")


def test_gzip_bomb_costs_almost_no_memory(tmp_path: Path) -> None:
    """Peak RSS (ru_maxrss, KiB on Linux) of a fresh process reading a 256 MiB bomb stays far below 256 MiB."""
    bomb = tmp_path / "bomb-idx3-ubyte.gz"
    make_gzip_bomb(bomb, (20, 28, 28), inflated_mib=256)
    done = subprocess.run([sys.executable, "-c", BOMB_CHILD, str(bomb)], capture_output=True, text=True,
                          timeout=300, check=True)
    report = json.loads(done.stdout)
    assert report["message"] is not None and report["message"].startswith(f"{bomb}: ")
    assert report["growth_kib"] < 32 * 1024, f"reading the bomb grew the peak RSS by {report['growth_kib']} KiB"


def test_header_promising_more_than_a_gzip_file_can_inflate_to(tmp_path: Path, monkeypatch) -> None:
    path = write_file(tmp_path, idx_header(0x08, 4000, 1000, 1000) + bytes(100), compress=True)
    monkeypatch.setattr(np, "empty", lambda *a, **k: pytest.fail("allocated before checking the size"))
    assert "inflates to at most" in refused(path)


# ---------------------------------------------------------------- sizes in the header


@pytest.mark.parametrize("compress", [False, True])
def test_dimensions_whose_int64_product_wraps_to_zero_are_refused(tmp_path: Path, compress: bool) -> None:
    shape = (1 << 22, 1 << 21, 1 << 21)  # 2**64 elements: 0 in int64 arithmetic
    path = write_file(tmp_path, idx_header(0x08, *shape), compress)
    message = refused(path)
    assert str(shape) in message and "limit" in message


def test_the_size_limit_applies_and_can_be_chosen(tmp_path: Path) -> None:
    data = idx.encode_idx(np.zeros((10, 100), dtype=np.int32))  # 4000 bytes of elements
    path = write_file(tmp_path, data, compress=True)
    assert "3999-byte limit" in refused(path, max_bytes=3999)
    assert idx.read_idx(path, max_bytes=4000).shape == (10, 100)
    with pytest.raises(ValueError, match=r"^<test>: .*3999-byte limit"):
        idx.parse_idx(data, "<test>", max_bytes=3999)


def test_raw_file_shorter_than_its_header_promises_is_refused_before_allocating(tmp_path: Path,
                                                                                monkeypatch) -> None:
    path = write_file(tmp_path, idx_header(0x08, 1000, 1000, 1000) + bytes(10), compress=False)
    monkeypatch.setattr(np, "empty", lambda *a, **k: pytest.fail("allocated before checking the size"))
    assert "truncated" in refused(path) and "the file holds 26 bytes" in refused(path)


# ---------------------------------------------------------------- malformed files, raw and gzip


GOOD = idx.encode_idx(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))  # 16-byte header + 24 bytes

MALFORMED = {
    "empty": (b"", "too short"),
    "half a magic number": (GOOD[:2], "too short"),
    "truncated sizes": (GOOD[:10], "truncated header"),
    "truncated data": (GOOD[:-5], "truncated"),
    "trailing byte": (GOOD + b"\x00", "trailing"),
    "nonzero magic": (b"\x12\x34" + GOOD[2:], "magic"),
    "unknown type code": (GOOD[:2] + b"\x07" + GOOD[3:], "magic"),
}


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_files_name_themselves(tmp_path: Path, case: str, compress: bool) -> None:
    data, problem = MALFORMED[case]
    path = write_file(tmp_path, data, compress)
    assert problem in refused(path)


@pytest.mark.parametrize("case", list(MALFORMED))
def test_parse_idx_names_its_input(case: str) -> None:
    data, problem = MALFORMED[case]
    with pytest.raises(ValueError, match=rf"^labels\.bin: .*{problem}"):
        idx.parse_idx(data, "labels.bin")


def test_wrong_dimension_count_and_dtype_name_the_file(tmp_path: Path) -> None:
    path = write_file(tmp_path, GOOD, compress=True)
    assert "3 dimensions, expected 1" in refused(path, expect_ndim=1)
    assert "expected int32" in refused(path, expect_dtype=np.int32)


def _gzip_stream_damage(kind: str) -> bytes:
    packed = bytearray(gzip.compress(GOOD, mtime=0))
    if kind == "cut off":
        return bytes(packed[:-6])  # inside the CRC/length trailer
    if kind == "bad crc":
        packed[-8] ^= 0xFF
        return bytes(packed)
    if kind == "bad length":
        packed[-4] ^= 0x01
        return bytes(packed)
    if kind == "garbage after the stream":
        return bytes(packed) + b"PK\x03\x04 something else"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["cut off", "bad crc", "bad length", "garbage after the stream"])
def test_damaged_gzip_streams_name_the_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(_gzip_stream_damage(kind))
    assert "gzip" in refused(path)


def test_multi_member_gzip_and_zero_padding_are_read_like_gzip_decompress(tmp_path: Path) -> None:
    path = tmp_path / "members.gz"
    path.write_bytes(gzip.compress(GOOD[:7], mtime=0) + gzip.compress(GOOD[7:], mtime=0) + bytes(100))
    assert gzip.decompress(path.read_bytes()) == GOOD
    np.testing.assert_array_equal(idx.read_idx(path), idx.parse_idx(GOOD))


def test_read_header_reads_only_the_header(tmp_path: Path) -> None:
    path = write_file(tmp_path, idx_header(0x0C, 7, 5) + bytes(3), compress=True)  # data truncated
    header = idx.read_header(path, expect_ndim=2)
    assert header.dtype == np.dtype(">i4") and header.shape == (7, 5)
    assert (header.header_bytes, header.data_bytes, header.total_bytes) == (12, 140, 152)
    with pytest.raises(ValueError, match=r"expected 3$"):
        idx.read_header(path, expect_ndim=3)
