"""The trials of a hyper-parameter search: where they sampled and how each did (the book's chapter 6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ferronet.plot._pyplot import pyplot
from ferronet.plot.saving import PathLike, finish


#: How the usual keys read on the axes.
AXIS_NAMES = {"lr": "learning rate", "weight_decay": "weight decay", "val_acc": "validation accuracy"}


def plot_search_results(trials: Sequence[Mapping[str, float]], *, x: str = "lr", y: str = "weight_decay",
                        score: str = "val_acc", best: int = 5, title: str | None = None,
                        path: PathLike | None = None) -> Any:
    """Each trial as a point at its two hyper-parameters (log axes), coloured by its score.

    trials: one mapping per trial holding ``x``, ``y`` and ``score``.  The
    ``best`` highest scores are ringed and numbered 1, 2, ... so the good
    region reads at a glance (the book's finding: it is a band of learning
    rates).  Returns the Figure; saves a PNG to ``path`` when given.
    """
    if not trials:
        raise ValueError("no trials to plot")
    plt = pyplot()
    xs = np.array([t[x] for t in trials], dtype=np.float64)
    ys = np.array([t[y] for t in trials], dtype=np.float64)
    scores = np.array([t[score] for t in trials], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    points = ax.scatter(xs, ys, c=scores, cmap="viridis", s=36, edgecolors="none")
    order = np.argsort(-scores, kind="stable")[:max(0, int(best))]
    ax.scatter(xs[order], ys[order], s=110, facecolors="none", edgecolors="#d62728", linewidths=1.4,
               label=f"best {len(order)}")
    for rank, i in enumerate(order, start=1):
        ax.annotate(str(rank), (xs[i], ys[i]), xytext=(6, 4), textcoords="offset points", fontsize=8,
                    color="#d62728")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(AXIS_NAMES.get(x, x))
    ax.set_ylabel(AXIS_NAMES.get(y, y))
    fig.colorbar(points, ax=ax, label=AXIS_NAMES.get(score, score))
    ax.legend(loc="best")  # where it hides the fewest points
    ax.set_title(title or f"{len(trials)} trials, best {AXIS_NAMES.get(score, score)} {scores.max():.3f}")
    return finish(fig, path)
