"""What an experiment is, and what it gets to work with.

An :class:`Experiment` is a name, the book's section it reproduces, a line
of summary, its sizes (:class:`Size`: iterations, epochs, samples, trials
... each with a default that runs in about two minutes on two cores) and
a ``run(context) -> results`` function.  The :class:`ExperimentRun`
context hands it the chosen sizes, the seed, the data set and a place to
save figures; the results it returns (plain numbers, strings, lists and
dicts) go into the experiment's JSON summary.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ferronet.cli.train import CLASS_NAMES, load_data


@dataclass(frozen=True)
class Size:
    """One size of an experiment: its name (``train_samples`` is ``--train-samples``), its default and
    what it counts.  ``scales``: whether ``--scale`` multiplies it (not the sizes that define an
    experiment, such as the 300 samples of the overfitting one)."""

    name: str
    default: int
    help: str
    scales: bool = True

    @property
    def option(self) -> str:
        """The command-line option: ``--train-samples``."""
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Experiment:
    """One of the book's experiments: ``run(context)`` draws its figures and returns its results."""

    name: str
    chapter: str
    summary: str
    sizes: tuple[Size, ...]
    run: Callable[[ExperimentRun], dict[str, Any]]

    def resolve_sizes(self, scale: float = 1.0, given: Mapping[str, int | None] | None = None) -> dict[str, int]:
        """Each size's value: ``given`` when set there, else its default times ``scale`` (rounded, at
        least 1) for the sizes that scale.  ValueError for a given size this experiment does not have,
        or one that is not a whole number >= 1."""
        given = {name: value for name, value in (given or {}).items() if value is not None}
        known = {s.name for s in self.sizes}
        unknown = [name for name in given if name not in known]
        if unknown:
            options = ", ".join(s.option for s in self.sizes)
            raise ValueError(f"{Size(unknown[0], 0, '').option} does not apply to {self.name} "
                             f"(its sizes: {options})")
        for name, value in given.items():
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{Size(name, 0, '').option} must be a whole number >= 1, got {value!r}")
        return {s.name: int(given[s.name]) if s.name in given
                else (max(1, round(s.default * scale)) if s.scales else s.default) for s in self.sizes}


@dataclass
class Dataset:
    """Training and test images in float32, with the labels' class names."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    class_names: tuple[str, ...]


@dataclass
class ExperimentRun:
    """What an experiment's ``run`` works with: sizes, seed, data, and where its figures go.

    sizes: the resolved sizes (name -> int).  out: the output directory
    (exists).  seed: seeds every network and Trainer.  data: the data set's
    name (``DATASETS`` of :mod:`ferronet.cli.train`), read from
    ``data_path`` when given.  stream: where progress lines go (default stdout).
    """

    experiment: Experiment
    sizes: dict[str, int]
    out: Path
    seed: int = 0
    data: str = "fashion-mnist"
    data_path: Path | None = None
    download: bool = True
    stream: TextIO | None = None
    #: the PNGs saved so far
    figures: list[Path] = field(default_factory=list)
    _loaded: dict[bool, Dataset] = field(default_factory=dict, repr=False)

    def size(self, name: str) -> int:
        return self.sizes[name]

    def log(self, text: str) -> None:
        """A progress line, prefixed with the experiment's name."""
        print(f"{self.experiment.name}: {text}", file=self.stream or sys.stdout, flush=True)

    def load(self, images: bool) -> Dataset:
        """The data set, images (N, 1, 28, 28) when ``images`` else flattened (N, 784); loaded once each."""
        if images not in self._loaded:
            x, t, xt, tt = load_data(self.data, images, np.float32, download=self.download, path=self.data_path)
            self._loaded[images] = Dataset(x, t, xt, tt, CLASS_NAMES[self.data])
        return self._loaded[images]

    def save(self, figure: Any, stem: str) -> Path:
        """Save ``figure`` as ``<out>/<experiment>-<stem>.png`` (atomically), close it, and list it."""
        from ferronet.plot import pyplot, save_figure

        path = save_figure(figure, self.out / f"{self.experiment.name}-{stem}.png")
        pyplot().close(figure)
        self.figures.append(path)
        return path


class Stopwatch:
    """Wall-clock and CPU seconds since it was made (CPU: every thread of the process)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def seconds(self) -> tuple[float, float]:
        """``(wall, cpu)`` seconds elapsed."""
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def epochs_for(iterations: int, train_size: int, batch_size: int) -> float:
    """The (fractional) ``epochs`` that make a :class:`~ferronet.trainer.Trainer` take exactly
    ``iterations`` steps of ``batch_size`` over ``train_size`` samples (the book counts iterations)."""
    return iterations / -(-train_size // batch_size)
