"""The paths optimizers take to the minimum of f(x, y) = x**2/20 + y**2 (the book's chapter 6)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ferronet.plot._pyplot import pyplot
from ferronet.plot.saving import PathLike, finish

#: The region the book draws: x in [-10, 10], y in [-5, 5].
BOOK_EXTENT = (-10.0, 10.0, -5.0, 5.0)


def book_function(x: Any, y: Any) -> Any:
    """The book's elongated bowl f(x, y) = x**2 / 20 + y**2: steep along y, flat along x."""
    return x ** 2 / 20.0 + y ** 2


def plot_optimizer_paths(paths: Mapping[str, np.ndarray], *, function: Callable[[Any, Any], Any] = book_function,
                         extent: tuple[float, float, float, float] = BOOK_EXTENT, columns: int = 2,
                         title: str | None = None, path: PathLike | None = None) -> Any:
    """One panel per optimizer: the contours of ``function`` and the optimizer's path over them.

    paths: optimizer name -> positions (S, 2), the start first.  The start is
    a square, every step a dot, the minimum at (0, 0) a cross; the panel's
    title gives the steps and the final value of f.  Returns the Figure;
    saves a PNG to ``path`` when given.
    """
    if not paths:
        raise ValueError("no paths to plot")
    plt = pyplot()
    x0, x1, y0, y1 = extent
    grid_x, grid_y = np.meshgrid(np.linspace(x0, x1, 241), np.linspace(y0, y1, 121))
    levels = np.quantile(function(grid_x, grid_y), np.linspace(0.02, 0.98, 12))
    columns = max(1, min(int(columns), len(paths)))
    rows = math.ceil(len(paths) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.1 * rows + 0.4), squeeze=False,
                             layout="constrained")
    for ax, (name, positions) in zip(axes.flat, paths.items()):
        p = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
        ax.contour(grid_x, grid_y, function(grid_x, grid_y), levels=levels, colors="#9e9e9e", linewidths=0.7)
        ax.plot(p[:, 0], p[:, 1], "o-", color="#d62728", markersize=3, linewidth=1.2)
        ax.plot(p[0, 0], p[0, 1], "s", color="black", markersize=6)
        ax.plot(0, 0, "+", color="black", markersize=12, markeredgewidth=2)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_title(f"{name}: {len(p) - 1} steps, f = {float(function(p[-1, 0], p[-1, 1])):.3g}", fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    for ax in axes.flat[len(paths):]:
        ax.set_visible(False)
    default_title = "f(x, y) = x²/20 + y²" if function is book_function else "optimizer paths"
    fig.suptitle(title or f"{default_title}  (start: square, minimum: cross)")
    return finish(fig, path)
