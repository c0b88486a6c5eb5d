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
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ferronet.bench.side_by_side import parse as parse_backend

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child_env(threads: int) -> dict[str, str]:
    """The environment of a benchmark process at ``threads`` threads, importing this very ferronet."""
    import ferronet

    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    # the child must import this very ferronet, installed or from a source tree
    package_root = str(Path(ferronet.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONWARNINGS", "ignore::RuntimeWarning")  # the "native core missing" notice, once per child
    return env


def _load_torch(enabled: bool) -> tuple[ModuleType | None, str]:
    if not enabled:
        return None, "disabled (--no-torch)"
    try:
        from ferronet.bench import torch_impl
    except ImportError as exc:
        return None, f"not available ({exc})"
    return torch_impl, torch_impl.VERSION


def _backend_of(key: str) -> str:
    """The backend of a timing key ``"<case index>/<backend>"`` (``"load"`` for a case's Load)."""
    return key.rsplit("/", 1)[-1]


@contextlib.contextmanager
def _enter(key: str) -> Iterator[None]:
    """The backend of timing key ``key`` active, and its thread count when it names one (``native@1``)."""
    import ferronet

    library, threads = parse_backend(_backend_of(key))
    with contextlib.ExitStack() as stack:
        if library in ("native", "numpy"):
            stack.enter_context(ferronet.use_backend(library))
        if threads:
            stack.callback(ferronet.set_num_threads, ferronet.get_num_threads())
            ferronet.set_num_threads(threads)
        yield


def describe(entry: dict[str, Any]) -> str:
    """One progress line's figures: each backend's median in ms, or ERROR."""
    parts = []
    for backend, timing in entry["times"].items():
        if "error" in timing:
            parts.append(f"{backend}: ERROR")
        else:
            parts.append(f"{backend} {timing['median'] * 1e3:.3g} ms")
    return ", ".join(parts)


def time_together(group: Sequence[Any], backends: Sequence[str], sizes: Any, threads: int,
                  extra_backends: bool = True) -> list[dict[str, Any]]:
    """Time the cases of ``group`` on every backend in one interleaved comparison; one result entry per case.

    A backend may name a thread count (``native@1``): it is timed with
    ferronet at that many threads, and a case whose native work runs in
    processes of its own (``in_process`` False) gets the name with the
    count, to start them at.  A case's extra backends (ONNX Runtime)
    join unless ``extra_backends`` is False.  A case's
    :class:`~ferronet.bench.cases.Load` is timed alone in the same samples.
    Every ``Built.close`` runs afterwards, also when timing fails.
    """
    from ferronet.bench import timing

    first = group[0]
    fns, warmups, notes, scales, closers = {}, {}, {}, {}, []
    try:
        for i, case in enumerate(group):
            for backend in (*backends, *(case.extra_backends if extra_backends else ())):
                key = f"{i}/{backend}"
                try:
                    built = case.build(parse_backend(backend)[0] if case.in_process else backend)
                except Exception as exc:  # e.g. a network module that does not exist yet
                    notes[key] = f"could not build: {type(exc).__name__}: {exc}"
                    continue
                if built is None:
                    continue
                fns[key] = built.fn
                if built.warmup is not None:
                    warmups[key] = built.warmup
                if built.note:
                    notes[key] = built.note
                if built.scale != 1:
                    scales[key] = built.scale
                if built.close is not None:
                    closers.append(built.close)
            if case.load is not None:
                fns[f"{i}/load"] = case.load.fn
        times = timing.compare(fns, repeats=first.repeats or sizes.repeats, min_time=first.min_time or sizes.min_time,
                               enter=_enter, number=first.number, warmup=warmups, settle=first.settle)
    finally:
        for close in closers:
            close()
    for key, factor in scales.items():
        times[key] = timing.extrapolate(times[key], factor)
    for key, note in notes.items():
        times.setdefault(key, {"error": note})
    entries = []
    for i, case in enumerate(group):
        mine = {_backend_of(key): value for key, value in times.items() if key.startswith(f"{i}/")}
        mine_notes = {_backend_of(key): note for key, note in notes.items() if key.startswith(f"{i}/")}
        load = mine.pop("load", None)
        entry = {
            "group": case.group, "case": case.label, "shape": case.shape, "threads": threads,
            "unit": case.unit, "work": case.work, "steps": case.steps, "times": mine,
            "notes": {b: n for b, n in mine_notes.items() if "error" not in mine.get(b, {})}, **case.info,
        }
        if case.load is not None:
            entry["load"] = {"what": case.load.what, "calls": case.load.calls, **(load or {})}
        entries.append(entry)
    return entries


def run_cases(threads: int, quick: bool, use_torch: bool, only: list[str] | None = None,
              log=sys.stderr) -> dict[str, Any]:
    """Time every case at ``threads`` threads in this process; returns the JSON-able record."""
    import ferronet
    from ferronet.bench import cases

    ferronet.set_num_threads(threads)
    torch, torch_status = _load_torch(use_torch)
    if torch is not None:
        torch.set_num_threads(threads)
    backends = [b for b in ("native", "numpy") if b == "numpy" or ferronet.native_available()]
    if torch is not None:
        backends.append("torch")
    sizes = cases.QUICK if quick else cases.FULL
    results = []
    for item in cases.suite(sizes, torch, use_real_data=not quick, threads=threads):
        group = [c for c in (item.cases if isinstance(item, cases.Bundle) else (item,)) if not only or c.group in only]
        if not group:
            continue
        for entry in time_together(group, backends, sizes, threads):
            results.append(entry)
            print(f"  [{threads} thread{'s' if threads > 1 else ''}] {entry['case']:<34} {describe(entry)}",
                  file=log, flush=True)
        del item, group
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
    parser.add_argument("--side-by-side", action="store_true",
                        help="time native only, at 1 thread and at --threads, interleaved (see bench.side_by_side)")
    args = parser.parse_args(argv)
    if args.side_by_side and args.threads < 2:
        parser.error(f"--side-by-side compares 1 thread with more: --threads must be at least 2, got {args.threads}")
    only = [g.strip() for g in args.only.split(",")] if args.only else None
    if args.side_by_side:
        from ferronet.bench import side_by_side

        record = side_by_side.run(args.threads, args.quick, only)
    else:
        record = run_cases(args.threads, args.quick, not args.no_torch, only)
    with open(args.out, "w") as fh:
        json.dump(record, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
