"""Every native binding, fuzzed against the NumPy reference in a child process
(``tests/fuzz_bindings.py``): an abort or a hang fails this test instead of
killing or stalling pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import requires_native

SCRIPT = Path(__file__).with_name("fuzz_bindings.py")


#: (examples, seed): the derandomized run, then runs with seeds that once found disagreements (a stride of
#: 2**63 in max pooling, the order of rrelu's checks, a pad of 2**40 in im2col and the convolution) or a
#: hang (308: a convolution of 2**45 images of no channels looped over the images, ~45 s)
RUNS = [(2500, None), (6000, 11), (6000, 12), (8000, 101), (20000, 308)]


@requires_native
@pytest.mark.parametrize("examples, seed", RUNS)
def test_no_binding_aborts_panics_hangs_or_disagrees_with_the_reference(examples, seed):
    args = [str(examples)] + ([] if seed is None else [str(seed)])
    try:
        result = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the fuzz run hung:\n{exc.stdout}\n{exc.stderr}") from None
    assert result.returncode == 0, f"exit code {result.returncode}\n{result.stdout}\n{result.stderr[-4000:]}"
    assert "fuzz OK" in result.stdout
