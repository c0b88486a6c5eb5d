"""Learning curves: one run's history, several runs on one axes, or a grid of small panels.

Every long curve (a loss per mini-batch) is drawn the book's way - smoothed
with :func:`ferronet.utils.smooth_curve` - with the raw values faint behind
it, so the noise stays visible but the trend reads at a glance.  Short
curves (up to 30 points: accuracies per epoch) are drawn as they are, with
a marker on every point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ferronet.plot._pyplot import pyplot
from ferronet.plot.saving import PathLike, finish
from ferronet.utils import smooth_curve

#: Colours given to curves by label, in order of first appearance (matplotlib's tab10).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
#: The book's window (11 points); shorter curves get a window of a third of their length.
SMOOTHING_WINDOW = 11
#: Curves with at most this many points get a marker on every point.
MARKER_LIMIT = 30


def smoothing_window(length: int) -> int:
    """The odd window :func:`smoothed` uses for a curve of ``length`` points: 1 (no smoothing) up to
    :data:`MARKER_LIMIT` points, where every point counts (a few epochs' accuracies, whose last value is
    the result) and smoothing would bend the ends; the book's 11 from 33 points; a third of the length
    in between."""
    if length <= MARKER_LIMIT:
        return 1
    window = min(SMOOTHING_WINDOW, length // 3)
    return window if window % 2 else window - 1


def smoothed(values: Sequence[float]) -> np.ndarray:
    """``values`` through the book's ``smooth_curve`` with :func:`smoothing_window`'s window
    (a curve of up to 30 points comes back unchanged). float64 (L,)."""
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    window = smoothing_window(y.size)
    return smooth_curve(y, window=window) if window >= 3 else y.copy()


def draw_curve(ax: Any, x: Sequence[float], values: Sequence[float], label: str | None,
               style: Mapping[str, Any], smooth: bool = True) -> None:
    """One curve on ``ax``: smoothed over the raw values (faint), or as it is when ``smooth`` is False
    or the curve is too short to smooth; markers on short curves.  ``style``: matplotlib line keywords."""
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    style = dict(style)
    if y.size <= MARKER_LIMIT:
        style.setdefault("marker", "o")
        style.setdefault("markersize", 3.5)
    else:
        style.pop("marker", None)
    if smooth and smoothing_window(y.size) >= 3:
        ax.plot(x, y, color=style.get("color"), linestyle=style.get("linestyle", "-"), linewidth=0.7, alpha=0.2)
        y = smoothed(y)
    ax.plot(x, y, label=label, linewidth=style.pop("linewidth", 1.8), **style)


def label_styles(labels: Sequence[str], styles: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict]:
    """A style (at least a colour) for each label: ``styles[label]`` where given, else the next palette colour."""
    given = dict(styles or {})
    out: dict[str, dict] = {}
    for i, label in enumerate(dict.fromkeys(labels)):
        style = dict(given.get(label, {}))
        style.setdefault("color", PALETTE[i % len(PALETTE)])
        out[label] = style
    return out


def _x_values(x: Sequence[float] | None, length: int, start: float) -> np.ndarray:
    if x is None:
        return np.arange(length, dtype=np.float64) + start
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.size != length:
        raise ValueError(f"x has {x.size} values, the curve {length}")
    return x


def _finish_axes(ax: Any, xlabel: str | None, ylabel: str | None, ylim: tuple[float, float] | None,
                 xscale: str | None) -> None:
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if xscale:
        ax.set_xscale(xscale)
    ax.grid(True, alpha=0.3)


def plot_training_curves(history: Mapping[str, Sequence[Any]], step_losses: Sequence[float] | None = None, *,
                         title: str | None = None, path: PathLike | None = None) -> Any:
    """The learning curves of one run: loss (left) and accuracy (right) against the epoch.

    history: :attr:`ferronet.trainer.Trainer.history` (``epoch``,
    ``train_loss``, ``train_acc``, ``test_acc``, and ``val_loss`` /
    ``val_acc`` when the run had validation data).  step_losses: the loss of
    every mini-batch (the Trainer's ``train_loss_list``), drawn instead of
    the per-epoch mean.  Saves a PNG to ``path`` when given; returns the Figure.
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    epochs = np.asarray(history.get("epoch") or range(1, len(history["train_loss"]) + 1), dtype=np.float64)
    if epochs.size == 0:
        raise ValueError("the history has no finished epoch to plot")
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4), sharex=True, layout="constrained")
    colors = {"train": PALETTE[0], "validation": PALETTE[1], "test": PALETTE[2]}
    if step_losses is not None and len(step_losses) > 0:
        steps = len(step_losses)
        per_epoch = steps / epochs[-1]
        draw_curve(loss_ax, np.arange(1, steps + 1) / per_epoch, step_losses, "train (every batch)",
                   {"color": colors["train"]})
    else:
        draw_curve(loss_ax, epochs, history["train_loss"], "train (epoch mean)", {"color": colors["train"]})
    if history.get("val_loss"):
        draw_curve(loss_ax, epochs, history["val_loss"], "validation", {"color": colors["validation"]})
    loss_ax.set_title("loss")
    _finish_axes(loss_ax, "epoch", "loss", None, None)
    loss_ax.legend()
    for key, name in (("train_acc", "train"), ("val_acc", "validation"), ("test_acc", "test")):
        if history.get(key):
            draw_curve(acc_ax, epochs, history[key], name, {"color": colors[name]})
    acc_ax.set_title("accuracy")
    _finish_axes(acc_ax, "epoch", "accuracy", None, None)
    acc_ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs, on both (shared) axes
    acc_ax.set_xlim(-0.05 * epochs[-1], 1.05 * epochs[-1])  # from the start of training, as the batch losses
    acc_ax.legend(loc="best")
    if title:
        fig.suptitle(title)
    return finish(fig, path)


