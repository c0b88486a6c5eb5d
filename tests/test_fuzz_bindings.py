"""Every native binding, fuzzed against the NumPy reference in a child process
(``tests/fuzz_bindings.py``): an abort or a hang fails this test instead of
killing or stalling pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import requires_native

SCRIPT = Path(__file__).with_name("fuzz_bindings.py")


@requires_native
def test_no_binding_aborts_panics_hangs_or_disagrees_with_the_reference():
    try:
        result = subprocess.run([sys.executable, str(SCRIPT), "2500"], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the fuzz run hung:\n{exc.stdout}\n{exc.stderr}") from None
    assert result.returncode == 0, f"exit code {result.returncode}\n{result.stdout}\n{result.stderr[-4000:]}"
    assert "fuzz OK" in result.stdout
