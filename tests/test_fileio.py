"""ferronet.fileio: the atomic writer and the checked .npz reader."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ferronet import fileio
from ferronet.fileio import NpzReader, atomic_write


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if fileio.TEMP_MARK in p.name)


# ---------------------------------------------------------------- atomic_write


def test_atomic_write_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with atomic_write(target) as fh:
        fh.write(b"first")
    assert target.read_bytes() == b"first"
    with atomic_write(target) as fh:
        fh.write(b"second, longer")
    assert target.read_bytes() == b"second, longer"
    assert temp_files(tmp_path) == []


def test_atomic_write_writes_a_recognisable_temp_file_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "params.npz"
    target.write_bytes(b"old")
    with atomic_write(target) as fh:
        fh.write(b"new")
        fh.flush()
        [tmp] = temp_files(tmp_path)
        assert tmp.startswith(".params.npz.tmp-") and len(tmp) == len(".params.npz.tmp-") + 8
        assert (tmp_path / tmp).read_bytes() == b"new"
        assert target.read_bytes() == b"old"  # untouched until the block ends
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_exception_mid_write_keeps_the_old_file_and_removes_the_temp(tmp_path: Path, error) -> None:
    target = tmp_path / "weights.npz"
    target.write_bytes(b"the old weights")
    with pytest.raises(type(error)):
        with atomic_write(target) as fh:
            fh.write(b"half of the new wei")
            raise error
    assert target.read_bytes() == b"the old weights"
    assert temp_files(tmp_path) == []


def test_exception_before_the_first_write_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new.bin"
    with pytest.raises(ValueError):
        with atomic_write(target):
            raise ValueError("nothing to write")
    assert list(tmp_path.iterdir()) == []


def test_the_file_and_its_directory_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        synced.append("dir" if stat.S_ISDIR(mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    target = tmp_path / "out.bin"
    with atomic_write(target) as fh:
        fh.write(b"x" * 100_000)
        assert synced == []
    assert synced == ["file", "dir"]
    assert target.read_bytes() == b"x" * 100_000


def test_permissions_follow_the_umask_or_the_replaced_file(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.bin"
        with atomic_write(fresh) as fh:
            fh.write(b"a")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # as open(path, "wb") creates it
        kept = tmp_path / "kept.bin"
        kept.write_bytes(b"old")
        kept.chmod(0o600)
        with atomic_write(kept) as fh:
            fh.write(b"new")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    finally:
        os.umask(umask)


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.npz"
    real.write_bytes(b"old")
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    with atomic_write(link) as fh:
        fh.write(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_missing_directory_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        with atomic_write(tmp_path / "no-such-dir" / "x.bin") as fh:
            fh.write(b"x")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- NpzReader


def saved_npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def test_reader_lists_headers_and_reads(tmp_path: Path) -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.arange(5, dtype=np.uint8)
    with NpzReader(saved_npz(tmp_path / "ab.npz", a=a, b=b)) as npz:
        assert npz.names == ["a", "b"]
        assert npz.header("a") == ((3, 4), np.dtype(np.float32))
        assert npz.header("b") == ((5,), np.dtype(np.uint8))
        np.testing.assert_array_equal(npz.read("a"), a)
        np.testing.assert_array_equal(npz.read("b"), b)


def _npy_with_header(shape: tuple[int, ...], data: bytes) -> bytes:
    """A .npy file whose header claims ``shape`` of float64, followed by ``data``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buf.getvalue() + data


def test_header_of_a_huge_array_is_read_without_reading_data(tmp_path: Path) -> None:
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("W.npy", _npy_with_header((1 << 40,), b"\x00" * 16))
    with NpzReader(path) as npz:
        assert npz.header("W") == ((1 << 40,), np.dtype("<f8"))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "flip", "npy"])
def test_damaged_archives_raise_value_error_naming_the_file(tmp_path: Path, damage: str) -> None:
    path = saved_npz(tmp_path / "d.npz", W=np.arange(1000, dtype=np.float64))
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"this is not a zip archive" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "flip":  # one data byte: only the CRC can tell
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x40
        path.write_bytes(bytes(flipped))
    else:  # a plain .npy file, not an archive
        with open(path, "wb") as fh:
            np.save(fh, np.arange(3))
    with pytest.raises(ValueError) as info:
        with NpzReader(path) as npz:
            npz.header("W")
            npz.read("W")
    assert str(info.value).startswith(str(path))


def test_truncated_member_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("W.npy", _npy_with_header((100,), b"\x00" * 80))
    with NpzReader(path) as npz:
        with pytest.raises(ValueError, match=r"short\.npz.*'W'"):
            npz.read("W")


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    path = saved_npz(tmp_path / "evil.npz", W=np.array([object()], dtype=object))
    with NpzReader(path) as npz:
        with pytest.raises(ValueError, match=r"evil\.npz.*pickle"):
            npz.header("W")
        with pytest.raises(ValueError, match=r"evil\.npz.*pickle"):
            npz.read("W")


def test_unknown_array_name_is_refused(tmp_path: Path) -> None:
    with NpzReader(saved_npz(tmp_path / "a.npz", a=np.zeros(2))) as npz:
        with pytest.raises(ValueError, match=r"a\.npz.*no array 'b'"):
            npz.header("b")


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        NpzReader(tmp_path / "absent.npz")
