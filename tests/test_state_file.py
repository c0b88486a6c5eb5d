"""ferronet.training.state_file: nested states in one .npz, read back without pickle."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ferronet.training import state_file
from ferronet.training.state_file import read_state, write_state


def test_a_nested_state_round_trips_exactly(tmp_path: Path) -> None:
    state = {
        "counters": {"iter": 12, "big": 2**127 + 5, "negative": -3},
        "floats": [0.1, 1e-300, float("inf"), float("-inf")],
        "missing": None, "flag": True, "name": "Adam", "numpy_number": np.float32(0.5),
        "arrays": {"f32": np.arange(6, dtype=np.float32).reshape(2, 3), "u32": np.arange(624, dtype=np.uint32),
                   "bool": np.array([True, False]), "empty": np.zeros((0, 4)), "scalar": np.array(2.5)},
        "lists": [{"W1": np.ones(3)}, [1, [2, 3]], ()],
        "nan": float("nan"),
    }
    path = write_state(tmp_path / "state.npz", state)
    assert path == tmp_path / "state.npz"
    back = read_state(path)
    assert back["counters"] == state["counters"]
    assert back["floats"] == state["floats"] and math.isnan(back["nan"])
    assert back["missing"] is None and back["flag"] is True and back["name"] == "Adam"
    assert back["numpy_number"] == 0.5
    for key, array in state["arrays"].items():
        assert back["arrays"][key].dtype == array.dtype
        np.testing.assert_array_equal(back["arrays"][key], array)
    np.testing.assert_array_equal(back["lists"][0]["W1"], np.ones(3))
    assert back["lists"][1:] == [[1, [2, 3]], []]


def test_arrays_are_members_named_by_their_path(tmp_path: Path) -> None:
    write_state(tmp_path / "s.npz", {"optimizer": {"m": {"W1": np.ones(2)}}, "n": 3})
    with zipfile.ZipFile(tmp_path / "s.npz") as archive:
        assert sorted(archive.namelist()) == ["__state__.npy", "optimizer/m/W1.npy"]
    with np.load(tmp_path / "s.npz", allow_pickle=False) as loaded:  # a plain .npz, no pickle inside
        document = json.loads(loaded["__state__"].tobytes())
    assert document == {"format": "ferronet-state", "version": 1,
                        "state": {"optimizer": {"m": {"W1": {"__array__": "optimizer/m/W1"}}}, "n": 3}}


@pytest.mark.parametrize("bad, error, message", [
    ({"x": np.array([object()], dtype=object)}, TypeError, "without pickle"),
    ({"x": {1: 2}}, TypeError, "keys must be strings"),
    ({"x": {1, 2}}, TypeError, "cannot save a set"),
    ({"x": {"__array__": "y"}}, ValueError, "reserved"),
])
def test_what_cannot_be_saved_is_refused_before_writing(tmp_path: Path, bad, error, message) -> None:
    with pytest.raises(error, match=message):
        write_state(tmp_path / "s.npz", bad)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left


def test_a_weight_file_is_not_a_state(tmp_path: Path) -> None:
    np.savez(tmp_path / "params.npz", W1=np.ones(2))
    with pytest.raises(ValueError, match=r"params\.npz: not a ferronet state file .*weight file"):
        read_state(tmp_path / "params.npz")


def test_damaged_files_are_errors_naming_the_file(tmp_path: Path) -> None:
    path = write_state(tmp_path / "s.npz", {"W": np.arange(1000.0)})
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    for file in (truncated, garbage):
        with pytest.raises(ValueError, match=f"^{file}"):
            read_state(file)
    with pytest.raises(FileNotFoundError):
        read_state(tmp_path / "missing.npz")


@pytest.mark.parametrize("document, message", [
    (b"\xff\xfe", "damaged"),
    (b"[1, 2]", "not a ferronet state file"),
    (json.dumps({"format": "ferronet-state", "version": 99, "state": {}}).encode(), "version 99"),
    (json.dumps({"format": "ferronet-state", "version": 1, "state": {"W": {"__array__": "W"}}}).encode(),
     "does not hold"),
])
def test_a_bad_document_is_an_error_naming_the_file(tmp_path: Path, document: bytes, message: str) -> None:
    path = tmp_path / "s.npz"
    np.savez(path, **{state_file.DOCUMENT: np.frombuffer(document, dtype=np.uint8)})
    with pytest.raises(ValueError, match=f"^{path}: .*{message}"):
        read_state(path)


def test_a_pickled_member_is_never_loaded(tmp_path: Path) -> None:
    path = tmp_path / "s.npz"
    np.savez(path, __state__=np.frombuffer(json.dumps(
        {"format": "ferronet-state", "version": 1, "state": {"x": {"__array__": "x"}}}).encode(), dtype=np.uint8),
        x=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickled Python objects"):
        read_state(path)
