"""Data set loaders: IDX parsing, search order, the npz cache, errors, and the shipped digits."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import stat
import time
from pathlib import Path

import numpy as np
import pytest

from ferronet.datasets import (
    DatasetNotFoundError,
    _mnist_format,
    data_dir,
    fashion_mnist,
    fashion_mnist_available,
    idx,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    mnist,
)

NAMES = {  # naming scheme -> (part -> file name)
    "dash": {"x_train": "train-images-idx3-ubyte", "t_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "t_test": "t10k-labels-idx1-ubyte"},
    "dot": {"x_train": "train-images.idx3-ubyte", "t_train": "train-labels.idx1-ubyte",
            "x_test": "t10k-images.idx3-ubyte", "t_test": "t10k-labels.idx1-ubyte"},
}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data dir, no directory overrides and no network for every test."""
    cache = tmp_path / "data-dir"
    monkeypatch.setenv("FERRONET_DATA_DIR", str(cache))
    monkeypatch.setenv("FERRONET_OFFLINE", "1")
    monkeypatch.delenv("FERRONET_MNIST_DIR", raising=False)
    monkeypatch.delenv("FERRONET_FASHION_MNIST_DIR", raising=False)
    return cache


def make_arrays(seed: int, n_train: int = 20, n_test: int = 10, side: int = 28) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, size=(n_train, side, side), dtype=np.uint8),
        "t_train": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, side, side), dtype=np.uint8),
        "t_test": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }


def write_set(directory: Path, arrays: dict[str, np.ndarray], naming: str = "dash",
              compress: bool = True) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for part, name in NAMES[naming].items():
        paths[part] = idx.write_idx(directory / (name + (".gz" if compress else "")), arrays[part], compress=compress)
    return paths


