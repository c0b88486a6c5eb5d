"""Files that never lose data and never trust their headers.

* :func:`atomic_write` - write a file so that a crash (even SIGKILL or a
  power cut) leaves either the old file or the new one, never a mix;
* :class:`NpzReader` - read an ``.npz`` archive member by member, with each
  ``.npy`` header available before any of its data is read, so callers can
  refuse an unexpected shape without allocating what the header claims;
* :func:`write_npz` - write arrays as ``np.savez`` does, with text members beside them;
* :func:`read_npy` - read a ``.npy`` file whose header is checked against its size first;
* :func:`is_zip` - whether a file's first bytes start a zip archive (an ``.npz``).

Every format problem in a file read here is a ``ValueError`` whose message
starts with the file's path.
"""

from __future__ import annotations

import errno
import math
import os
import secrets
import stat
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO, Union

import numpy as np
from numpy.lib import format as npy_format

PathLike = Union[str, os.PathLike]

#: Marks the temporary files of :func:`atomic_write`: ``.<name>.tmp-<8 hex digits>``.
TEMP_MARK = ".tmp-"

#: The first bytes of a zip archive: a local file header, or the end record of an empty archive.
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

#: What reading a damaged zip archive or ``.npy`` member can raise (besides ValueError).
_ARCHIVE_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError)


#: The first bytes of a ``.npy`` file.
NPY_MAGIC = b"\x93NUMPY"


def read_npy(path: PathLike) -> np.ndarray:
    """A ``.npy`` file's array, its header checked before any data is read: a supported version, no
    pickled objects, and exactly the bytes the shape and dtype need after the header (a truncated or
    padded file is refused instead of allocating what the header claims).  ValueError starting with
    the path on any problem; FileNotFoundError when missing."""
    path = Path(os.fspath(path))
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        try:
            version = npy_format.read_magic(fh)
            readers = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}
            if version not in readers:
                raise ValueError(f".npy format version {version} is not supported")
            shape, fortran_order, dtype = readers[version](fh)
        except (ValueError, OSError, EOFError) as exc:
            raise ValueError(f"{path}: not a readable .npy file ({exc})") from None
        if dtype.hasobject:
            raise ValueError(f"{path}: holds pickled Python objects, which are never loaded")
        expected = math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around
        if size - fh.tell() != expected:
            raise ValueError(f"{path}: the header promises {expected} bytes of {dtype} {tuple(shape)}, "
                             f"the file holds {size - fh.tell()}")
        data = np.frombuffer(fh.read(expected), dtype=dtype)
    return data.reshape(shape, order="F" if fortran_order else "C")


def is_zip(head: bytes) -> bool:
    """True when ``head`` (a file's first bytes) starts a zip archive, as every ``.npz`` does."""
    return head[:4] in ZIP_MAGICS


def temp_name(name: str) -> str:
    """A fresh temporary name for a file called ``name``: ``.<name>.tmp-<8 hex digits>``."""
    return f".{name}{TEMP_MARK}{secrets.token_hex(4)}"


