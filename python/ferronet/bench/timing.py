"""Timing helpers: warm-up, calibrated inner loops, interleaved repeats, medians, readable times.

All times are seconds per call of the timed function.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any, ContextManager

Enter = Callable[[str], ContextManager[Any]]


def _no_context(_: str) -> ContextManager[Any]:
    return contextlib.nullcontext()


def time_calls(fn: Callable[[], Any], number: int) -> float:
    """Mean seconds per call over ``number`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def calibrate(fn: Callable[[], Any], min_time: float, max_number: int = 1_000_000) -> int:
    """How many calls make one sample last at least ``min_time`` seconds."""
    number = 1
    while True:
        elapsed = time_calls(fn, number) * number
        if elapsed >= min_time or number >= max_number:
            return number
        # aim a little above min_time; grow at most 100x per try
        number = min(max_number, max(number + 1, int(number * min(100.0, 1.2 * min_time / max(elapsed, 1e-9)))))


def settle_into(fn: Callable[[], Any], seconds: float) -> None:
    """Call ``fn`` back to back, untimed, for at least ``seconds``: the next sample then sees the state
    ``fn``'s own loop leaves the machine in, not the one the previous sample's function left."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        fn()


def compare(fns: Mapping[str, Callable[[], Any]], *, repeats: int, min_time: float,
            enter: Enter = _no_context, number: int | None = None,
            warmup: Mapping[str, Callable[[], Any]] | None = None, settle: float = 0.0) -> dict[str, dict[str, Any]]:
    """Time several implementations of one operation side by side.

    Each function is warmed up (``warmup[name]`` or one call of itself), its
    inner-loop count calibrated (unless ``number`` is given), then
    ``repeats`` samples are taken, cycling through the functions and reversing
    the order every other round so that machine noise hits them alike.
    ``enter(name)`` gives the context (e.g. the backend) for that function.
    Samples follow one another with no pause, as a user's code runs: a
    thread pool (OpenBLAS, OpenMP, ferronet's) still busy after the
    previous sample's work slows the next sample down, and that cost is
    part of what is measured.

    ``settle`` > 0 runs each function, untimed, for that many seconds right
    before each of its samples (:func:`settle_into`).  For functions that
    differ in what they leave running: OpenBLAS's worker spins ~0.1 s after
    a NumPy matmul, so without it the sample after a "steps beside NumPy"
    sample would be timed beside that spinner even when its own loop never
    starts one.

    Returns per name: ``median`` and ``min`` seconds per call, ``samples``,
    ``number``; or ``{"error": message}`` when the function raised.
    """
    result: dict[str, dict[str, Any]] = {}
    numbers: dict[str, int] = {}
    for name, fn in fns.items():
        try:
            with enter(name):
                (warmup or {}).get(name, fn)()
                numbers[name] = number if number is not None else calibrate(fn, min_time)
        except Exception as exc:  # a backend without this kernel, or a broken one: report, go on
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
    samples: dict[str, list[float]] = {name: [] for name in numbers}
    order = list(numbers)
    for r in range(repeats):
        for name in order if r % 2 == 0 else reversed(order):
            if name in result:
                continue
            try:
                with enter(name):
                    if settle > 0:
                        settle_into(fns[name], settle)
                    samples[name].append(time_calls(fns[name], numbers[name]))
            except Exception as exc:
                result[name] = {"error": f"{type(exc).__name__}: {exc}"}
    for name, s in samples.items():
        if name not in result:
            result[name] = {"median": statistics.median(s), "min": min(s), "samples": s, "number": numbers[name]}
    return {name: result[name] for name in fns}


def extrapolate(result: dict[str, Any], factor: float) -> dict[str, Any]:
    """A :func:`compare` result of a run doing 1/``factor`` of the work, scaled to the whole.

    ``median``, ``min`` and ``samples`` are multiplied by ``factor``, which is
    kept as ``extrapolated``; an error result is returned unchanged.
    """
    if "error" in result:
        return result
    scaled = {key: result[key] * factor for key in ("median", "min")}
    return {**result, **scaled, "samples": [s * factor for s in result["samples"]], "extrapolated": factor}


def fmt_time(seconds: float | None) -> str:
    """Seconds as a short readable figure: ``1.23 ms``; ``–`` for None."""
    if seconds is None:
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"
