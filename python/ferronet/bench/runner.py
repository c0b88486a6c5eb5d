"""Run the benchmark suite: one fresh child process per thread count, results merged.

Thread counts must be fixed before NumPy (OpenBLAS) or torch is imported,
hence the child processes (``ferronet.bench.worker``) with
``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` set.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ferronet.bench import machine, report, targets
from ferronet.bench.worker import child_env


def run_child(threads: int, quick: bool, use_torch: bool, only: Sequence[str] | None = None,
              side_by_side: bool = False) -> dict[str, Any]:
    """Run the worker at ``threads`` threads in a new interpreter (``side_by_side``: native at 1 thread
    against ``threads``, see ``bench.side_by_side``); returns its JSON record."""
    with tempfile.TemporaryDirectory(prefix="ferronet-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "ferronet.bench.worker", "--threads", str(threads), "--out", str(out)]
        if quick:
            cmd.append("--quick")
        if not use_torch:
            cmd.append("--no-torch")
        if only:
            cmd += ["--only", ",".join(only)]
        if side_by_side:
            cmd.append("--side-by-side")
        proc = subprocess.run(cmd, env=child_env(threads), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"benchmark worker ({threads} threads) failed with exit code "
                               f"{proc.returncode}:\n{proc.stdout}")
        record = json.loads(out.read_text())
        record["log"] = proc.stdout
        return record


def _logged_child(log: TextIO | None, what: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """:func:`run_child`, saying ``what`` first and printing the child's log lines to ``log``."""
    if log:
        print(f"{what} ...", file=log, flush=True)
    child = run_child(*args, **kwargs)
    lines = child.pop("log")
    if log:
        print(lines, end="", file=log, flush=True)
    return child


def run(threads: Sequence[int] = (1, 2), quick: bool = False, use_torch: bool = True,
        only: Sequence[str] | None = None, log: TextIO | None = sys.stdout) -> dict[str, Any]:
    """Time the suite at each thread count and return the merged record (see ``benches/README.md``)."""
    record: dict[str, Any] = {
        "schema": 2,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "threads": list(threads),
        "machine": machine.describe(),
        "runs": [],
        "results": [],
    }
    for n in threads:
        child = _logged_child(log, f"benchmarking with {n} thread{'s' if n > 1 else ''}{' (quick)' if quick else ''}",
                              n, quick, use_torch, only)
        record["results"].extend(report.derive(e) for e in child.pop("results"))
        record["runs"].append(child)
    most = max(threads, default=1)
    if 1 in threads and most > 1 and any(e["threads"] == 1 and "native" in e["times"] for e in record["results"]):
        child = _logged_child(log, f"native at 1 thread against {most}, side by side", most, quick, use_torch, only,
                              side_by_side=True)
        child["results"] = [report.derive(e) for e in child["results"]]
        record["side_by_side"] = child
    record["targets"] = targets.check(record)
    torch_info = record["runs"][0]["torch"] if record["runs"] else {}
    record["torch_version"] = torch_info.get("version")
    if torch_info.get("reason"):
        record["torch_reason"] = torch_info["reason"]
        if log:
            print(f"PyTorch skipped: {torch_info['reason']}", file=log)
    return record


def write(record: dict[str, Any], json_path: str | os.PathLike[str] | None = None,
          markdown_path: str | os.PathLike[str] | None = None) -> str:
    """Write the JSON and/or Markdown files (creating directories); returns the Markdown."""
    text = report.markdown(record)
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(record, indent=1) + "\n")
    if markdown_path:
        Path(markdown_path).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown_path).write_text(text)
    return text
