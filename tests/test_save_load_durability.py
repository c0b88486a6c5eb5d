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
#: printing k once save_params(k) has returned.
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


def stop(child: subprocess.Popen) -> None:
    """Freeze the child and wait until it is really stopped."""
    os.kill(child.pid, signal.SIGSTOP)
    os.waitpid(child.pid, os.WUNTRACED)


def kill_while_writing(child: subprocess.Popen, directory: Path, after_saves: int) -> None:
    """SIGKILL ``child`` while it is inside its save number ``after_saves + 1`` or later.

    Waits for ``after_saves`` completed saves, then for a temporary file; the
    child is stopped and killed only if the temporary file still exists while
    it is stopped (otherwise it is let go on and caught on a later save).
    """
    deadline = time.monotonic() + DEADLINE_SECONDS
    done = 0
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        assert line, "the saving child exited early"
        done = int(line)
        if done >= after_saves:
            break
    while time.monotonic() < deadline:
        assert child.poll() is None, "the saving child exited early"
        if temp_files(directory):
            stop(child)
            if temp_files(directory):  # frozen mid-write: the rename has not happened
                child.send_signal(signal.SIGKILL)
                child.wait()
                return
            os.kill(child.pid, signal.SIGCONT)
        time.sleep(0.001)
    child.kill()
    child.wait()
    pytest.fail(f"never caught the child writing within {DEADLINE_SECONDS} s")


def test_sigkill_during_save_leaves_the_previous_file_loadable(tmp_path: Path) -> None:
    target = tmp_path / "params.npz"
    filled_net(0.0).save_params(target)
    child = subprocess.Popen(
        [sys.executable, "-c", SAVING_CHILD.format(big=BIG), str(target)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        kill_while_writing(child, tmp_path, after_saves=2)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    completed = [int(line) for line in child.stdout.read().split()]
    child.stdout.close()
    # Every save the child reported finished is on disk; the one it was killed in is not.
    last_complete = max([2, *completed])
    [partial] = temp_files(tmp_path)
    assert partial.name.startswith(".params.npz.tmp-")
    assert partial.stat().st_size < target.stat().st_size  # really cut off mid-write

    net = filled_net(-1.0)
    net.load_params(target)
    for name, p in net.params.items():
        assert np.all(p == last_complete), f"{name} does not hold the last completed save"
    leftover = partial.rename(tmp_path / "leftover.npz")
    with pytest.raises(ValueError) as info:  # the cut-off file is refused, by name
        filled_net(-1.0).load_params(leftover)
    assert str(info.value).startswith(str(leftover))


def test_failed_save_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "params.npz"
    filled_net(1.0, **SMALL).save_params(target)
    real_savez = np.savez

    def disk_full(fh, **arrays):
        real_savez(fh, **arrays)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space"):
        filled_net(2.0, **SMALL).save_params(target)
    monkeypatch.undo()
    net = filled_net(0.0, **SMALL)
    net.load_params(target)
    assert all(np.all(p == 1.0) for p in net.params.values())
    assert temp_files(tmp_path) == []


def test_save_appends_npz_and_writes_no_pickle(tmp_path: Path) -> None:
    written = filled_net(3.0, **SMALL).save_params(tmp_path / "book")
    assert written == tmp_path / "book.npz"
    with zipfile.ZipFile(written) as archive:
        assert sorted(archive.namelist()) == ["W1.npy", "W2.npy", "b1.npy", "b2.npy"]
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
