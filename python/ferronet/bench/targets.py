"""The issues' speed targets, checked against a benchmark record: every figure a ratio from the same run.

A :class:`Target` selects result entries, measures a ratio for each (within
the entry, against a partner entry such as the same steps alone, or against
the same case at 1 thread) and bounds it from above or below.  Times are
per step when the case has steps (for the steps beside NumPy, the NumPy
matmul's own time taken off; see ``report.derive``), else per call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ferronet.bench.timing import fmt_time

Entry = dict[str, Any]


class Measurement(NamedTuple):
    ratio: float
    figures: str  #: the figures the ratio comes from, for the table
    #: False when a ratio on the wrong side of the bound is within the noise of its samples (the paired test
    #: of :func:`slower_in_pairs` finds no difference); True when no such test applies
    beyond_noise: bool = True


#: None when not measured
Measured = Measurement | None


class Index:
    """The record's result entries by (case label, threads) and by (group, threads), and the side-by-side
    run's (native at 1 thread against n, see ``bench.side_by_side``) by (case label, threads)."""

    def __init__(self, results: list[Entry], side_by_side: list[Entry] = ()) -> None:
        self.by_case = {(e["case"], e["threads"]): e for e in results}
        self.by_group: dict[tuple[str, int], Entry] = {}
        for e in results:
            self.by_group.setdefault((e["group"], e["threads"]), e)
        self.side_by_side = {(e["case"], e["threads"]): e for e in side_by_side}

    def case(self, label: str, threads: int) -> Entry | None:
        return self.by_case.get((label, threads))

    def one_and_more_threads(self, label: str, threads: int) -> tuple[Entry | None, Entry | None, str]:
        """The case at 1 thread and at ``threads``: from the side-by-side run when it has both, else from
        the two passes; and which of the two it is."""
        one, more = self.side_by_side.get((label, 1)), self.side_by_side.get((label, threads))
        if one and more:
            return one, more, "side by side"
        return self.case(label, 1), self.case(label, threads), "separate passes"

    def group(self, group: str, threads: int) -> Entry | None:
        """The group's first entry at ``threads``."""
        return self.by_group.get((group, threads))


def time_of(entry: Entry | None, backend: str) -> float | None:
    """Seconds per step (when the case has steps) or per call, of ``backend`` in ``entry``; None if not timed."""
    if entry is None:
        return None
    per_step = entry.get("per_step", {}).get(backend)
    if per_step is not None:
        return float(per_step)
    timing = entry["times"].get(backend) or {}
    return float(timing["median"]) if "median" in timing else None


def _per(entry: Entry) -> str:
    return "/step" if entry.get("per_step") else ""


def time_ratio(top: str, bottom: str, bottom_name: str | None = None) -> Callable[[Entry, Index], Measured]:
    """time(top) / time(bottom) within the entry, e.g. native / torch; ``bottom_name`` names the bottom
    backend's column in the figures when it holds something else (the book's loop in the numpy column)."""

    def measure(e: Entry, index: Index) -> Measured:
        a, b = time_of(e, top), time_of(e, bottom)
        if not a or not b:
            return None
        return Measurement(a / b, f"{top} {fmt_time(a)}{_per(e)}, {bottom_name or bottom} {fmt_time(b)}{_per(e)}")

    return measure


def _versus_alone(e: Entry, index: Index, backend: str) -> tuple[float, float] | None:
    """(time per step of ``e``, of its ``alone`` partner) for ``backend``, or None."""
    a, b = time_of(e, backend), time_of(index.case(e["alone"], e["threads"]), backend)
    return (a, b) if a and b else None


def beside_over_alone(e: Entry, index: Index) -> Measured:
    """Native time per step beside NumPy / alone; the figures add PyTorch's for comparison."""
    native = _versus_alone(e, index, "native")
    if native is None:
        return None
    text = f"native {fmt_time(native[0])}/step beside, {fmt_time(native[1])} alone"
    torch = _versus_alone(e, index, "torch")
    if torch:
        text += f"; torch {fmt_time(torch[0])} vs {fmt_time(torch[1])} ({torch[0] / torch[1]:.2f}×)"
    return Measurement(native[0] / native[1], text)