def _create_temp(directory: Path, name: str, mode: int | None) -> tuple[int, Path]:
    """Create and open a new temporary file beside ``directory / name``; returns (fd, path).

    Permissions: ``mode`` when given (the file being replaced keeps its
    own), else 0o666 less the umask, as ``open(path, 'wb')`` would create it.
    """
    while True:
        tmp = directory / temp_name(name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        if mode is not None:
            try:
                os.chmod(tmp, mode)
            except BaseException:
                os.close(fd)
                tmp.unlink(missing_ok=True)
                raise
        return fd, tmp


def fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (a no-op where directories cannot be opened)."""
    if not hasattr(os, "O_DIRECTORY"):
        return  # Windows: renames are not made durable this way
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # file systems without directory fsync
            raise
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: PathLike) -> Iterator[BinaryIO]:
    """Open ``path`` for writing in binary mode, all or nothing.

    Yields a file object on a temporary file ``.<name>.tmp-XXXXXXXX`` in
    the target's directory.  When the ``with`` block ends normally the file
    is flushed and fsynced, renamed onto ``path`` (``os.replace``) and the
    directory is fsynced.  When it raises (or the process dies) ``path`` is
    untouched; on an exception the temporary file is removed too (after a
    kill it stays, recognisable by its name).

    A symbolic link at ``path`` is written through (its target is replaced).
    An existing file keeps its permission bits.
    """
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(os.fspath(path))
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = _create_temp(target.parent, target.name, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


def write_npz(fh: BinaryIO, arrays: Mapping[str, np.ndarray], texts: Mapping[str, str] = MappingProxyType({})) -> None:
    """Write ``arrays`` to the open binary file ``fh`` as an uncompressed ``.npz`` (what ``np.savez``
    writes: one ``<name>.npy`` member each, no pickle), and each of ``texts`` as a UTF-8 member of that
    name (no ``.npy``; ``np.load`` gives its bytes, :meth:`NpzReader.read_text` its text)."""
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                npy_format.write_array(member, np.asanyarray(array), allow_pickle=False)
        for name, text in texts.items():
            archive.writestr(name, text.encode("utf-8"))


class NpzReader:
    """An ``.npz`` archive opened for checked reading (a context manager).

    ``names`` lists the arrays; :meth:`header` gives one array's shape and
    dtype from its ``.npy`` header alone; :meth:`read` reads it (without
    pickle).  ``read`` allocates what the header declares, so check
    :meth:`header` against what you expect first.  Every problem - not a
    zip archive, truncated, a bad CRC, a member that is not ``.npy``,
    pickled objects - raises ``ValueError`` starting with the path.
    Opening a missing file raises ``FileNotFoundError`` as usual.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(os.fspath(path))
        self._file = open(self.path, "rb")
        try:
            self._zip = zipfile.ZipFile(self._file)
            members = self._zip.namelist()
        except (ValueError, *_ARCHIVE_ERRORS) as exc:
            self._file.close()
            raise ValueError(f"{self.path}: not a readable .npz archive ({type(exc).__name__}: {exc})") from exc
        self._members = {m[:-4] if m.endswith(".npy") else m: m for m in members}  # array name -> member
        #: The array names (member names without ``.npy``), in archive order.
        self.names: list[str] = list(self._members)

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def _member(self, name: str) -> str:
        if name not in self._members:
            raise ValueError(f"{self.path}: no array {name!r}")
        return self._members[name]

    def _fail(self, name: str, exc: BaseException) -> ValueError:
        return ValueError(f"{self.path}: array {name!r} is damaged ({type(exc).__name__}: {exc})")

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """``(shape, dtype)`` of array ``name`` as its ``.npy`` header declares; reads no data."""
        member_name = self._member(name)
        try:
            with self._zip.open(member_name) as member:
                version = npy_format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = npy_format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, _, dtype = npy_format.read_array_header_2_0(member)
                else:
                    raise ValueError(f".npy format version {version} is not supported")
        except (ValueError, *_ARCHIVE_ERRORS) as exc:
            raise self._fail(name, exc) from exc
        if dtype.hasobject:
            raise ValueError(f"{self.path}: array {name!r} holds pickled Python objects, which are never loaded")
        return tuple(shape), dtype

    def read_text(self, member: str, max_bytes: int) -> str | None:
        """The UTF-8 text of ``member`` (a member stored without ``.npy``), None when the archive has none.

        A member of more than ``max_bytes`` bytes (by its zip entry, and by
        what is actually inflated) is a ValueError, as is bad UTF-8 or a bad CRC.
        """
        if member not in self._members or self._members[member] != member:
            return None
        try:
            if self._zip.getinfo(member).file_size > max_bytes:
                raise ValueError(f"larger than {max_bytes} bytes")
            with self._zip.open(member) as fh:
                data = fh.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise ValueError(f"larger than {max_bytes} bytes")
            return data.decode("utf-8")
        except (ValueError, *_ARCHIVE_ERRORS) as exc:
            raise ValueError(f"{self.path}: member {member!r} is damaged ({type(exc).__name__}: {exc})") from exc

    def read(self, name: str) -> np.ndarray:
        """Array ``name``, its CRC checked; never unpickles."""
        self.header(name)  # refuses object arrays with a clear message
        try:
            with self._zip.open(self._member(name)) as member:
                array = npy_format.read_array(member, allow_pickle=False)
                if member.read(1):
                    raise ValueError("data go on after the array")
        except (ValueError, *_ARCHIVE_ERRORS) as exc:
            raise self._fail(name, exc) from exc
        return array
