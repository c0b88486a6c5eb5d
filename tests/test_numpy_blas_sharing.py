"""NumPy's BLAS jobs on ferronet's threads (``share_blas_threads``): the same results as on OpenBLAS's own
threads, every job run, safe across threads and ``fork``, and the environment switch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ferronet
from conftest import requires_native
from ferronet.numpy_blas import own_blas_threads


def _numpy_openblas_with_callback() -> bool:
    """Whether NumPy here is built on an OpenBLAS that offers the threads callback (0.3.27 and later)."""
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    if "openblas" not in str(blas.get("name", "")).lower():
        return False
    version = tuple(int(part) for part in str(blas.get("version", "0")).split(".")[:3] if part.isdigit())
    return version >= (0, 3, 27)


requires_sharing = pytest.mark.skipif(not _numpy_openblas_with_callback(),
                                      reason="NumPy here is not built on OpenBLAS >= 0.3.27")


def _run(code: str, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter with ``args`` (a hang fails the test at ``timeout`` instead of
    stalling pytest)."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("FERRONET_SHARE_BLAS_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=full_env,
                          capture_output=True, text=True, timeout=timeout)


@requires_native
@requires_sharing
def test_import_shares_numpys_blas_and_its_calls_come_through() -> None:
    ferronet.share_blas_threads(True)
    sharing = ferronet.blas_sharing()
    assert any("openblas" in os.path.basename(path).lower() for path in sharing["libraries"])
    a = np.random.default_rng(0).random((512, 512))
    before = ferronet.blas_sharing()["calls"]
    a @ a
    assert ferronet.blas_sharing()["calls"] > before, "a multi-threaded matmul went around the callback"


@requires_native
@requires_sharing
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_numpy_gives_the_same_bits_on_ferronets_threads(dtype: type) -> None:
    rng = np.random.default_rng(1)
    shapes = [((512, 512), (512, 512)), ((300, 1000), (1000, 77)), ((1000, 3), (3, 900)), ((64, 4096), (4096, 64))]
    operands = [(rng.standard_normal(sa).astype(dtype), rng.standard_normal(sb).astype(dtype)) for sa, sb in shapes]
    square = rng.standard_normal((400, 400)).astype(dtype)
    spd = (square @ square.T.conj() + 400 * np.eye(400)).astype(dtype)

    def compute() -> list[np.ndarray]:
        products = [a @ b for a, b in operands]
        products += [a.T @ a for a, _ in operands]
        return products + [np.linalg.solve(spd, square), np.linalg.cholesky(spd), np.linalg.qr(square)[1]]

    try:
        ferronet.share_blas_threads(False)
        own = compute()
        calls = ferronet.blas_sharing()["calls"]
        assert ferronet.share_blas_threads(True)
        shared = compute()
        assert ferronet.blas_sharing()["calls"] > calls
    finally:
        ferronet.share_blas_threads(True)
    for expected, got in zip(own, shared):
        np.testing.assert_array_equal(got, expected)


@requires_native
@requires_sharing
def test_matmuls_from_several_python_threads_take_turns_and_stay_right() -> None:
    done = _run("""
        import threading, numpy as np, ferronet
        rng = np.random.default_rng(0)
        a = rng.standard_normal((384, 384)); b = rng.standard_normal((384, 384))
        ferronet.share_blas_threads(False); expected = a @ b; ferronet.share_blas_threads(True)
        wrong = []
        def work():
            for _ in range(60):
                if not np.array_equal(a @ b, expected):
                    wrong.append(1)
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(wrong), ferronet.blas_sharing()["calls"])
    """)
    assert done.returncode == 0, done.stderr
    wrong, calls = map(int, done.stdout.split())
    assert wrong == 0
    assert calls >= 240


FORK_AFTER_BLAS = """
    import os, sys, numpy as np, ferronet
    from ferronet import ops
    a = np.random.default_rng(0).standard_normal((512, 512))
    expected = a @ a                                      # the parent's BLAS jobs ran on ferronet's workers
    x = np.ones((512, 512))
    ops.matmul(x, x)                                      # and a native kernel on its helpers
    pid = os.fork()
    if pid == 0:
        ok = np.array_equal(a @ a, expected) and float(ops.matmul(x, x)[0, 0]) == 512.0
        os._exit(0 if ok and ferronet.blas_sharing()["workers"] >= 1 else 3)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status))
