"""The speed targets of the convolutional-network issue, checked against a benchmark record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    group: str  #: case group, e.g. "conv"
    ratio: str  #: "numpy/native" or "torch/native"
    minimum: float  #: the ratio required
    text: str  #: what the issue asks, for the table


TARGETS = (
    Target("conv", "numpy/native", 4.0, "convolution fwd+bwd ≥ 4× NumPy"),
    Target("max_pool", "numpy/native", 10.0, "max pooling fwd+bwd ≥ 10× NumPy"),
    Target("simple_convnet", "numpy/native", 5.0, "SimpleConvNet epoch ≥ 5× the NumPy backend"),
    Target("simple_convnet", "torch/native", 1.0, "SimpleConvNet epoch no slower than PyTorch (aim: 2×)"),
)


def check(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target and matching result: target text, case, threads, ratio (None: not measured), met."""
    rows = []
    for target in TARGETS:
        for e in record["results"]:
            if e["group"] != target.group:
                continue
            ratio = e.get("ratios", {}).get(target.ratio)
            rows.append({"target": target.text, "case": e["case"], "threads": e["threads"], "ratio": ratio,
                         "met": None if ratio is None else ratio >= target.minimum})
    return rows


def markdown(record: dict[str, Any]) -> list[str]:
    """The targets table (no lines when the record has none of the targets' cases)."""
    rows = check(record)
    if not rows:
        return []
    lines = ["", "Targets (ratios as in the table above):", "", "| target | case | threads | ratio | met |",
             "|---|---|---:|---:|---|"]
    for r in rows:
        ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}×"
        met = {True: "yes", False: "**no**", None: "not measured"}[r["met"]]
        lines.append(f"| {r['target']} | {r['case']} | {r['threads']} | {ratio} | {met} |")
    return lines
