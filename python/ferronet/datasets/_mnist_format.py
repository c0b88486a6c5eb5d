"""Finding, parsing, validating and caching a data set stored as four MNIST-style IDX files.

``mnist.py`` and ``fashion_mnist.py`` each describe their data set with a
:class:`Spec`; :func:`load` does the rest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ferronet.datasets import _arrays, _cache, _download, idx
from ferronet.datasets.errors import DatasetNotFoundError

#: The four files, as (part, file stem, IDX kind).
PARTS = (
    ("x_train", "train-images", "idx3-ubyte"),
    ("t_train", "train-labels", "idx1-ubyte"),
    ("x_test", "t10k-images", "idx3-ubyte"),
    ("t_test", "t10k-labels", "idx1-ubyte"),
)
KEYS = tuple(part for part, _, _ in PARTS)
#: IDX kind -> number of dimensions: images (N, H, W), labels (N,).
NDIM = {"idx3-ubyte": 3, "idx1-ubyte": 1}


@dataclass(frozen=True)
class Spec:
    """What distinguishes one MNIST-format data set from another."""

    key: str  #: short name, also the sub-directory of the data dir: "mnist"
    title: str  #: for messages: "MNIST"
    env_var: str  #: directory override: "FERRONET_MNIST_DIR"
    md5: Mapping[str, str]  #: published checksum of each ``.gz`` file
    mirrors: tuple[str, ...]  #: base URLs tried in order
    how_to_get: str  #: advice printed when the files are missing
    system_dirs: tuple[Path, ...] = field(default_factory=tuple)  #: e.g. a Debian package's directory
    classes: int = 10


def file_names(stem: str, kind: str) -> tuple[str, ...]:
    """Accepted names for one file, in order of preference (gzip or raw, '-' or '.')."""
    return (f"{stem}-{kind}.gz", f"{stem}-{kind}", f"{stem}.{kind}.gz", f"{stem}.{kind}")


def find_in(directory: Path) -> tuple[dict[str, Path], list[str]]:
    """The four files found in ``directory`` (part -> path) and the canonical names of those missing."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for part, stem, kind in PARTS:
        for name in file_names(stem, kind):
            candidate = directory / name
            if candidate.is_file():
                found[part] = candidate
                break
        else:
            missing.append(f"{stem}-{kind}[.gz]")
    return found, missing


def search_dirs(spec: Spec, path: str | os.PathLike[str] | None) -> list[tuple[Path, str]]:
    """Directories to search, each with why it is searched.

    An explicit ``path`` is the only place searched.  Otherwise: the
    ``spec.env_var`` directory when set, the data directory's ``spec.key``
    sub-directory, then the spec's system directories.
    """
    if path is not None:
        return [(Path(path).expanduser(), "path argument")]
    dirs: list[tuple[Path, str]] = []
    env = os.environ.get(spec.env_var)
    if env:
        dirs.append((Path(env).expanduser(), spec.env_var))
    dirs.append((_cache.data_dir() / spec.key, "ferronet data directory, set by FERRONET_DATA_DIR"))
    dirs.extend((d, "system-wide install") for d in spec.system_dirs)
    return dirs


def locate(spec: Spec, path: str | os.PathLike[str] | None, download: bool) -> dict[str, Path]:
    """Paths of the four files, downloading them when allowed and found nowhere.

    Raises :class:`DatasetNotFoundError` naming the missing files, every
    directory searched and how to get the files.
    """
    report = []
    for directory, why in search_dirs(spec, path):
        if not directory.is_dir():
            report.append(f"  {directory}  [{why}]: no such directory")
            continue
        found, missing = find_in(directory)
        if not missing:
            return found
        report.append(f"  {directory}  [{why}]: missing {', '.join(missing)}")
    download_note = ""
    if path is None and download:
        target = _cache.data_dir() / spec.key
        try:
            _download.download(spec.md5, spec.mirrors, target)
        except (OSError, _download.DownloadError) as exc:
            download_note = f"Downloading into {target} failed: {exc}\n"
        else:
            found, missing = find_in(target)
            if not missing:
                return found
    raise DatasetNotFoundError(
        f"{spec.title} not found. Looked for its four IDX files (gzip or raw; named like "
        f"train-images-idx3-ubyte.gz or train-images.idx3-ubyte) in:\n" + "\n".join(report) + "\n"
        + download_note + spec.how_to_get
    )


def parse(files: Mapping[str, Path], classes: int) -> dict[str, np.ndarray]:
    """Read and cross-check the four files: images uint8 (N, H, W), labels uint8 (N,)."""
    arrays: dict[str, np.ndarray] = {}
    for part, _, kind in PARTS:
        arrays[part] = idx.read_idx(files[part], expect_ndim=NDIM[kind], expect_dtype=np.uint8)
    for split in ("train", "test"):
        x, t = arrays[f"x_{split}"], arrays[f"t_{split}"]
        if x.shape[0] != t.shape[0]:
            raise ValueError(
                f"{files[f'x_{split}']} holds {x.shape[0]} images but "
                f"{files[f't_{split}']} holds {t.shape[0]} labels"
            )
        if t.size and int(t.max()) >= classes:
            raise ValueError(f"{files[f't_{split}']}: label {int(t.max())} is outside 0..{classes - 1}")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise ValueError(
            f"image sizes differ: {files['x_train']} has {arrays['x_train'].shape[1:]}, "
            f"{files['x_test']} has {arrays['x_test'].shape[1:]}"
        )
    return arrays


def layout(files: Mapping[str, Path]) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """part -> (shape, dtype) that the four files' headers declare (only the headers are read)."""
    declared = {}
    for part, _, kind in PARTS:
        header = idx.read_header(files[part], expect_ndim=NDIM[kind], expect_dtype=np.uint8)
        declared[part] = (header.shape, header.dtype.newbyteorder("="))
    return declared


def load_raw(spec: Spec, path: str | os.PathLike[str] | None = None, download: bool = True) -> dict[str, np.ndarray]:
    """The four uint8 arrays of the data set, from the ``.npz`` cache when it is current and intact.

    A cache file that does not hold exactly what the source files' headers
    declare (damaged, truncated, other shapes) is ignored and rewritten.
    """
    files = locate(spec, path, download)
    cache_file = _cache.cache_path(spec.key, [files[k] for k in KEYS])
    arrays = _cache.load(cache_file, layout(files))
    if arrays is None:
        arrays = parse(files, spec.classes)
        _cache.store(cache_file, arrays)
    return arrays


def load(spec: Spec, *, normalize: bool, flatten: bool, one_hot_label: bool,
         path: str | os.PathLike[str] | None, download: bool):
    """``((x_train, t_train), (x_test, t_test))`` with the book's options applied (see ``_arrays.prepare``)."""
    raw = load_raw(spec, path, download)
    out = []
    for split in ("train", "test"):
        out.append(_arrays.prepare(raw[f"x_{split}"], raw[f"t_{split}"], normalize=normalize, flatten=flatten,
                                   one_hot_label=one_hot_label, classes=spec.classes, max_value=255.0))
    return tuple(out)
