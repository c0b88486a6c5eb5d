"""One network's accuracy at several floating-point precisions (the book's chapter 8: float16 is enough)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ferronet.plot._pyplot import pyplot
from ferronet.plot.curves import PALETTE
from ferronet.plot.saving import PathLike, finish


def plot_precision(accuracies: Mapping[str, float], differences: Mapping[str, np.ndarray] | None = None, *,
                   changed: Mapping[str, int] | None = None, reference: str = "float64",
                   title: str | None = None, path: PathLike | None = None) -> Any:
    """Test accuracy per precision (bars, the value written on each); with ``differences``, how far each
    precision's outputs move from the ``reference`` precision's (histograms on a log axis).

    accuracies: precision name ('float64', 'float16', ...) -> accuracy in
    [0, 1].  differences: precision name -> absolute differences of its
    outputs (e.g. softmax probabilities) from the reference's, any shape.
    changed: precision name -> how many predictions differ from the
    reference's (shown in the legend).  A precision has one colour in both
    panels.  Returns the Figure; saves a PNG to ``path`` when given.
    """
    if not accuracies:
        raise ValueError("no accuracies to plot")
    plt = pyplot()
    names = list(dict.fromkeys([*accuracies, *(differences or {})]))
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    panels = 2 if differences else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels + 0.5, 4.2), squeeze=False, layout="constrained")
    bar_ax = axes[0, 0]
    values = [100 * float(v) for v in accuracies.values()]
    bars = bar_ax.bar(list(accuracies), values, color=[colors[n] for n in accuracies])
    bar_ax.bar_label(bars, [f"{v:.2f}%" for v in values], padding=3, fontsize=9)
    bar_ax.set_ylim(0, 110)
    bar_ax.set_ylabel("test accuracy (%)")
    bar_ax.set_title("accuracy per precision")
    if differences:
        ax = axes[0, 1]
        for name, diff in differences.items():
            d = np.abs(np.asarray(diff, dtype=np.float64)).reshape(-1)
            positive = d[d > 0]
            label = f"{name}: max {d.max():.2g}" if d.size else name
            if changed is not None and name in changed:
                label += f", {changed[name]} prediction{'' if changed[name] == 1 else 's'} changed"
            if positive.size:
                edges = np.logspace(np.log10(positive.min()), np.log10(positive.max()) + 1e-9, 40)
                ax.hist(positive, bins=edges, alpha=0.65, label=label, color=colors[name])
            else:
                ax.plot([], [], label=f"{label} (identical)", color=colors[name])
        ax.set_xscale("log")
        ax.set_xlabel(f"|difference| from the {reference} output")
        ax.set_ylabel("outputs")
        ax.set_title(f"how far the outputs move from {reference}")
        ax.legend(fontsize=8, loc="upper left")
    if title:
        fig.suptitle(title)
    return finish(fig, path)