def together_over_alone(e: Entry, index: Index) -> Measured:
    """Native steps/s of the processes together / of one alone; the figures add PyTorch's."""
    native = _versus_alone(e, index, "native")
    if native is None:
        return None
    text = f"native {1 / native[0]:.3g} steps/s together, {1 / native[1]:.3g} alone"
    torch = _versus_alone(e, index, "torch")
    if torch:
        text += f"; torch {1 / torch[0]:.3g} vs {1 / torch[1]:.3g} ({torch[1] / torch[0]:.2f}×)"
    return Measurement(native[1] / native[0], text)


#: A paired difference counts as one when chance would give it less often than this (one-sided).
ALPHA = 0.05


def _samples(entry: Entry | None) -> list[float]:
    return list(((entry or {}).get("times", {}).get("native") or {}).get("samples", ()))


def slower_in_pairs(one: Sequence[float], more: Sequence[float]) -> tuple[int, int, float] | None:
    """A one-sided sign test: is ``more`` slower than ``one`` beyond chance?

    ``one[r]`` and ``more[r]`` are the samples of round ``r`` of an
    interleaved comparison, taken one right after the other, so the
    machine's drift hits both alike.  Returns (rounds in which ``more`` was
    slower, rounds that differ, the probability of at least that many if
    neither setting were slower); None without samples to pair.

    Two settings that run the same code (a case too small to use a second
    thread) come out slower in about half the rounds and half the runs: their
    ratio is above 1 half the time however many samples there are, so a
    bound of exactly 1 cannot be judged on the ratio alone.
    """
    if not one or len(one) != len(more):
        return None
    differ = [(a, b) for a, b in zip(one, more, strict=True) if a != b]
    n, slower = len(differ), sum(b > a for a, b in differ)
    p = sum(math.comb(n, k) for k in range(slower, n + 1)) / 2**n
    return slower, n, p


def over_one_thread(e: Entry, index: Index) -> Measured:
    """Native time at this entry's thread count / at 1 thread, timed side by side when the record has it."""
    one, more, how = index.one_and_more_threads(e["case"], e["threads"])
    a, b = time_of(more, "native"), time_of(one, "native")
    if not a or not b:
        return None
    text = f"{how}: {fmt_time(b)}{_per(e)} at 1 thread, {fmt_time(a)}{_per(e)} at {e['threads']}"
    test = slower_in_pairs(_samples(one), _samples(more)) if how == "side by side" else None
    if test is None:
        return Measurement(a / b, text)
    slower, pairs, p = test
    return Measurement(a / b, f"{text}; slower in {slower} of {pairs} interleaved pairs (p = {p:.2g})", p < ALPHA)


def over_simple_convnet_step(e: Entry, index: Index) -> Measured:
    """Native time per call / a native SimpleConvNet training step at the same thread count."""
    a, step = time_of(e, "native"), time_of(index.group("simple_convnet", e["threads"]), "native")
    if not a or not step:
        return None
    return Measurement(a / step, f"native {fmt_time(a)} per batch, SimpleConvNet step {fmt_time(step)}")


def over_copy_bandwidth(e: Entry, index: Index) -> Measured:
    """Native effective GB/s / np.copyto's GB/s at the same thread count."""
    copy = index.group("copy", e["threads"])
    a, b = e.get("rate", {}).get("native"), (copy or {}).get("rate", {}).get("numpy")
    if not a or not b:
        return None
    return Measurement(a / b, f"native {a:.3g} GB/s, np.copyto {b:.3g} GB/s")


@dataclass(frozen=True)
class Target:
    text: str  #: what the issue asks, for the table
    quantity: str  #: the ratio measured
    bound: float
    at_most: bool  #: the ratio must be <= bound (else >= bound)
    select: Callable[[Entry], bool]  #: the entries it is checked on
    measure: Callable[[Entry, Index], Measured]
    threads: int | None = None  #: the thread count it is set at (None: every one)

    @property
    def required(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.bound:g}"

    def met(self, ratio: float) -> bool:
        return ratio <= self.bound if self.at_most else ratio >= self.bound


