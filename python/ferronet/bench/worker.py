"""One benchmark process at one thread count: ``python -m ferronet.bench.worker``.

The parent (``ferronet.bench.runner``) starts it with
``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` already
set, so NumPy's BLAS and torch start with that many threads; this process
also calls ``ferronet.set_num_threads`` and ``torch.set_num_threads``.  It
writes its results as JSON to ``--out`` and progress lines to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from types import ModuleType
from typing import Any, ContextManager

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _load_torch(enabled: bool) -> tuple[ModuleType | None, str]:
    if not enabled:
        return None, "disabled (--no-torch)"
    try:
        from ferronet.bench import torch_impl
    except ImportError as exc:
        return None, f"not available ({exc})"
    return torch_impl, torch_impl.VERSION


def _enter(name: str) -> ContextManager[Any]:
    import ferronet

    return ferronet.use_backend(name) if name in ("native", "numpy") else contextlib.nullcontext()


def _describe(entry: dict[str, Any]) -> str:
    parts = []
    for backend, timing in entry["times"].items():
        if "error" in timing:
            parts.append(f"{backend}: ERROR")
        else:
            parts.append(f"{backend} {timing['median'] * 1e3:.3g} ms")
    return ", ".join(parts)


def run_cases(threads: int, quick: bool, use_torch: bool, only: list[str] | None = None,
              log=sys.stderr) -> dict[str, Any]:
    """Time every case at ``threads`` threads in this process; returns the JSON-able record."""
    import ferronet
    from ferronet.bench import cases, timing

    ferronet.set_num_threads(threads)
    torch, torch_status = _load_torch(use_torch)
    if torch is not None:
        torch.set_num_threads(threads)
    backends = [b for b in ("native", "numpy") if b == "numpy" or ferronet.native_available()]
    if torch is not None:
        backends.append("torch")
    sizes = cases.QUICK if quick else cases.FULL
    results = []
    for case in cases.suite(sizes, torch, use_real_data=not quick):
        if only and case.group not in only:
            continue
        fns, warmups, notes, scales = {}, {}, {}, {}
        for backend in backends:
            try:
                built = case.build(backend)
            except Exception as exc:  # e.g. a network module that does not exist yet
                notes[backend] = f"could not build: {type(exc).__name__}: {exc}"
                continue
            if built is None:
                continue
            fns[backend] = built.fn
            if built.warmup is not None:
                warmups[backend] = built.warmup
            if built.note:
                notes[backend] = built.note
            if built.scale != 1:
                scales[backend] = built.scale
        times = timing.compare(fns, repeats=case.repeats or sizes.repeats, min_time=sizes.min_time,
                               enter=_enter, number=case.number, warmup=warmups)
        for backend, factor in scales.items():
            times[backend] = timing.extrapolate(times[backend], factor)
        for backend, note in notes.items():
            if backend not in times:
                times[backend] = {"error": note}
        entry = {
            "group": case.group, "case": case.label, "shape": case.shape, "threads": threads,
            "unit": case.unit, "work": case.work, "steps": case.steps, "times": times,
            "notes": {b: n for b, n in notes.items() if "error" not in times.get(b, {})}, **case.info,
        }
        results.append(entry)
        print(f"  [{threads} thread{'s' if threads > 1 else ''}] {case.label:<34} {_describe(entry)}",
              file=log, flush=True)
        del case, fns, warmups
    return {
        "threads": threads,
        "quick": quick,
        "env": {v: os.environ.get(v) for v in THREAD_VARS},
        "ferronet": ferronet.build_info(),
        "torch": {"version": torch_status} if torch is not None else {"version": None, "reason": torch_status},
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ferronet.bench.worker", description=__doc__)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--out", required=True, help="where to write the JSON record")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--only", help="comma-separated case groups (e.g. matmul,adam)")
    args = parser.parse_args(argv)
    only = [g.strip() for g in args.only.split(",")] if args.only else None
    record = run_cases(args.threads, args.quick, not args.no_torch, only)
    with open(args.out, "w") as fh:
        json.dump(record, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