# ---------------------------------------------------------------- IDX format


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path: Path, dtype, suffix: str) -> None:
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = idx.write_idx(tmp_path / f"a.idx{suffix}", a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    b = idx.read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable


def test_idx_header_is_big_endian(tmp_path: Path) -> None:
    data = idx.encode_idx(np.arange(6, dtype=np.int32).reshape(2, 3))
    assert data[:4] == bytes([0, 0, 0x0C, 2])
    assert int.from_bytes(data[4:8], "big") == 2 and int.from_bytes(data[8:12], "big") == 3
    assert int.from_bytes(data[-4:], "big") == 5


def test_idx_compression_detected_from_content(tmp_path: Path) -> None:
    a = np.arange(10, dtype=np.uint8)
    raw_named_gz = idx.write_idx(tmp_path / "x.gz", a, compress=False)
    np.testing.assert_array_equal(idx.read_idx(raw_named_gz), a)


# ---------------------------------------------------------------- load_mnist options


@pytest.mark.parametrize("naming", ["dash", "dot"])
@pytest.mark.parametrize("compress", [True, False])
def test_load_mnist_reads_every_naming(tmp_path: Path, naming: str, compress: bool) -> None:
    arrays = make_arrays(1)
    write_set(tmp_path / "src", arrays, naming, compress)
    (x, t), (xt, tt) = load_mnist(normalize=False, path=tmp_path / "src")
    np.testing.assert_array_equal(x, arrays["x_train"].reshape(20, 784))
    np.testing.assert_array_equal(t, arrays["t_train"])
    np.testing.assert_array_equal(xt, arrays["x_test"].reshape(10, 784))
    np.testing.assert_array_equal(tt, arrays["t_test"])


def test_load_mnist_defaults_normalize_and_flatten(tmp_path: Path) -> None:
    arrays = make_arrays(2)
    write_set(tmp_path / "src", arrays)
    (x, t), (xt, tt) = load_mnist(path=tmp_path / "src")
    assert x.dtype == np.float32 and x.shape == (20, 784) and xt.shape == (10, 784)
    np.testing.assert_array_equal(x, arrays["x_train"].reshape(20, 784).astype(np.float32) / np.float32(255))
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert t.dtype == np.uint8 and t.shape == (20,)


def test_load_mnist_unflattened_and_raw(tmp_path: Path) -> None:
    arrays = make_arrays(3)
    write_set(tmp_path / "src", arrays)
    (x, _), (xt, _) = load_mnist(normalize=False, flatten=False, path=tmp_path / "src")
    assert x.dtype == np.uint8 and x.shape == (20, 1, 28, 28) and xt.shape == (10, 1, 28, 28)
    np.testing.assert_array_equal(x[:, 0], arrays["x_train"])


def test_load_mnist_one_hot(tmp_path: Path) -> None:
    arrays = make_arrays(4)
    write_set(tmp_path / "src", arrays)
    (_, t), (_, tt) = load_mnist(one_hot_label=True, path=tmp_path / "src")
    assert t.dtype == np.float32 and t.shape == (20, 10) and tt.shape == (10, 10)
    np.testing.assert_array_equal(t.argmax(axis=1), arrays["t_train"])
    np.testing.assert_array_equal(t.sum(axis=1), np.ones(20, dtype=np.float32))
    assert set(np.unique(t)) <= {0.0, 1.0}


def test_returned_arrays_are_independent_of_the_cache(tmp_path: Path) -> None:
    arrays = make_arrays(5)
    write_set(tmp_path / "src", arrays)
    (x, _), _ = load_mnist(normalize=False, path=tmp_path / "src")
    x[:] = 0
    (x2, _), _ = load_mnist(normalize=False, path=tmp_path / "src")
    np.testing.assert_array_equal(x2, arrays["x_train"].reshape(20, 784))


# ---------------------------------------------------------------- malformed files


def test_truncated_raw_file_names_the_file(tmp_path: Path) -> None:
    paths = write_set(tmp_path / "src", make_arrays(6), compress=False)
    data = paths["x_test"].read_bytes()
    paths["x_test"].write_bytes(data[:-100])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.*truncated"):
        load_mnist(path=tmp_path / "src")


def test_truncated_gzip_file_names_the_file(tmp_path: Path) -> None:
    paths = write_set(tmp_path / "src", make_arrays(7), compress=True)
    data = paths["x_train"].read_bytes()
    paths["x_train"].write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        load_mnist(path=tmp_path / "src")


def test_gzip_of_a_short_file_names_the_file(tmp_path: Path) -> None:
    paths = write_set(tmp_path / "src", make_arrays(8), compress=True)
    short = idx.encode_idx(make_arrays(8)["t_train"])[:-3]
    paths["t_train"].write_bytes(gzip.compress(short))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz.*truncated"):
        load_mnist(path=tmp_path / "src")


def test_trailing_bytes_are_rejected(tmp_path: Path) -> None:
    paths = write_set(tmp_path / "src", make_arrays(9), compress=False)
    paths["t_test"].write_bytes(paths["t_test"].read_bytes() + b"\x00")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.*trailing"):
        load_mnist(path=tmp_path / "src")


def test_wrong_magic_names_the_file(tmp_path: Path) -> None:
    paths = write_set(tmp_path / "src", make_arrays(10), compress=False)
    data = bytearray(paths["t_train"].read_bytes())
    data[0:4] = b"\x12\x34\x08\x01"
    paths["t_train"].write_bytes(bytes(data))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.*magic"):
        load_mnist(path=tmp_path / "src")


def test_wrong_dimension_count_is_rejected(tmp_path: Path) -> None:
    arrays = make_arrays(11)
    paths = write_set(tmp_path / "src", arrays)
    idx.write_idx(paths["x_train"], arrays["x_train"].reshape(20, 784))  # 2-d images
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz.*2 dimensions, expected 3"):
        load_mnist(path=tmp_path / "src")


def test_wrong_element_type_is_rejected(tmp_path: Path) -> None:
    arrays = make_arrays(12)
    paths = write_set(tmp_path / "src", arrays)
    idx.write_idx(paths["t_test"], arrays["t_test"].astype(np.int32))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz.*int32"):
        load_mnist(path=tmp_path / "src")


def test_image_and_label_counts_must_agree(tmp_path: Path) -> None:
    arrays = make_arrays(13)
    paths = write_set(tmp_path / "src", arrays)
    idx.write_idx(paths["t_train"], arrays["t_train"][:-1])
    with pytest.raises(ValueError, match="20 images.*19 labels"):
        load_mnist(path=tmp_path / "src")


# ---------------------------------------------------------------- missing files and search order


def test_missing_files_are_listed_with_the_directory(tmp_path: Path) -> None:
    arrays = make_arrays(14)
    paths = write_set(tmp_path / "src", arrays)
    paths["x_test"].unlink()
    paths["t_train"].unlink()
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(path=tmp_path / "src")
    message = str(info.value)
    assert str(tmp_path / "src") in message
    assert "t10k-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert "train-images-idx3-ubyte" not in message.split("missing", 1)[1].split("\n")[0]
    assert isinstance(info.value, FileNotFoundError)


def test_not_found_anywhere_lists_every_place_and_fails_fast(tmp_path: Path, monkeypatch, isolated_env) -> None:
    monkeypatch.setenv("FERRONET_MNIST_DIR", str(tmp_path / "nowhere"))
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist()
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message and "FERRONET_MNIST_DIR" in message
    assert str(isolated_env / "mnist") in message
    assert "FERRONET_OFFLINE" in message  # why nothing was downloaded
    assert not (isolated_env / "mnist").exists()


def test_fashion_error_says_how_to_install(monkeypatch, tmp_path: Path) -> None:
    spec = dataclasses.replace(fashion_mnist.SPEC, system_dirs=(tmp_path / "no-debian",))
    monkeypatch.setattr(fashion_mnist, "SPEC", spec)
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist") as info:
        load_fashion_mnist()
    assert str(tmp_path / "no-debian") in str(info.value)


def test_env_var_directory_is_used(tmp_path: Path, monkeypatch) -> None:
    arrays = make_arrays(15)
    write_set(tmp_path / "env", arrays, naming="dot", compress=False)
    monkeypatch.setenv("FERRONET_MNIST_DIR", str(tmp_path / "env"))
    (_, t), _ = load_mnist()
    np.testing.assert_array_equal(t, arrays["t_train"])


def test_data_dir_is_searched_after_the_env_var(tmp_path: Path, monkeypatch, isolated_env) -> None:
    in_data_dir = make_arrays(16)
    write_set(isolated_env / "mnist", in_data_dir)
    (_, t), _ = load_mnist()
    np.testing.assert_array_equal(t, in_data_dir["t_train"])
    in_env = make_arrays(17)
    write_set(tmp_path / "env", in_env)
    monkeypatch.setenv("FERRONET_MNIST_DIR", str(tmp_path / "env"))
    (_, t), _ = load_mnist()
    np.testing.assert_array_equal(t, in_env["t_train"])


def test_path_argument_is_the_only_place_searched(tmp_path: Path, monkeypatch) -> None:
    write_set(tmp_path / "env", make_arrays(18))
    monkeypatch.setenv("FERRONET_MNIST_DIR", str(tmp_path / "env"))
    with pytest.raises(DatasetNotFoundError, match="path argument"):
        load_mnist(path=tmp_path / "empty")


# ---------------------------------------------------------------- npz cache


def cache_files(data: Path) -> list[Path]:
    return sorted((data / "npz").glob("*.npz"))


def test_cache_is_written_in_the_data_dir_and_reused(tmp_path: Path, monkeypatch, isolated_env) -> None:
    arrays = make_arrays(19)
    write_set(tmp_path / "src", arrays)
    before = sorted(p.name for p in (tmp_path / "src").iterdir())
    load_mnist(path=tmp_path / "src")
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == before  # nothing beside the source
    assert data_dir() == isolated_env
    [cached] = cache_files(isolated_env)
    assert cached.name.startswith("mnist-")
    with np.load(cached, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["x_train"], arrays["x_train"])

    def no_parsing(*args, **kwargs):
        raise AssertionError("the source files were parsed although the cache is current")

    monkeypatch.setattr(_mnist_format, "parse", no_parsing)
    (_, t), _ = load_mnist(path=tmp_path / "src")
    np.testing.assert_array_equal(t, arrays["t_train"])


def test_cache_is_invalidated_when_a_source_changes(tmp_path: Path, isolated_env) -> None:
    old = make_arrays(20)
    paths = write_set(tmp_path / "src", old)
    (_, t_old), _ = load_mnist(path=tmp_path / "src")
    [first_cache] = cache_files(isolated_env)
    new = make_arrays(21)
    idx.write_idx(paths["t_train"], new["t_train"])
    stamp = paths["t_train"].stat().st_mtime_ns + 5_000_000_000
    os.utime(paths["t_train"], ns=(stamp, stamp))
    (_, t_new), _ = load_mnist(path=tmp_path / "src")
    np.testing.assert_array_equal(t_old, old["t_train"])
    np.testing.assert_array_equal(t_new, new["t_train"])
    [second_cache] = cache_files(isolated_env)  # the stale cache was removed
    assert second_cache != first_cache


def test_separate_sources_get_separate_caches(tmp_path: Path, isolated_env) -> None:
    a, b = make_arrays(22), make_arrays(23)
    write_set(tmp_path / "a", a)
    write_set(tmp_path / "b", b)
    (_, ta), _ = load_mnist(path=tmp_path / "a")
    (_, tb), _ = load_mnist(path=tmp_path / "b")
    np.testing.assert_array_equal(ta, a["t_train"])
    np.testing.assert_array_equal(tb, b["t_train"])
    assert len(cache_files(isolated_env)) == 2


def test_unwritable_cache_dir_still_loads(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("FERRONET_DATA_DIR", str(blocker))
    arrays = make_arrays(24)
    write_set(tmp_path / "src", arrays)
    (_, t), _ = load_mnist(path=tmp_path / "src")
    np.testing.assert_array_equal(t, arrays["t_train"])


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"garbage")


def _flip_a_pixel(path: Path) -> None:  # only the members' CRC-32 can tell
    data = bytearray(path.read_bytes())
    data[data.index(b"\x93NUMPY") + 1000] ^= 0x10  # inside x_train's pixels
    path.write_bytes(bytes(data))


def _drop_a_key(path: Path) -> None:
    with np.load(path) as npz:
        kept = {k: npz[k] for k in npz.files if k != "t_test"}
    with open(path, "wb") as fh:
        np.savez(fh, **kept)


def _other_shapes(path: Path) -> None:  # a valid archive with every key, but not of these sources
    with open(path, "wb") as fh:
        np.savez(fh, **make_arrays(99, n_train=19))


@pytest.mark.parametrize("damage", [_truncate, _garbage, _flip_a_pixel, _drop_a_key, _other_shapes])
def test_damaged_cache_is_rebuilt_from_the_sources(tmp_path: Path, isolated_env, damage) -> None:
    arrays = make_arrays(25)
    write_set(tmp_path / "src", arrays)
    load_mnist(path=tmp_path / "src")
    [cached] = cache_files(isolated_env)
    damage(cached)
    for _ in range(2):  # the first load repairs the cache, the second uses it
        (x, t), (xt, tt) = load_mnist(normalize=False, path=tmp_path / "src")
        np.testing.assert_array_equal(x, arrays["x_train"].reshape(20, 784))
        np.testing.assert_array_equal(t, arrays["t_train"])
        np.testing.assert_array_equal(xt, arrays["x_test"].reshape(10, 784))
        np.testing.assert_array_equal(tt, arrays["t_test"])
        assert cache_files(isolated_env) == [cached]
        with np.load(cached, allow_pickle=False) as npz:  # repaired: a complete, current cache
            for key in _mnist_format.KEYS:
                np.testing.assert_array_equal(npz[key], arrays[key])


def test_repaired_cache_is_used_without_parsing(tmp_path: Path, monkeypatch, isolated_env) -> None:
    write_set(tmp_path / "src", make_arrays(28))
    load_mnist(path=tmp_path / "src")
    [cached] = cache_files(isolated_env)
    _truncate(cached)
    load_mnist(path=tmp_path / "src")
    monkeypatch.setattr(_mnist_format, "parse", lambda *a, **k: pytest.fail("parsed despite a repaired cache"))
    load_mnist(path=tmp_path / "src")


def test_cache_is_written_atomically_with_fsync(tmp_path: Path, monkeypatch, isolated_env) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    write_set(tmp_path / "src", make_arrays(29))
    synced.clear()  # (writing the sources above is atomic too)
    load_mnist(path=tmp_path / "src")
    assert synced == ["file", "dir"]
    assert [p.name for p in (isolated_env / "npz").iterdir()] == [cache_files(isolated_env)[0].name]


def test_a_killed_writer_s_leftovers_are_removed_on_the_next_store(tmp_path: Path, isolated_env) -> None:
    write_set(tmp_path / "src", make_arrays(30))
    load_mnist(path=tmp_path / "src")
    [cached] = cache_files(isolated_env)
    leftover = cached.parent / f".{cached.name}.tmp-0123abcd"
    leftover.write_bytes(b"half a cache")
    unrelated = cached.parent / ".fashion-mnist-0000000000000000-1111111111111111.npz.tmp-0123abcd"
    unrelated.write_bytes(b"another data set's")
    cached.unlink()
    load_mnist(path=tmp_path / "src")
    assert not leftover.exists() and unrelated.exists() and cached.exists()


# ---------------------------------------------------------------- download (from a local file:// mirror)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_from_a_mirror_when_nothing_is_local(tmp_path: Path, monkeypatch, isolated_env) -> None:
    arrays = make_arrays(26)
    paths = write_set(tmp_path / "mirror", arrays)
    spec = dataclasses.replace(
        mnist.SPEC,
        md5={p.name: _md5(p) for p in paths.values()},
        mirrors=("file:///nonexistent-mirror/", (tmp_path / "mirror").as_uri() + "/"),
    )
    monkeypatch.setattr(mnist, "SPEC", spec)
    monkeypatch.delenv("FERRONET_OFFLINE")
    (_, t), (_, tt) = load_mnist()
    np.testing.assert_array_equal(t, arrays["t_train"])
    np.testing.assert_array_equal(tt, arrays["t_test"])
    assert sorted(p.name for p in (isolated_env / "mnist").iterdir()) == sorted(spec.md5)


def test_download_with_a_wrong_checksum_fails(tmp_path: Path, monkeypatch, isolated_env) -> None:
    paths = write_set(tmp_path / "mirror", make_arrays(27))
    spec = dataclasses.replace(mnist.SPEC, md5={p.name: "0" * 32 for p in paths.values()},
                               mirrors=((tmp_path / "mirror").as_uri() + "/",))
    monkeypatch.setattr(mnist, "SPEC", spec)
    monkeypatch.delenv("FERRONET_OFFLINE")
    with pytest.raises(DatasetNotFoundError, match="MD5"):
        load_mnist()
    assert not list((isolated_env / "mnist").glob("*ubyte*"))


def test_failed_download_leaves_no_partial_or_temporary_file(tmp_path: Path, monkeypatch, isolated_env) -> None:
    paths = write_set(tmp_path / "mirror", make_arrays(31))
    good = {p.name: _md5(p) for p in paths.values()}
    bad = dict(good, **{"t10k-images-idx3-ubyte.gz": "0" * 32})
    spec = dataclasses.replace(mnist.SPEC, md5=bad, mirrors=((tmp_path / "mirror").as_uri() + "/",))
    monkeypatch.setattr(mnist, "SPEC", spec)
    monkeypatch.delenv("FERRONET_OFFLINE")
    (isolated_env / "mnist").mkdir(parents=True)  # exists already, so it stays
    with pytest.raises(DatasetNotFoundError, match="MD5"):
        load_mnist()
    # the files before the bad one arrived whole; the bad one left nothing, not even a temporary file
    assert sorted(p.name for p in (isolated_env / "mnist").iterdir()) == ["train-images-idx3-ubyte.gz",
                                                                         "train-labels-idx1-ubyte.gz"]


# ---------------------------------------------------------------- real Fashion-MNIST


@pytest.mark.skipif(not fashion_mnist_available(),
                    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist() -> None:
    (x, t), (xt, tt) = load_fashion_mnist()
    assert x.shape == (60000, 784) and xt.shape == (10000, 784) and x.dtype == np.float32
    assert 0.0 == x.min() and x.max() == 1.0
    # Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
    np.testing.assert_array_equal(np.bincount(t, minlength=10), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(tt, minlength=10), np.full(10, 1000))
    (x4, _), _ = load_fashion_mnist(normalize=False, flatten=False)
    assert x4.shape == (60000, 1, 28, 28) and x4.dtype == np.uint8
    np.testing.assert_array_equal(x4.reshape(60000, 784)[:100].astype(np.float32) / np.float32(255), x[:100])


# ---------------------------------------------------------------- shipped digits


def test_digits_shapes_and_split() -> None:
    (x, t), (xt, tt) = load_digits()
    assert x.shape[0] + xt.shape[0] == 1797
    assert x.shape[1] == xt.shape[1] == 64 and x.dtype == np.float32
    assert 0.0 == x.min() and x.max() == 1.0
    assert t.dtype == np.uint8 and set(np.unique(t)) == set(range(10)) == set(np.unique(tt))
    # stratified: every class is split in (about) the same proportion
    share = np.bincount(tt, minlength=10) / (np.bincount(t, minlength=10) + np.bincount(tt, minlength=10))
    assert np.all(np.abs(share - 0.2) < 0.02)
    # the two parts are disjoint images of the same set: no row appears in both
    train_rows = {row.tobytes() for row in x}
    assert sum(row.tobytes() in train_rows for row in xt) < 5  # (a few true duplicates exist in the data)


def test_digits_options_and_determinism() -> None:
    (x, t), (xt, tt) = load_digits(normalize=False, flatten=False, one_hot_label=True, seed=3)
    assert x.shape[1:] == (1, 8, 8) and x.dtype == np.uint8 and x.max() == 16
    assert t.shape == (x.shape[0], 10) and t.dtype == np.float32
    (x2, t2), _ = load_digits(normalize=False, flatten=False, one_hot_label=True, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(t, t2)
    (x3, _), _ = load_digits(normalize=False, flatten=False, seed=4)
    assert not np.array_equal(x, x3)
    (xn, _), _ = load_digits(seed=3)
    np.testing.assert_allclose(xn, x.reshape(-1, 64) / 16.0, rtol=1e-6)