def in_group(*groups: str) -> Callable[[Entry], bool]:
    return lambda e: e["group"] in groups


def labelled(text: str) -> Callable[[Entry], bool]:
    return lambda e: text in e["case"]


def _has_partner(group: str) -> Callable[[Entry], bool]:
    return lambda e: e["group"] == group and "alone" in e


def _multi_threaded_native(e: Entry) -> bool:
    return e["threads"] > 1 and "native" in e["times"]


#: The thread-scaling target, checked on every case: its rows get a table of their own.
SCALING = Target("native at 2 threads never slower than native at 1 thread", "2-thread / 1-thread native time",
                 1.0, True, _multi_threaded_native, over_one_thread)

TARGETS = (
    Target("MLP and SimpleConvNet step beside NumPy (a 256x256 matmul every 10 steps) ≤ 1.15× the step alone",
           "beside / alone, native time per step", 1.15, True, _has_partner("beside_numpy"), beside_over_alone, 2),
    Target("two SimpleConvNet processes ≥ 0.9× the steps/s of one", "together / alone, native steps/s", 0.9, False,
           _has_partner("two_processes"), together_over_alone, 2),
    SCALING,
    Target("TwoLayerNet(784, 50, 10) float64 update ≤ 1.0× the book's NumPy loop", "native / book-loop time", 1.0,
           True, in_group("update"), time_ratio("native", "numpy", "book loop"), 2),
    Target("DeepConvNet step ≤ 0.8× PyTorch's time (aim 0.7×)", "native / torch time per step", 0.8, True,
           in_group("deep_convnet"), time_ratio("native", "torch"), 2),
    Target("DeepConvNet step no slower than PyTorch at 1 thread", "native / torch time per step", 1.0, True,
           in_group("deep_convnet"), time_ratio("native", "torch"), 1),
    Target("16->16 3x3 convolution fwd+bwd no slower than PyTorch", "native / torch time", 1.0, True,
           labelled("16->16 3x3"), time_ratio("native", "torch"), 2),
    Target("SimpleConvNet epoch ≥ 2× faster than PyTorch", "torch / native time", 2.0, False,
           in_group("simple_convnet"), time_ratio("torch", "native"), 2),
    Target("MLP epoch faster than PyTorch", "torch / native time", 1.0, False, in_group("mlp_epoch"),
           time_ratio("torch", "native"), 2),
    Target("Adam step 1e7 at the copy-bandwidth ceiling: ≥ 0.9× np.copyto's GB/s", "native GB/s / copy GB/s", 0.9,
           False, labelled("Adam step 1e7"), over_copy_bandwidth, 2),
    Target("every activation fwd+bwd on 1e7 float32 ≥ 3× NumPy", "numpy / native time", 3.0, False,
           in_group("activation"), time_ratio("numpy", "native"), 2),
    Target("fused loss layers fwd+bwd ≥ 2× NumPy", "numpy / native time", 2.0, False, in_group("loss"),
           time_ratio("numpy", "native"), 2),
    Target("augmenting a batch of 100 (shift, rotation, flip, erasing) ≤ 0.1× a SimpleConvNet training step",
           "augment / SimpleConvNet step, native time", 0.1, True, in_group("augment"), over_simple_convnet_step),
    # the convolutional-network issue's, set like the others at 2 threads (the 1-thread figures are in the
    # results table)
    Target("convolution fwd+bwd ≥ 4× NumPy", "numpy / native time", 4.0, False, in_group("conv"),
           time_ratio("numpy", "native"), 2),
    Target("max pooling fwd+bwd ≥ 10× NumPy", "numpy / native time", 10.0, False, in_group("max_pool"),
           time_ratio("numpy", "native"), 2),
    Target("SimpleConvNet epoch ≥ 5× the NumPy backend", "numpy / native time", 5.0, False,
           in_group("simple_convnet"), time_ratio("numpy", "native"), 2),
)


