"""ferronet.numpy_blas_threads: NumPy's BLAS held at a thread count, then given back."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import ferronet

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]


def _numpy_blas() -> None:
    if not _blas_threads():
        pytest.skip("NumPy here has no BLAS library threadpoolctl can see")


def test_the_limit_holds_in_the_block_and_the_counts_come_back_after() -> None:
    _numpy_blas()
    before = _blas_threads()
    with ferronet.numpy_blas_threads(1) as limit:
        assert _blas_threads() == [1] * len(before)
        assert "in effect" in repr(limit)
    assert _blas_threads() == before
    assert "restored" in repr(limit)


def test_restore_gives_the_counts_back_once() -> None:
    _numpy_blas()
    before = _blas_threads()
    limit = ferronet.numpy_blas_threads(1)
    assert _blas_threads() == [1] * len(before)
    limit.restore()
    limit.restore()
    assert _blas_threads() == before


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError),
                                        ("2", TypeError), (None, TypeError)])
def test_the_count_must_be_an_int_of_at_least_one(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="BLAS thread count"):
        ferronet.numpy_blas_threads(bad)  # type: ignore[arg-type]


SPIN_AFTER_MATMULS = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import ferronet

    def other_threads_cpu_ms():
        me = str(os.getpid())
        total = 0
        for tid in os.listdir("/proc/self/task"):
            if tid != me:
                with open(f"/proc/self/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
        return total / 1e6

    a = np.ones((256, 256), np.float32)
    limit = ferronet.numpy_blas_threads(1) if sys.argv[1] == "limited" else None
    ferronet.share_blas_threads(sys.argv[1] == "shared")
    time.sleep(0.5)  # OpenBLAS's workers spin for a while after they start, with NumPy: let that end first
    for _ in range(20):
        a @ a
    start = other_threads_cpu_ms()
    time.sleep(0.3)
    print(other_threads_cpu_ms() - start)
""")


def _cpu_of_other_threads_after_matmuls(mode: str) -> float:
    """CPU milliseconds the process's other threads use in the 0.3 s after 20 NumPy matmuls (a fresh process):
    ``mode`` "limited" (one BLAS thread), "own" (OpenBLAS's own threads) or "shared" (ferronet's)."""
    # OpenBLAS's own thread count, whatever earlier tests left in the environment (Dask sets these to 1)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", SPIN_AFTER_MATMULS, mode], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads per-thread CPU time from /proc")
def test_under_the_limit_no_blas_thread_spins_after_numpy_matmuls() -> None:
    _numpy_blas()
    if not any(pool["internal_api"] == "openblas" and pool["num_threads"] > 1
               for pool in threadpoolctl.threadpool_info()):
        pytest.skip("needs NumPy on a multi-threaded OpenBLAS")
    # on its own threads OpenBLAS's workers busy-wait after their work (about 0.1 s of CPU each); limited
    # to one thread, the matmuls run on the calling thread and nothing else runs; on ferronet's threads
    # (the default), the workers sleep 0.1 ms after the last matmul
    assert _cpu_of_other_threads_after_matmuls("limited") < 5.0
    assert _cpu_of_other_threads_after_matmuls("own") > 5.0
    assert _cpu_of_other_threads_after_matmuls("shared") < 5.0
