"""The ``ferronet`` command line: ``ferronet info | demo | train | experiment | search | export | predict | bench``
(``python -m ferronet``).

Each subcommand is a pair of functions registered here with :func:`command`:
one adds its arguments, one runs it and returns the exit code; the work of
each lives in its own module of this package (imported when the command
runs, so ``--help`` stays quick):

* :mod:`~ferronet.cli.train` - ``ferronet train`` (and the models and data sets the others share),
  with its recipe options (augmentation presets, schedules) in :mod:`~ferronet.cli.recipes`;
* :mod:`~ferronet.cli.experiment` - ``ferronet experiment``;
* :mod:`~ferronet.cli.search` - ``ferronet search``;
* :mod:`~ferronet.cli.export`, :mod:`~ferronet.cli.predict`, :mod:`~ferronet.cli.predict_data` -
  ``ferronet export`` and ``ferronet predict``;
* :mod:`~ferronet.cli.common` - what they share (argument types, weight files, one-line errors).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from ferronet.cli.common import count


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register the decorated ``run(args) -> exit code`` as subcommand ``name``."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = Command(name, help, configure, run)
        return run

    return register


def _in_module(module: str, function: str) -> Callable[[Any], Any]:
    """``ferronet.cli.MODULE.FUNCTION``, imported when first called."""

    def call(arg: Any) -> Any:
        return getattr(importlib.import_module(f"ferronet.cli.{module}"), function)(arg)

    return call


def module_command(name: str, help: str, module: str, run: str) -> None:
    """Register subcommand ``name`` whose arguments come from ``ferronet.cli.MODULE.add_arguments`` and
    which runs ``ferronet.cli.MODULE.RUN(args)``."""
    command(name, help, _in_module(module, "add_arguments"))(_in_module(module, run))


def _thread_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated thread counts like 1,2, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be >= 1, got {text!r}")
    return values


# ---------------------------------------------------------------------- info


@command("info", "show the version, whether the native core loaded, SIMD features and threads")
def _info(args: argparse.Namespace) -> int:
    import ferronet

    ferronet.show_config()
    return 0


# ---------------------------------------------------------------------- demo


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=count, default=3, help="epochs per backend (default 3)")
    p.add_argument("--threads", type=count, default=None,
                   help="native threads (default: all cores); NumPy's BLAS follows OPENBLAS_NUM_THREADS")
    p.add_argument("--limit", type=count, default=None, help=argparse.SUPPRESS)  # smoke tests


@command("demo", "train a float32 MLP on Fashion-MNIST (or the shipped digits) on each backend and "
         "compare epoch times", _demo_args)
def _demo(args: argparse.Namespace) -> int:
    from ferronet.bench.demo import run_demo

    run_demo(epochs=args.epochs, threads=args.threads, limit=args.limit)
    return 0


# ---------------------------------------------------------------------- train


module_command("train", "train mlp, mlp-extend, simple-convnet or deep-convnet on Fashion-MNIST (or MNIST); "
               "prints the test accuracy and seconds per epoch", "train", "train")


# ---------------------------------------------------------------------- experiment


module_command("experiment", "reproduce one of the book's chapter 6-8 experiments (optimizers, weight-init, batchnorm, "
               "overfit, hyperparameters, filters, misclassified, half-float): PNGs and a JSON summary; --list",
               "experiment", "run")


# ---------------------------------------------------------------------- search


module_command("search", "search the learning rate and weight decay of a model with Optuna, trials in parallel on "
               "Dask (the search extra); prints the best configuration and its test accuracy", "search", "run")


# ---------------------------------------------------------------------- export


module_command("export", "export a saved network (weight file) as an ONNX model, checked in ONNX Runtime", "export",
               "export")


# ---------------------------------------------------------------------- predict


module_command("predict", "predict images with a saved network (or, with --onnx, an exported model in ONNX Runtime); "
               "prints the accuracy when the labels are known", "predict", "predict")


# ---------------------------------------------------------------------- bench


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of a few seconds")
    p.add_argument("--threads", type=_thread_list, default=[1, 2], help="thread counts to run (default 1,2)")
    p.add_argument("--json", metavar="PATH", help="write the full results as JSON")
    p.add_argument("--markdown", metavar="PATH", help="write the Markdown table")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--only", type=lambda s: [g for g in s.split(",") if g], default=None,
                   help="only these case groups (copy, matmul, affine, softmax_ce, loss, adam, sgd, update, relu, "
                        "sigmoid, activation, mlp_epoch, im2col, conv, deep_conv_layer, max_pool, batchnorm, dropout, "
                        "simple_convnet, deep_convnet, augment, beside_numpy, two_processes, inference)")


@command("bench", "time native vs NumPy vs PyTorch back to back (float32) and print a Markdown table with the "
         "speed targets", _bench_args)
def _bench(args: argparse.Namespace) -> int:
    from ferronet import bench

    record = bench.run(threads=args.threads, quick=args.quick, use_torch=not args.no_torch, only=args.only,
                       log=sys.stderr)
    print(bench.write(record, args.json, args.markdown))
    return 0


# ---------------------------------------------------------------------- entry point


class OneLineErrors(argparse.ArgumentParser):
    """A command's parser: a bad argument is one line, ``ferronet CMD: error: MESSAGE (see ferronet CMD
    --help)``, exit code 2, without argparse's block of usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferronet", description="ferronet: Deep Learning from Scratch on a Rust core")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=OneLineErrors)
    for cmd in COMMANDS.values():
        cmd.configure(sub.add_parser(cmd.name, help=cmd.help, description=cmd.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its exit code."""
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
