"""Pictures of a search's trials, when :mod:`ferronet.plot` and matplotlib are there (both optional).

* ``trials.png`` - each finished trial at its two first numeric
  hyper-parameters (the book's figure: learning rate against weight
  decay), coloured by validation accuracy, the best ringed
  (``ferronet.plot.plot_search_results``);
* ``curves.png`` - the validation accuracy after each epoch of the best
  trials, pruned ones included (their curves end where they were stopped)
  (``ferronet.plot.plot_curves``).

Without ``ferronet.plot`` or matplotlib no file is written and nothing fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

PathLike = Union[str, os.PathLike]

#: the most trials drawn as curves (the best ones)
MAX_CURVES = 12


def plotting_module() -> Any:
    """:mod:`ferronet.plot` when it can draw (matplotlib installed), else None."""
    try:
        from ferronet import plot
    except ImportError:
        return None
    available = getattr(plot, "plotting_available", None)
    return plot if callable(available) and available() else None


def _numeric(space: Mapping[str, BaseDistribution]) -> list[str]:
    """The space's numeric hyper-parameters, ``lr`` and ``weight_decay`` first."""
    names = [n for n, d in space.items() if isinstance(d, (FloatDistribution, IntDistribution))]
    return sorted(names, key=lambda n: (n not in ("lr", "weight_decay"), n != "lr"))


def _curves(trials: Sequence[FrozenTrial], epochs: int) -> dict[str, list[float]]:
    """``{"trial N": val_acc per epoch}`` for the best :data:`MAX_CURVES` finished or pruned trials,
    padded with NaN (no line) after the epoch a pruned trial stopped at."""
    ended = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and t.intermediate_values]
    ended.sort(key=lambda t: -t.value)
    curves = {}
    for t in ended[:MAX_CURVES]:
        values = [t.intermediate_values.get(step, float("nan")) for step in range(1, epochs + 1)]
        label = f"trial {t.number}" + (" (pruned)" if t.state == TrialState.PRUNED else "")
        curves[label] = values
    return curves


def plot_trials(trials: Sequence[FrozenTrial], space: Mapping[str, BaseDistribution], epochs: int,
                directory: PathLike, log: Callable[[str], None] = print) -> list[Path]:
    """Draw ``trials.png`` and ``curves.png`` into ``directory`` (see the module's docstring);
    returns the files written (none without :mod:`ferronet.plot`).  A figure that cannot be drawn
    is one line in ``log``, never an error of the search."""
    plot = plotting_module()
    if plot is None:
        return []
    out = Path(os.fspath(directory))
    written: list[Path] = []
    numeric = _numeric(space)
    finished = [t for t in trials if t.state == TrialState.COMPLETE]
    figures: list[tuple[str, Callable[[Path], Any]]] = []
    if len(numeric) >= 2 and finished and hasattr(plot, "plot_search_results"):
        x, y = numeric[:2]
        points = [{x: t.params[x], y: t.params[y], "val_acc": t.value} for t in finished
                  if x in t.params and y in t.params]
        figures.append(("trials.png", lambda path: plot.plot_search_results(points, x=x, y=y, score="val_acc",
                                                                           path=path)))
    curves = _curves(trials, epochs)
    if curves and hasattr(plot, "plot_curves"):
        figures.append(("curves.png", lambda path: plot.plot_curves(
            curves, x=list(range(1, epochs + 1)), xlabel="epoch", ylabel="validation accuracy", smooth=False,
            title=f"validation accuracy of the {len(curves)} best trials", path=path)))
    for name, draw in figures:
        try:
            figure = draw(out / name)
        except Exception as exc:  # noqa: BLE001 - a picture must not cost the search's results
            log(f"could not draw {name}: {type(exc).__name__}: {exc}")
            continue
        _close(plot, figure)
        written.append(out / name)
    return written


def _close(plot: Any, figure: Any) -> None:
    pyplot = getattr(plot, "pyplot", None)
    if callable(pyplot) and figure is not None:
        pyplot().close(figure)
