"""Histograms of each layer's activations (the book's chapter 6: how weight initialisation and
batch normalisation shape what flows through a network)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ferronet.plot._pyplot import pyplot
from ferronet.plot.saving import PathLike, finish


def activations_by_layer(network: Any, x: np.ndarray, train_flg: bool = False) -> dict[str, np.ndarray]:
    """The output of every activation layer of ``network`` for input ``x``: {layer name: array}.

    Runs ``network.layers`` once, front to back, as an inference pass
    (nothing is kept for ``backward``); the activation layers are the
    :class:`ferronet.layers.Activation` ones (ReLU, sigmoid, ...), in order.
    """
    from ferronet.layers import Activation

    out: dict[str, np.ndarray] = {}
    for name, layer in network.layers.items():
        x = layer.forward(x, train_flg=train_flg, keep_state=False)
        if isinstance(layer, Activation):
            out[name] = x
    return out


def _rows(activations: Mapping[str, Any]) -> dict[str, Mapping[str, np.ndarray]]:
    """{row label: {layer: array}} from either that or one row {layer: array} (label '')."""
    if all(isinstance(v, Mapping) for v in activations.values()):
        return dict(activations)
    return {"": activations}


def plot_activation_histograms(activations: Mapping[str, Any], *, bins: int = 30,
                               value_range: Any = (0.0, 1.0), drop_zeros: bool = False,
                               title: str | None = None, path: PathLike | None = None) -> Any:
    """One histogram per layer of the values each activation layer put out.

    activations: {layer name: array} for one row of panels, or
    {row label: {layer name: array}} for several (e.g. one row per weight
    initialisation).  Each panel is titled with its layer and the values'
    standard deviation, so a collapse (std near 0) reads as a number too.
    value_range: the histograms' range, one (low, high) for every row (the
    book's (0, 1)), a mapping row label -> (low, high), or None for each
    row's own.  drop_zeros: leave exact zeros (ReLU's inactive units) out
    of the histograms, so they do not dwarf the rest; the panel's title
    gives their share.  Bars are shares of all the layer's values (so
    layers of different sizes compare); the panels of a row share the y
    axis.  Returns the Figure; saves a PNG to ``path`` when given.
    """
    plt = pyplot()
    rows = _rows(activations)
    if not rows or not all(rows.values()):
        raise ValueError("no activations to plot")
    columns = max(len(layers) for layers in rows.values())
    fig, axes = plt.subplots(len(rows), columns, figsize=(2.3 * columns + 0.8, 1.9 * len(rows) + 0.7),
                             squeeze=False, layout="constrained")
    for r, (row_label, layers) in enumerate(rows.items()):
        values = {name: np.asarray(a, dtype=np.float64).reshape(-1) for name, a in layers.items()}
        span = value_range.get(row_label) if isinstance(value_range, Mapping) else value_range
        if span is None:
            span = (min(v.min() for v in values.values()), max(v.max() for v in values.values()))
        for c, (layer_name, v) in enumerate(values.items()):
            ax = axes[r, c]
            zeros = float(np.mean(v == 0)) if v.size else 0.0
            shown = v[v != 0] if drop_zeros else v
            ax.hist(shown, bins=bins, range=span, weights=np.full(shown.size, 1.0 / max(v.size, 1)),
                    color="#1f77b4")  # shares of all the layer's values, so layers of any size compare
            note = f", {zeros:.0%} zero" if drop_zeros and zeros > 0 else ""
            ax.set_title(f"{layer_name} (std {v.std():.2g}{note})", fontsize=8)
            ax.tick_params(labelsize=7)
            if r == len(rows) - 1:
                ax.set_xlabel("activation", fontsize=8)
            if c > 0:
                ax.sharey(axes[r, 0])
                ax.tick_params(labelleft=False)
        for ax in axes[r, len(values):]:
            ax.set_visible(False)
        if row_label:
            axes[r, 0].set_ylabel(row_label, fontsize=9, fontweight="bold")
    fig.supylabel("share of the layer's values", fontsize=9)
    if title:
        fig.suptitle(title)
    return finish(fig, path)
