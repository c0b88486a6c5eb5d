"""Choosing the backend: set_backend, use_backend, FERRONET_BACKEND, the
fallback when the native core is missing, and the build description."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import ferronet
from ferronet import ops

from conftest import requires_native


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "FERRONET_BACKEND"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-W", "error", "-c", code], env=full_env,
                          capture_output=True, text=True)


def test_set_get_and_use_backend_restore():
    start = ferronet.get_backend()
    with ferronet.use_backend("numpy"):
        assert ferronet.get_backend() == "numpy"
        assert ops.implementation() is ops.reference
    assert ferronet.get_backend() == start
    with pytest.raises(ValueError, match="unknown backend"):
        ferronet.set_backend("cuda")
    with pytest.raises(RuntimeError), ferronet.use_backend("numpy"):
        raise RuntimeError("an error inside the block")
    assert ferronet.get_backend() == start  # restored even after an exception


@requires_native
def test_default_is_native_and_ops_dispatch_to_it():
    result = run_python("import ferronet; print(ferronet.get_backend())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "native"
    with ferronet.use_backend("native"):
        assert ops.matmul.__wrapped__ is ops.reference.matmul  # documented signature is the reference's
        a = np.ones((2, 2), np.float32)
        assert np.array_equal(ops.matmul(a, a), a @ a)


def test_environment_variable_selects_the_backend():
    result = run_python("import ferronet; print(ferronet.get_backend())", FERRONET_BACKEND="numpy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "numpy"
    bad = run_python("import ferronet", FERRONET_BACKEND="gpu")
    assert bad.returncode != 0 and "FERRONET_BACKEND" in bad.stderr


def test_missing_native_core_falls_back_to_numpy_with_one_warning(tmp_path):
    # A module finder that hides ferronet._native, as if the wheel had no compiled core.
    code = (
        "import sys, warnings\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ferronet._native': raise ImportError('no compiled core')\n"
        "sys.meta_path.insert(0, Hide())\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import ferronet\n"
        "print(ferronet.get_backend(), ferronet.native_available(), len(caught), caught[0].category.__name__)\n"
        "try:\n"
        "    ferronet.set_backend('native')\n"
        "except RuntimeError as exc:\n"
        "    print('refused:', 'not available' in str(exc))\n"
        "print(ferronet.build_info()['native'])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={k: v for k, v in os.environ.items() if k != "FERRONET_BACKEND"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == "numpy False 1 RuntimeWarning"
    assert lines[1] == "refused: True"
    assert lines[2] == "False"


def test_build_info_and_show_config(capsys):
    info = ferronet.build_info()
    assert {"version", "native", "simd", "num_threads", "backend"} <= set(info)
    assert info["version"] == ferronet.__version__
    assert info["backend"] == ferronet.get_backend()
    assert info["num_threads"] >= 1
    if info["native"]:
        assert "sse2" in info["simd"]
    ferronet.show_config()
    out = capsys.readouterr().out
    assert ferronet.__version__ in out and "backend" in out and "threads" in out


@requires_native
def test_thread_count_round_trip():
    before = ferronet.get_num_threads()
    try:
        ferronet.set_num_threads(1)
        assert ferronet.get_num_threads() == 1
        assert ferronet.build_info()["num_threads"] == 1
    finally:
        ferronet.set_num_threads(before)
    with pytest.raises(ValueError):
        ferronet.set_num_threads(0)
