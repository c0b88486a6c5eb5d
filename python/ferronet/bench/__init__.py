"""ferronet's benchmark suite: native vs the NumPy reference vs PyTorch, float32, side by side.

``ferronet bench`` (or ``benches/run.py``) runs it: :func:`run` times every
case of :mod:`ferronet.bench.cases` at each thread count in a fresh process,
:func:`write` saves JSON and Markdown (see :mod:`ferronet.bench.report`).
"""

from __future__ import annotations

from ferronet.bench.report import markdown
from ferronet.bench.runner import run, write

__all__ = ["markdown", "run", "write"]
