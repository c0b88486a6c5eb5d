"""``ferronet experiment NAME``: reproduce one of the book's chapter 6-8 experiments (:mod:`ferronet.experiments`).

Each writes its figures (``<out>/<name>-<figure>.png``) and a JSON summary
(``<out>/<name>.json``).  Sizes: ``--scale F`` multiplies every size that
scales, and ``--iterations``, ``--epochs``, ``--train-samples`` ... set one
(``ferronet experiment --list`` shows each experiment's sizes and
defaults).  Every mistake - an unknown name, a bad or inapplicable option,
no matplotlib, a missing data set - is one line on stderr.
"""

from __future__ import annotations

import argparse
import sys

from ferronet.cli.common import count
from ferronet.cli.train import DATASETS

PROG = "ferronet experiment"


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number like 0.5, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def size_names() -> list[str]:
    """Every size any experiment has, in a stable order (each becomes an option)."""
    from ferronet.experiments import EXPERIMENTS

    return list(dict.fromkeys(s.name for e in EXPERIMENTS.values() for s in e.sizes))


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferronet experiment``."""
    from ferronet.experiments import EXPERIMENTS

    p.add_argument("name", metavar="NAME", nargs="?", help="the experiment: " + ", ".join(EXPERIMENTS))
    p.add_argument("--list", action="store_true", help="list the experiments with their sizes and exit")
    p.add_argument("--out", metavar="DIR", default="figures",
                   help="where the PNGs and the JSON summary go (default ./figures; made if missing)")
    p.add_argument("--seed", type=int, default=0, help="seeds every network, shuffle and trial (default 0)")
    p.add_argument("--threads", type=count, default=None, help="native threads (default: all cores)")
    p.add_argument("--data", choices=DATASETS, default="fashion-mnist",
                   help="data set (default fashion-mnist; mnist reads local files)")
    p.add_argument("--data-path", metavar="DIR", default=None,
                   help="the directory holding the data set's four IDX files (default: where the loader looks)")
    p.add_argument("--no-download", action="store_true", help="never download the data set, only look for it")
    p.add_argument("--scale", type=_scale, default=1.0,
                   help="multiply every default size that scales (e.g. 0.1 for a quick look, 2 for more)")
    sizes = p.add_argument_group("sizes", "set one size of the experiment (see --list for which it has)")
    for name in size_names():
        sizes.add_argument("--" + name.replace("_", "-"), dest=name, type=count, default=None, metavar="N")


def list_experiments() -> str:
    """The ``--list`` text: one block per experiment, its sizes and their defaults."""
    from ferronet.experiments import EXPERIMENTS

    lines = []
    for e in EXPERIMENTS.values():
        lines.append(f"{e.name} (chapter {e.chapter}): {e.summary}")
        for s in e.sizes:
            lines.append(f"    {s.option} {s.default}: {s.help}{'' if s.scales else ' (not scaled)'}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``ferronet experiment`` with parsed ``args``; returns the exit code."""
    import ferronet
    from ferronet.datasets import DatasetNotFoundError
    from ferronet.experiments import get_experiment, run_experiment
    from ferronet.plot import PlotDependencyError, require_plotting

    if args.list:
        print(list_experiments())
        return 0
    if args.name is None:
        print(f"{PROG}: error: name an experiment (one of: {', '.join(_names())}) or give --list", file=sys.stderr)
        return 2
    try:
        experiment = get_experiment(args.name)
        experiment.resolve_sizes(args.scale, {name: getattr(args, name) for name in size_names()})
        require_plotting()
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except PlotDependencyError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    if args.threads:
        ferronet.set_num_threads(args.threads)
    try:
        run_experiment(args.name, args.out, seed=args.seed, scale=args.scale,
                       sizes={name: getattr(args, name) for name in size_names()}, data=args.data,
                       data_path=args.data_path, download=not args.no_download)
    except DatasetNotFoundError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # an output directory or file that cannot be written
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    return 0


def _names() -> list[str]:
    from ferronet.experiments import EXPERIMENTS

    return list(EXPERIMENTS)
