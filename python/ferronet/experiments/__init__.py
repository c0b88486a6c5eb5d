"""The book's chapter 6-8 experiments, each drawing its figures and writing a JSON summary.

``ferronet experiment NAME`` runs one (:mod:`ferronet.cli.experiment`);
:func:`run_experiment` does the same from Python.  One module per
experiment, each defining ``EXPERIMENT`` (:class:`~ferronet.experiments.base.Experiment`);
:data:`EXPERIMENTS` lists them by name, in the book's order.

Every experiment writes ``<out>/<name>-<figure>.png`` files and
``<out>/<name>.json``: the sizes, seed, data set, machine, wall-clock and CPU
seconds, the figures' names, and the results (accuracies, losses ...).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TextIO, Union

from ferronet.experiments import (batchnorm, filters, half_float, hyperparameters, misclassified, optimizers,
                                  overfit, weight_init)
from ferronet.experiments.base import Experiment, ExperimentRun, Size, Stopwatch
from ferronet.experiments.summary import environment, plain, write_summary
from ferronet.cli.train import DATASETS

PathLike = Union[str, os.PathLike]

#: Every experiment by name, in the book's order.
EXPERIMENTS: dict[str, Experiment] = {m.EXPERIMENT.name: m.EXPERIMENT for m in (
    optimizers, weight_init, batchnorm, overfit, hyperparameters, filters, misclassified, half_float)}


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; ValueError naming the choices for any other name."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}") from None


def run_experiment(name: str, out: PathLike = ".", *, seed: int = 0, scale: float = 1.0,
                   sizes: dict[str, int | None] | None = None, data: str = "fashion-mnist",
                   data_path: PathLike | None = None, download: bool = True,
                   stream: TextIO | None = None) -> dict[str, Any]:
    """Run experiment ``name``, writing its PNGs and ``<name>.json`` into ``out`` (made if missing).

    scale multiplies the default sizes (those that scale); sizes sets any of
    them (name -> value; None keeps the default).  data: 'fashion-mnist'
    or 'mnist' (read from ``data_path`` when given).  Progress lines go to
    ``stream`` (default stdout).  Returns the summary written to the JSON file (plain data).
    """
    experiment = get_experiment(name)
    if data not in DATASETS:
        raise ValueError(f"unknown data set {data!r}; choose one of {', '.join(DATASETS)}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    resolved = experiment.resolve_sizes(scale, sizes)
    directory = Path(os.fspath(out))
    directory.mkdir(parents=True, exist_ok=True)
    context = ExperimentRun(experiment, resolved, directory, seed=seed, data=data, download=download,
                            data_path=None if data_path is None else Path(os.fspath(data_path)), stream=stream)
    context.log("sizes " + ", ".join(f"{k}={v}" for k, v in resolved.items()) + f", seed {seed}, {data}")
    clock = Stopwatch()
    results = experiment.run(context)
    wall, cpu = clock.seconds()
    summary = plain({"experiment": name, "chapter": experiment.chapter, "summary": experiment.summary,
               "data": data, "seed": seed, "sizes": resolved, "environment": environment(),
               "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
               "figures": [p.name for p in context.figures], "results": results})
    json_path = write_summary(directory / f"{name}.json", summary)
    context.log(f"wrote {len(context.figures)} figures and {json_path.name} to {directory} in {wall:.1f} s "
                f"({cpu:.1f} s CPU)")
    return summary


__all__ = ["DATASETS", "EXPERIMENTS", "Experiment", "ExperimentRun", "Size", "get_experiment", "run_experiment"]