def check(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target and entry it applies to: target, quantity, required, case, threads,
    ratio (None: not measured), figures, met (None: not measured), within_noise (met although the ratio
    is past the bound, because the paired samples show no difference: see :func:`slower_in_pairs`)."""
    index = Index(record["results"], record.get("side_by_side", {}).get("results", []))
    rows = []
    for target in TARGETS:
        for e in record["results"]:
            if not target.select(e) or (target.threads is not None and e["threads"] != target.threads):
                continue
            measured = target.measure(e, index)
            ratio = measured.ratio if measured else None
            within_noise = bool(measured) and not target.met(measured.ratio) and not measured.beyond_noise
            rows.append({"target": target.text, "quantity": target.quantity, "required": target.required,
                         "case": e["case"], "threads": e["threads"], "ratio": ratio,
                         "figures": measured.figures if measured else "",
                         "met": None if measured is None else target.met(measured.ratio) or within_noise,
                         "within_noise": within_noise})
    return rows


def _met(row: dict[str, Any]) -> str:
    if row["within_noise"]:
        return "yes (within noise)"
    return {True: "yes", False: "**no**", None: "not measured"}[row["met"]]


def _ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}×"


def _scaling_summary(rows: list[dict[str, Any]]) -> str:
    """One line of the targets table for the thread-scaling rows."""
    measured = [r for r in rows if r["ratio"] is not None]
    if not measured:
        return f"| {SCALING.text} | every case | – | – | {SCALING.required} | not measured | |"
    worst = max(measured, key=lambda r: r["ratio"])
    above = sum(not SCALING.met(r["ratio"]) for r in measured)
    slower = sum(not r["met"] for r in measured)
    noise = f"{above} of {len(measured)} above {SCALING.bound:g}×, {above - slower} of them within noise"
    met = f"yes ({noise})" if not slower else f"**no**: {slower} of {len(measured)} cases slower ({noise})"
    threads = ", ".join(sorted({str(r["threads"]) for r in measured}))
    return (f"| {SCALING.text} | every case ({len(measured)}; table below) | {threads} | {_ratio(worst['ratio'])} "
            f"(worst: {worst['case']}) | {SCALING.required} | {met} | |")


def markdown(record: dict[str, Any]) -> list[str]:
    """The targets table, then the thread-scaling table (no lines when the record has none of the cases)."""
    rows = check(record)
    if not rows:
        return []
    lines = ["", "Targets (each ratio from this run; times per step where the case has steps):", "",
             "| target | case | threads | ratio | required | met | figures |", "|---|---|---:|---:|---|---|---|"]
    scaling = [r for r in rows if r["target"] == SCALING.text]
    for r in rows:
        if r["target"] != SCALING.text:
            lines.append(f"| {r['target']} ({r['quantity']}) | {r['case']} | {r['threads']} | {_ratio(r['ratio'])} "
                         f"| {r['required']} | {_met(r)} | {r['figures']} |")
    if scaling:
        lines.append(_scaling_summary(scaling))
        lines += ["", f"Native at more threads against 1 thread ({SCALING.quantity}; above 1: slower with more "
                      "threads). \"side by side\": both settings timed in one comparison, samples interleaved "
                      "(`bench/side_by_side.py`; the training processes started at each thread count); \"separate "
                      "passes\": the two passes' figures, where the side-by-side run has none. \"within noise\": "
                      "above 1, but slower in too few of the interleaved pairs of samples to tell from chance "
                      f"(one-sided sign test, p ≥ {ALPHA:g}; a case too small for a second thread runs the same code "
                      "at both settings, and two 1-thread processes already fill two cores):", "",
                  "| case | threads | ratio | met | figures |", "|---|---:|---:|---|---|"]
        lines += [f"| {r['case']} | {r['threads']} | {_ratio(r['ratio'])} | {_met(r)} | {r['figures']} |"
                  for r in scaling]
    return lines
