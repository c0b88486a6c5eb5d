"""The memory of large native outputs is kept for reuse when Python frees them
(``rust/kernels/buffers.rs``): reuse is correct, views keep their memory, the
limit holds, and no kernel reads what a previous array left behind."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import ferronet
from ferronet import ops

from conftest import requires_native

pytestmark = requires_native

KEPT_AT_LEAST = 16 << 10  # bytes: smaller outputs come from NumPy's allocator


@pytest.fixture
def cache_limit():
    before = ferronet.buffer_cache()["limit"]
    yield
    ferronet.set_buffer_cache(before)


def test_a_freed_output_is_reused_for_the_next_of_its_size(cache_limit):
    ferronet.set_buffer_cache(64 << 20)
    x = np.random.default_rng(0).standard_normal((64, 1000)).astype(np.float32)   # 256 KB
    y = ops.relu_forward(x)
    assert isinstance(y.base, ferronet._native.Buffer) and y.flags.writeable and y.flags.c_contiguous
    assert y.ctypes.data % 64 == 0
    address = y.ctypes.data
    del y
    assert ferronet.buffer_cache()["kept"] >= x.nbytes
    again = ops.tanh_forward(x)
    assert again.ctypes.data == address
    np.testing.assert_allclose(again, np.tanh(x), rtol=1e-6, atol=1e-7)


def test_a_view_keeps_its_memory_after_the_array_is_gone(cache_limit):
    x = np.random.default_rng(1).standard_normal((64, 1000))
    y = ops.relu_forward(x)
    part = y[10:20]
    want = np.maximum(x[10:20], 0)
    del y
    for _ in range(3):
        other = ops.relu_forward(-x)   # same size: must not get the viewed memory
        assert not np.shares_memory(other, part)
    np.testing.assert_array_equal(part, want)


def test_small_outputs_are_numpys_own():
    y = ops.relu_forward(np.ones(KEPT_AT_LEAST // 8 - 1))
    assert y.base is None and y.flags.owndata


def test_the_limit_bounds_what_is_kept_and_zero_turns_it_off(cache_limit):
    ferronet.set_buffer_cache(1 << 20)
    rng = np.random.default_rng(2)
    arrays = [ops.relu_forward(rng.standard_normal(n).astype(np.float32)) for n in (60_000, 70_000, 80_000, 90_000)]
    del arrays                                     # 1.2 MB freed in all
    assert 0 < ferronet.buffer_cache()["kept"] <= 1 << 20
    assert ferronet.release_buffers() > 0
    assert ferronet.buffer_cache()["kept"] == 0
    ferronet.set_buffer_cache(0)
    y = ops.relu_forward(np.ones(100_000))
    assert y.base is None                          # NumPy allocates, as before the cache
    del y
    assert ferronet.buffer_cache() == {"kept": 0, "limit": 0, "poison": False}


@pytest.mark.parametrize("limit", [None, 0])
def test_an_output_too_large_to_allocate_is_a_memory_error_cache_on_or_off(limit):
    """A 4 TiB output raises MemoryError whether the cache or NumPy allocates it (NumPy's C constructor
    failed inside rust-numpy as a PanicException). In a subprocess, so an abort fails only this test."""
    code = f"""
import numpy as np, ferronet
from ferronet.ops import native as ops
if {limit!r} is not None:
    ferronet.set_buffer_cache({limit!r})
a, b = np.ones((2**20, 1), np.float32), np.ones((1, 2**20), np.float32)
try:
    ops.matmul(a, b)
except MemoryError:
    print("raised MemoryError")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "raised MemoryError"


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("1", TypeError)])
def test_set_buffer_cache_takes_an_int_of_at_least_zero(bad, error, cache_limit):
    with pytest.raises(error, match="max_bytes"):
        ferronet.set_buffer_cache(bad)


def test_show_config_reports_the_cache(capsys):
    ferronet.show_config()
    assert "kept for reuse" in capsys.readouterr().out


def test_every_kernel_writes_every_element_of_its_outputs():
    """The kernel comparisons again with every new output starting as NaN (``FERRONET_POISON_OUTPUTS``):
    reused memory holds what the last array left, so a kernel that skips an element would return it."""
    here = os.path.dirname(__file__)
    env = dict(os.environ, FERRONET_POISON_OUTPUTS="1")
    probe = subprocess.run([sys.executable, "-c", "import ferronet; print(ferronet.buffer_cache()['poison'])"],
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "True"
    files = ["test_kernels_native.py", "test_kernels_native_cnn.py", "test_kernels_native_activations.py",
             "test_kernels_native_loss.py", "test_kernels_native_augment.py"]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files,
                             "-k", "not lower_simd_tiers", "-W", "error"],
                            env=env, capture_output=True, text=True, cwd=here)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
