"""Native at 1 thread against native at n threads, side by side in one process.

The suite's passes time each thread count in a process of its own, minutes
apart; on a shared machine the speed drifts between them, so comparing the
same case across two passes shows "slower with more threads" where nothing
differs (a case that stays on one thread at both settings, say).  The
target "native at 2 threads never slower than at 1" compares native with
native, so it is measured the way every other ratio here is: in one
comparison, samples interleaved.  One process (``python -m
ferronet.bench.worker --side-by-side``, started like the n-thread pass, so
NumPy's BLAS and torch have n threads) times each case's native callable
at 1 thread and at n threads (``ferronet.set_num_threads`` switched around
each sample), the Load beside it as in the pass.  Cases whose native work
runs in processes of their own (``Case.in_process`` False) get the setting
in their backend name (``native@1``) and start their processes at that
many threads.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any

Entry = dict[str, Any]

#: Samples per setting at least, in a full run.  The passes time the epochs
#: and DeepConvNet's steps twice; a ratio of two medians of two samples on
#: this kind of machine moves by 10-25% between runs.
MIN_REPEATS = 5
#: Samples per setting of the cases that take the suite's default count
#: (each sample ~``min_time`` long) and of the training processes.  The
#: target's bound is 1, and these include the cases too small for a second
#: thread, and two processes (at 1 thread they already fill two cores, so
#: equal is their best at 2), whose two settings differ only by noise:
#: ``targets.slower_in_pairs`` tells a real difference from it on the pairs
#: of samples, and needs enough of them.
REPEATS = 15


def settings(threads: int) -> tuple[str, str]:
    """The two backends timed: native at 1 thread and native at ``threads``."""
    return "native@1", f"native@{threads}"


def parse(backend: str) -> tuple[str, int | None]:
    """A backend name and the thread count it names: ``"native@1"`` -> ``("native", 1)``, a plain
    name -> ``(name, None)``."""
    library, _, threads = backend.partition("@")
    return library, int(threads) if threads else None


def split(entry: Entry) -> list[Entry]:
    """One entry per setting (``threads`` 1 and n, times under ``"native"``) from an entry timed on both."""
    out = []
    for setting, timing in entry["times"].items():
        threads = parse(setting)[1]
        notes = {"native": note for key, note in entry.get("notes", {}).items() if key == setting}
        out.append({**entry, "threads": threads, "times": {"native": timing}, "notes": notes})
    return out


def with_min_repeats(group: list[Any], default: int) -> list[Any]:
    """``group``'s cases, the first (whose repeats a bundle shares) with at least :data:`MIN_REPEATS` samples,
    or :data:`REPEATS` when it takes the suite's ``default`` or runs in processes of its own."""
    if not group:
        return group
    first = group[0]
    paired = not first.repeats or not first.in_process
    repeats = max(first.repeats or default, REPEATS if paired else MIN_REPEATS)
    return [dataclasses.replace(first, repeats=repeats), *group[1:]]


def run(threads: int, quick: bool, only: list[str] | None = None, log=sys.stderr) -> dict[str, Any]:
    """Every native case of the suite, at 1 thread and at ``threads``; returns the JSON-able record."""
    import ferronet
    from ferronet.bench import cases
    from ferronet.bench.worker import THREAD_VARS, describe, time_together

    if threads < 2:
        raise ValueError(f"a side-by-side run compares 1 thread with more, got {threads}")
    ferronet.set_num_threads(threads)
    sizes = cases.QUICK if quick else cases.FULL
    results = []
    for item in cases.suite(sizes, None, use_real_data=not quick, threads=threads):
        group = [c for c in (item.cases if isinstance(item, cases.Bundle) else (item,))
                 if not only or c.group in only]
        if not quick:
            group = with_min_repeats(group, sizes.repeats)
        if not group:
            continue
        for entry in time_together(group, settings(threads), sizes, threads, extra_backends=False):
            if not entry["times"]:  # no native form (the copy case)
                continue
            results += split(entry)
            print(f"  [1 vs {threads} threads] {entry['case']:<34} {describe(entry)}", file=log, flush=True)
        del item, group
    return {"threads": threads, "quick": quick, "env": {v: os.environ.get(v) for v in THREAD_VARS},
            "results": results}
