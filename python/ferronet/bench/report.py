"""Derived figures (rates, ratios) and the Markdown table of a benchmark run."""

from __future__ import annotations

from typing import Any

from ferronet.bench import machine as machine_mod
from ferronet.bench import targets
from ferronet.bench.timing import fmt_time

BACKENDS = ("native", "numpy", "torch")
#: backends some cases add (``Case.extra_backends``); the table has their columns when a record holds them
EXTRA_BACKENDS = ("onnxruntime",)
#: work per call divided by this and by the seconds gives the rate in the unit
UNIT_SCALE = {"GFLOP/s": 1e9, "GB/s": 1e9, "steps/s": 1.0, "images/s": 1.0}
#: A median above this multiple of the fastest sample marks the cell as noisy (†).
NOISY = 1.5


def median(entry: dict[str, Any], backend: str) -> float | None:
    timing = entry["times"].get(backend)
    if not timing or "median" not in timing:
        return None
    return float(timing["median"])


def load_time(entry: dict[str, Any]) -> float:
    """Seconds per call spent on the entry's load alone (its median times its calls), 0 without one."""
    load = entry.get("load") or {}
    return load["calls"] * float(load["median"]) if "median" in load else 0.0


def derive(entry: dict[str, Any]) -> dict[str, Any]:
    """Add ``rate`` (in the entry's unit per backend), ``ratios`` and ``per_step`` to a result entry.

    ``per_step`` is the time per call less the load's time alone (see
    ``cases.Load``), over the steps.
    """
    rates, per_step = {}, {}
    for backend in (*BACKENDS, *EXTRA_BACKENDS):
        t = median(entry, backend)
        if t is None:
            continue
        if entry.get("unit") and entry.get("work"):
            rates[backend] = entry["work"] / t / UNIT_SCALE[entry["unit"]]
        if entry.get("steps"):
            per_step[backend] = (t - load_time(entry)) / entry["steps"]
    native = median(entry, "native")
    ratios = {}
    for other in ("numpy", "torch", *EXTRA_BACKENDS):
        t = median(entry, other)
        if native and t:
            ratios[f"{other}/native"] = t / native
    entry["rate"], entry["ratios"] = rates, ratios
    if per_step:
        entry["per_step"] = per_step
    return entry


def _cell(entry: dict[str, Any], backend: str) -> str:
    timing = entry["times"].get(backend)
    if timing is None:
        return "–"
    if "error" in timing:
        return "error"
    text = fmt_time(timing["median"])
    if timing.get("extrapolated"):
        text += " extrapolated"
    if timing["median"] > NOISY * timing["min"]:
        text += " †"
    if entry.get("per_step", {}).get(backend):
        text += f" ({fmt_time(entry['per_step'][backend])}/step)"
    return text


def backends_of(record: dict[str, Any]) -> tuple[str, ...]:
    """The table's backend columns: native, numpy, torch, and the extra backends the record holds."""
    extra = [b for b in EXTRA_BACKENDS if any(b in e["times"] for e in record["results"])]
    return (*BACKENDS, *extra)


def _rate_cell(entry: dict[str, Any], backends: tuple[str, ...]) -> str:
    rates = entry.get("rate", {})
    if not rates:
        return ""
    values = " / ".join(f"{rates[b]:.3g}" if b in rates else "–" for b in backends)
    return f"{values} {entry['unit']}"


def _ratio_cell(entry: dict[str, Any], key: str) -> str:
    r = entry.get("ratios", {}).get(key)
    return f"{r:.2f}×" if r is not None else "–"


def _load_note(entry: dict[str, Any]) -> str:
    load, threads = entry["load"], entry["threads"]
    alone = f"{fmt_time(load['median'])} per call" if "median" in load else f"not timed: {load.get('error')}"
    return (f"- {entry['case']} ({threads} thread{'s' if threads > 1 else ''}): the time is per call, {entry['steps']} "
            f"steps then {load['calls']} {load['what']}; per step, the latter's time alone in the same run "
            f"({alone}) is taken off first")


def markdown(record: dict[str, Any]) -> str:
    """The whole report: machine description, then one table row per case and thread count."""
    lines = ["# ferronet benchmarks", ""]
    quick = " (--quick: shrunken sizes, not for comparison)" if record["quick"] else ""
    lines.append(f"Run {record['created']}{quick}; every array float32; times are medians of interleaved repeats.")
    lines += ["", machine_mod.summary(record["machine"], record.get("torch_version")), ""]
    backends = backends_of(record)
    others = backends[1:]
    lines.append(f"Ratios are {' and '.join(f'{b}_time / native_time' for b in others)} (above 1: native is "
                 f"faster). Rates are listed as {' / '.join(backends)}.")
    lines += ["", f"| case | shape | threads | {' | '.join(backends)} | {' | '.join(f'{b}/native' for b in others)} "
                  f"| rate |", "|---|---|" + "---:|" * (1 + 2 * len(backends) - 1) + "---|"]
    for e in record["results"]:
        cells = " | ".join(_cell(e, b) for b in backends)
        ratios = " | ".join(_ratio_cell(e, f"{b}/native") for b in others)
        lines.append(f"| {e['case']} | {e['shape']} | {e['threads']} | {cells} | {ratios} | {_rate_cell(e, backends)} |")
    lines += targets.markdown(record)
    notes = []
    for e in record["results"]:
        for backend, timing in e["times"].items():
            if "error" in timing:
                notes.append(f"- {e['case']} ({e['threads']} threads), {backend}: {timing['error']}")
        for backend, note in e.get("notes", {}).items():
            if e["threads"] == record["threads"][0]:
                notes.append(f"- {e['case']}, {backend}: {note}")
        if e.get("load"):
            notes.append(_load_note(e))
    if record.get("torch_reason"):
        notes.append(f"- PyTorch skipped: {record['torch_reason']}")
    if any(" extrapolated" in line for line in lines):
        notes.insert(0, "- extrapolated: the backend was timed on a part of the steps and the time scaled up "
                        "to all of them (the case's note says how)")
    if any(" †" in line for line in lines):
        notes.insert(0, f"- †: the median is over {NOISY}x the fastest sample (other load on the machine); "
                        "the JSON has every sample")
    if notes:
        lines += ["", "Notes:", *dict.fromkeys(notes)]
    lines.append("")
    return "\n".join(lines)
