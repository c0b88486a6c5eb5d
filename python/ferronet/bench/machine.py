"""A description of the machine and software a benchmark ran on (for the JSON and the table)."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def numpy_blas() -> dict[str, Any]:
    """Name, version and configuration of the BLAS NumPy was built with."""
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]  # NumPy >= 1.26
        blas = deps.get("blas", {})
        return {k: blas.get(k) for k in ("name", "version", "openblas configuration") if blas.get(k)}
    except Exception:  # older NumPy: no dict mode
        cfg = getattr(np, "__config__", None)
        info = getattr(cfg, "blas_opt_info", None) or getattr(cfg, "blas_ilp64_opt_info", None) or {}
        return {"name": ",".join(info.get("libraries", [])) or "unknown"}


def describe() -> dict[str, Any]:
    """CPU model, logical cores (and those usable here), memory, OS, Python, NumPy + BLAS, ferronet."""
    import ferronet

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_bytes": _memory_bytes(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": np.__version__,
        "numpy_blas": numpy_blas(),
        "ferronet": ferronet.build_info(),
    }


def summary(machine: dict[str, Any], torch_version: str | None) -> str:
    """One readable line per item, for the head of the Markdown report."""
    mem = machine.get("memory_bytes")
    blas = machine.get("numpy_blas", {})
    fn = machine.get("ferronet", {})
    native = (f"native core loaded (SIMD: {', '.join(fn.get('simd', [])) or 'none'})" if fn.get("native")
              else f"native core NOT loaded ({fn.get('native_error')})")
    lines = [
        f"- CPU: {machine['cpu']}, {machine['logical_cores']} logical cores "
        f"({machine['usable_cores']} usable), {mem / 2**30:.1f} GiB RAM" if mem else
        f"- CPU: {machine['cpu']}, {machine['logical_cores']} logical cores",
        f"- OS: {machine['os']}; Python {machine['python']}",
        f"- NumPy {machine['numpy']} with {blas.get('name', '?')} {blas.get('version', '')}".rstrip(),
        f"- PyTorch: {torch_version}" if torch_version else "- PyTorch: not available",
        f"- ferronet {fn.get('version')}: {native}",
    ]
    return "\n".join(lines)