"""


@requires_native
@requires_sharing
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_runs_numpy_and_native_kernels_on_new_workers() -> None:
    done = _run(FORK_AFTER_BLAS, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"


@requires_native
@requires_sharing
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_pool_evaluates_numpy_products_after_the_parent_did() -> None:
    done = _run("""
        import multiprocessing as mp, numpy as np, ferronet
        a = np.random.default_rng(0).standard_normal((400, 400))
        def product(seed):
            b = np.random.default_rng(seed).standard_normal((400, 400))
            return float((a @ b).sum())
        if __name__ == "__main__":
            expected = [product(s) for s in range(6)]   # the parent used the workers first
            with mp.get_context("fork").Pool(2) as pool:
                got = pool.map(product, range(6))
            print(got == expected)
    """, timeout=90)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


@requires_native
@requires_sharing
def test_the_environment_can_leave_numpys_blas_alone() -> None:
    code = """
        import numpy as np, ferronet
        a = np.ones((512, 512)); a @ a
        print(len(ferronet.blas_sharing()["libraries"]), ferronet.blas_sharing()["calls"])
    """
    assert _run(code, FERRONET_SHARE_BLAS_THREADS="0").stdout.split() == ["0", "0"]
    # ferronet imported before NumPy (it loads NumPy's BLAS itself)
    first = _run(code.replace("import numpy as np, ferronet", "import ferronet; import numpy as np"))
    assert first.returncode == 0, first.stderr
    assert first.stdout.split()[0] != "0" and first.stdout.split()[1] != "0"
    shared = _run(code, FERRONET_SHARE_BLAS_THREADS="1").stdout.split()
    assert shared[0] != "0" and shared[1] != "0"
    odd = _run(code, FERRONET_SHARE_BLAS_THREADS="maybe")
    assert odd.returncode == 0
    assert "FERRONET_SHARE_BLAS_THREADS='maybe'" in odd.stderr and "RuntimeWarning" in odd.stderr
    assert odd.stdout.split()[0] != "0"


@requires_native
@requires_sharing
def test_a_block_on_openblas_threads_comes_back_to_ferronets() -> None:
    a = np.random.default_rng(2).random((512, 512))
    try:
        ferronet.share_blas_threads(True)
        calls = ferronet.blas_sharing()["calls"]
        with own_blas_threads():
            a @ a
        assert ferronet.blas_sharing()["calls"] == calls  # OpenBLAS's own threads ran it
        a @ a
        assert ferronet.blas_sharing()["calls"] > calls
        # given back inside the block: the block's end does not share it again
        with own_blas_threads():
            ferronet.share_blas_threads(False)
        calls = ferronet.blas_sharing()["calls"]
        a @ a
        assert ferronet.blas_sharing()["calls"] == calls
    finally:
        ferronet.share_blas_threads(True)


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_the_switch_must_be_a_bool(bad: object) -> None:
    with pytest.raises(TypeError, match="share must be a bool"):
        ferronet.share_blas_threads(bad)  # type: ignore[arg-type]


def test_show_config_says_where_numpys_blas_runs(capsys: pytest.CaptureFixture[str]) -> None:
    ferronet.show_config()
    line = next(line for line in capsys.readouterr().out.splitlines() if "NumPy BLAS" in line)
    sharing = ferronet.blas_sharing()
    if sharing["libraries"]:
        assert "ferronet's threads" in line and os.path.basename(sharing["libraries"][0]) in line
    else:
        assert "its own threads" in line


OPENBLAS_THREADS_CPU = """
    import os, sys, time
    import numpy as np
    a = np.ones((256, 256), np.float32)

    def openblas_threads_cpu_ms():
        # CPU time of the process's threads other than the main one and ferronet's
        total = 0
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/comm") as f:
                if tid == str(os.getpid()) or f.read().startswith("ferronet"):
                    continue
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e6

    def matmuls_for(seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            a @ a

    for _ in range(50):
        a @ a                        # NumPy's work before ferronet: OpenBLAS's worker is busy-waiting now
    import ferronet
    from ferronet.numpy_blas import own_blas_threads
    if sys.argv[1] == "own-block":
        with own_blas_threads():
            for _ in range(50):
                a @ a
    matmuls_for(0.6)                 # its first spin ends
    start = openblas_threads_cpu_ms()
    matmuls_for(0.3)
    print(openblas_threads_cpu_ms() - start)
"""


@requires_native
@requires_sharing
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads per-thread CPU time from /proc")
@pytest.mark.parametrize("before", ["late-import", "own-block"])
def test_openblas_threads_that_worked_before_sharing_do_not_keep_spinning(before: str) -> None:
    # an OpenBLAS worker that had just worked kept busy-waiting beside ferronet's for as long as the NumPy
    # calls went on (a 256x256 matmul took 4-8 ms instead of 0.2); sharing restarts OpenBLAS's threads
    done = _run(OPENBLAS_THREADS_CPU, before)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip()) < 20.0
