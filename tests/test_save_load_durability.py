"""save_params never loses the previous file; load_params never trusts a damaged one.

The crash test kills a child process with SIGKILL while it is writing, so
the test process itself never runs the code being killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ferronet import fileio
from ferronet.networks import TwoLayerNet

#: W1 of this network holds 64 MiB of float64: a save takes long enough to be caught mid-write.
BIG = dict(input_size=4096, hidden_size=2048, output_size=10)
SMALL = dict(input_size=6, hidden_size=5, output_size=3)

#: Saves a big network again and again with every parameter filled with k = 1, 2, ...,
#: printing k once save_params has returned (stdout is a file the test polls).
SAVING_CHILD = textwrap.dedent("""
    import sys
    from ferronet.networks import TwoLayerNet
    net = TwoLayerNet(**{big}, seed=0)
    for k in range(1, 10_000):
        for p in net.params.values():
            p.fill(k)
        net.save_params(sys.argv[1])
        print(k, flush=True)
""")

#: A hang guard only: the test fails (it does not pass) when this runs out.
DEADLINE_SECONDS = 300


def filled_net(value: float, **sizes: int) -> TwoLayerNet:
    net = TwoLayerNet(**(sizes or BIG), seed=1)
    for p in net.params.values():
        p.fill(value)
    return net


def temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if fileio.TEMP_MARK in p.name]


def saves_reported(progress: Path) -> list[int]:
    return [int(k) for k in progress.read_text().split()]


def kill_while_writing(child: subprocess.Popen, directory: Path, progress: Path, after_saves: int) -> None:
    """SIGKILL ``child`` while it is inside a save, once it has reported ``after_saves`` completed saves.

    When a temporary file appears the child is stopped (SIGSTOP, waited
    for); it is killed only if the temporary file still exists while it is
    frozen, i.e. before that save's rename.  Otherwise it is let go on and
    caught in a later save.
    """
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        assert child.poll() is None, "the saving child exited early"
        if len(saves_reported(progress)) >= after_saves and temp_files(directory):
            os.kill(child.pid, signal.SIGSTOP)
            os.waitpid(child.pid, os.WUNTRACED)
            if temp_files(directory):  # frozen mid-save
                child.send_signal(signal.SIGKILL)
                child.wait()
                return
            os.kill(child.pid, signal.SIGCONT)
        time.sleep(0.001)
    pytest.fail(f"never caught the child writing within {DEADLINE_SECONDS} s")


def test_sigkill_during_save_leaves_the_previous_file_loadable(tmp_path: Path) -> None:
    weights = tmp_path / "weights"
    weights.mkdir()
    target = weights / "params.npz"
    filled_net(0.0).save_params(target)
    progress = tmp_path / "progress.txt"
    with open(progress, "w") as out:
        child = subprocess.Popen([sys.executable, "-c", SAVING_CHILD.format(big=BIG), str(target)], stdout=out)
    try:
        kill_while_writing(child, weights, progress, after_saves=2)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    last_complete = saves_reported(progress)[-1]  # every save reported finished is on disk, the next is not
    assert last_complete >= 2
    [leftover] = temp_files(weights)
    assert leftover.name.startswith(".params.npz.tmp-")  # recognisable, beside the target

    net = filled_net(-1.0)
    net.load_params(target)
    for name, p in net.params.items():
        assert np.all(p == last_complete), f"{name} does not hold the last completed save"


@pytest.mark.parametrize("fmt", ["npz", "safetensors"])
def test_failed_save_keeps_the_old_file(fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if fmt == "safetensors":
        pytest.importorskip("safetensors")
    target = tmp_path / f"params.{fmt}"
    filled_net(1.0, **SMALL).save_params(target)
    real_replace = os.replace

    def disk_full(src, dst):  # everything written, then the rename fails
        assert Path(src).stat().st_size > 0
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        filled_net(2.0, **SMALL).save_params(target)
    monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.undo()
    net = filled_net(0.0, **SMALL)
    net.load_params(target)
    assert all(np.all(p == 1.0) for p in net.params.values())
    assert temp_files(tmp_path) == []


def test_save_appends_npz_and_writes_no_pickle(tmp_path: Path) -> None:
    written = filled_net(3.0, **SMALL).save_params(tmp_path / "book")
    assert written == tmp_path / "book.npz"
    with zipfile.ZipFile(written) as archive:
        assert sorted(archive.namelist()) == ["W1.npy", "W2.npy", "b1.npy", "b2.npy", "ferronet.json"]
        assert b"TwoLayerNet" in archive.read("ferronet.json")  # the description is JSON text, not a pickle
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.npz"]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "bit flip"])
def test_damaged_file_raises_value_error_naming_it_and_changes_nothing(tmp_path: Path, damage: str) -> None:
    path = filled_net(1.0, **SMALL).save_params(tmp_path / "p.npz")
    data = path.read_bytes()
    if damage == "truncated":
        data = data[: len(data) * 2 // 3]
    elif damage == "garbage":
        data = bytes(range(256)) * 4
    elif damage == "empty":
        data = b""
    else:
        flipped = bytearray(data)
        flipped[data.index(b"\x93NUMPY") + 200] ^= 0x01  # inside W1's 240 data bytes: only the CRC notices
        data = bytes(flipped)
    path.write_bytes(data)
    net = filled_net(7.0, **SMALL)
    with pytest.raises(ValueError) as info:
        net.load_params(path)
    assert not isinstance(info.value, zipfile.BadZipFile)
    assert str(info.value).startswith(str(path))
    assert all(np.all(p == 7.0) for p in net.params.values())


def test_a_header_claiming_a_huge_array_is_refused_before_reading(tmp_path: Path) -> None:
    net = filled_net(1.0, **SMALL)
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, p in net.params.items():
            member = fileio.npy_format.header_data_from_array_1_0(p)
            if name == "W1":
                member["shape"] = (1 << 40, 5)  # 40 TiB of float64, if anyone believed it
            with archive.open(name + ".npy", "w") as fh:
                fileio.npy_format.write_array_header_1_0(fh, member)
                fh.write(p.tobytes())
    with pytest.raises(ValueError, match=r"liar\.npz: parameter 'W1': the file has shape \(1099511627776, 5\)"):
        net.load_params(path)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        filled_net(0.0, **SMALL).load_params(tmp_path / "absent.npz")