#: more curves than this get their legend beside the axes (with ``legend_loc='best'``)
CURVES_INSIDE_LEGEND = 6


def plot_curves(curves: Mapping[str, Sequence[float]], *, x: Sequence[float] | None = None,
                xlabel: str = "iteration", ylabel: str = "loss", title: str | None = None,
                ylim: tuple[float, float] | None = None, smooth: bool = True, xscale: str | None = None,
                styles: Mapping[str, Mapping[str, Any]] | None = None, legend_loc: str = "best",
                path: PathLike | None = None) -> Any:
    """Several named curves on one axes (the book's optimizer and weight-initialisation comparisons).

    curves: label -> values (all of one length when ``x`` is given, else each
    against 0, 1, 2, ...).  smooth: smooth each (raw faint behind).  styles:
    label -> matplotlib line keywords.  Returns the Figure; saves a PNG to ``path`` when given.
    """
    if not curves:
        raise ValueError("no curves to plot")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for label, style in label_styles(list(curves), styles).items():
        values = curves[label]
        draw_curve(ax, _x_values(x, len(values), 0), values, label, style, smooth)
    _finish_axes(ax, xlabel, ylabel, ylim, xscale)
    if x is not None and all(float(v).is_integer() for v in x):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs, not 1.25, 1.5, ...
    if legend_loc == "best" and len(curves) > CURVES_INSIDE_LEGEND:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside the axes: it would hide lines
    else:
        ax.legend(loc=legend_loc)
    if title:
        ax.set_title(title)
    return finish(fig, path)


def plot_curve_panels(panels: Mapping[str, Mapping[str, Sequence[float]]], *, x: Sequence[float] | None = None,
                      columns: int = 4, xlabel: str = "epoch", ylabel: str = "accuracy",
                      ylim: tuple[float, float] | None = None, smooth: bool = False,
                      styles: Mapping[str, Mapping[str, Any]] | None = None, title: str | None = None,
                      path: PathLike | None = None) -> Any:
    """A grid of small panels, each a few named curves (the book's batch-norm and search grids).

    panels: panel title -> {curve label -> values}.  A label has one style
    in every panel and one legend for the figure.  Axis labels sit on the
    outer panels only.  Returns the Figure; saves a PNG to ``path`` when given.
    """
    if not panels:
        raise ValueError("no panels to plot")
    plt = pyplot()
    columns = max(1, min(int(columns), len(panels)))
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns + 0.6, 2.1 * rows + 1.0),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")
    styles_by_label = label_styles([label for curves in panels.values() for label in curves], styles)
    handles: dict[str, Any] = {}
    for ax, (panel_title, curves) in zip(axes.flat, panels.items()):
        for label, values in curves.items():
            draw_curve(ax, _x_values(x, len(values), 0), values, label, styles_by_label[label], smooth)
        ax.set_title(panel_title, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, alpha=0.3)
        for line in ax.get_lines():
            if line.get_label() in styles_by_label:
                handles.setdefault(line.get_label(), line)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for column in range(columns):  # the lowest panel of each column carries the x axis's labels
        bottom = axes[(len(panels) - 1 - column) // columns, column]
        bottom.set_xlabel(xlabel, fontsize=9)
        bottom.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel, fontsize=9)
    if ylim is not None:
        axes.flat[0].set_ylim(*ylim)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=min(len(handles), 4))
    if title:
        fig.suptitle(title)
    return finish(fig, path)
