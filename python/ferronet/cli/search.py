"""``ferronet search MODEL``: the book's hyper-parameter search on a Dask cluster, from the command line.

It searches the learning rate (``--lr``) and the weight decay
(``--weight-decay``) of one of ``ferronet train``'s models, each a
log-uniform range ``LOW:HIGH`` (the book's 1e-6:1e-2 and 1e-8:1e-4) or a
fixed value, with Optuna's TPE or random sampler and median or
successive-halving pruning, the trials running on a local Dask cluster
(``--workers N`` processes, one per core by default) or on an existing one
(``--scheduler tcp://HOST:PORT``).  ``--train-samples`` takes the first N
training images, of which ``--validation-split`` (0.2) is held out.

Into ``--out DIR`` (``search-MODEL``) it writes the study (``study.db``,
SQLite, continued by a later run with the same name; ``--storage`` takes a
path, a ``postgresql://`` URL or ``memory``), ``summary.json``,
``best.npz`` (the best network's weights) and, with :mod:`ferronet.plot`,
pictures of the trials.  It prints a line per trial, the book's ranking and
the best configuration's test accuracy.

Exit codes: 0 done; 1 the search could not run or no trial finished (a
missing data set or extra, a storage or scheduler that does not answer); 2
bad arguments.  Every error is one line on stderr (argument errors too:
no usage, a pointer to ``--help``).  This module does not import Optuna or
Dask until the search runs, so ``--help`` and argument errors work without
them.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from ferronet.cli.common import count, fraction, number
from ferronet.cli.train import DATASETS, DTYPES, MLP_HIDDEN, MODELS, load_data

#: the data sets ``ferronet search`` takes: ``ferronet train``'s and the shipped 8x8 digits (quick runs)
SEARCH_DATASETS = (*DATASETS, "digits")
#: the book's chapter 6 ranges
BOOK_LR, BOOK_WEIGHT_DECAY = (1e-6, 1e-2), (1e-8, 1e-4)


def _seconds(text: str) -> float:
    value = number(text, "60")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text}")
    return value


def value_or_range(text: str) -> float | tuple[float, float]:
    """``LOW:HIGH`` (0 < LOW < HIGH): a log-uniform range to search; a single number >= 0: a fixed value."""
    try:
        numbers = [float(part) for part in text.split(":")]
    except ValueError:
        numbers = []
    if len(numbers) == 1 and math.isfinite(numbers[0]) and numbers[0] >= 0:
        return numbers[0]
    if len(numbers) == 2 and all(math.isfinite(v) for v in numbers) and 0 < numbers[0] < numbers[1]:
        return numbers[0], numbers[1]
    raise argparse.ArgumentTypeError(f"expected a range LOW:HIGH with 0 < LOW < HIGH (like 1e-6:1e-2) or one "
                                     f"value >= 0, got {text!r}")


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected hidden layer sizes like 100,100, got {text!r}")
    return sizes


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferronet search``."""
    from ferronet.optimizers import OPTIMIZERS


    p.add_argument("model", metavar="MODEL", choices=list(MODELS), help="the network: " + "; ".join(
        f"{name}: {m.summary}" for name, m in MODELS.items()))
    g = p.add_argument_group("the search")
    g.add_argument("--trials", type=count, default=20, help="trials to run (default 20)")
    g.add_argument("--epochs", type=count, default=5, help="epochs per trial; each may be pruned after any (default 5)")
    g.add_argument("--sampler", choices=("tpe", "random"), default="tpe",
                   help="Optuna's sampler: tpe, or random (the book's search) (default tpe)")
    g.add_argument("--pruner", choices=("median", "successive-halving", "none"), default="median",
                   help="stops trials whose validation accuracy falls behind (default median)")
    g.add_argument("--lr", type=value_or_range, default=BOOK_LR, metavar="LOW:HIGH|VALUE",
                   help="learning rate: a log-uniform range, or a fixed value (default the book's 1e-6:1e-2)")
    g.add_argument("--weight-decay", type=value_or_range, default=BOOK_WEIGHT_DECAY, metavar="LOW:HIGH|VALUE",
                   help="L2 weight decay: a log-uniform range, or a fixed value (default the book's 1e-8:1e-4)")
    g.add_argument("--seed", type=int, default=0, help="seeds the sampler, the split and every trial (default 0)")
    g.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="start no trial after this many seconds (running ones finish)")
    t = p.add_argument_group("each trial")
    t.add_argument("--optimizer", type=str.lower, choices=sorted(OPTIMIZERS), default="sgd",
                   help="optimizer (default sgd, as the book)")
    t.add_argument("--batch-size", type=count, default=100, help="mini-batch size (default 100)")
    t.add_argument("--hidden", type=_hidden, default=MLP_HIDDEN, metavar="N,N,...",
                   help="mlp, mlp-extend: hidden layer sizes (default 100,100; the book's chapter 6 uses six 100s)")
    t.add_argument("--dtype", choices=list(DTYPES), default="float32", help="parameter dtype (default float32)")
    d = p.add_argument_group("data")
    d.add_argument("--data", choices=SEARCH_DATASETS, default="fashion-mnist",
                   help="data set (default fashion-mnist; digits: the shipped 8x8 digits, for quick runs)")
    d.add_argument("--no-download", action="store_true", help="never download the data set, only look for it")
    d.add_argument("--train-samples", type=count, default=None, help="use the first N training images only")
    d.add_argument("--validation-split", metavar="F", type=fraction, default=0.2,
                   help="fraction of the training images held out for validation (default the book's 0.2)")
    c = p.add_argument_group("where trials run")
    where = c.add_mutually_exclusive_group()
    where.add_argument("--workers", type=count, default=None,
                       help="worker processes of the local Dask cluster (default: one per core)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                       help="run the trials on this Dask scheduler's workers (started with dask scheduler / "
                            "dask worker, on any machines)")
    c.add_argument("--parallel", type=count, default=None,
                   help="most trials at once (default: every worker's task threads; 1 repeats a TPE search exactly)")
    c.add_argument("--threads", type=count, default=None,
                   help="ferronet threads per trial (default: a machine's cores over its trials at once)")
    o = p.add_argument_group("results")
    o.add_argument("--out", metavar="DIR", default=None,
                   help="directory for study.db, summary.json, best.npz and plots (default search-MODEL)")
    o.add_argument("--storage", metavar="PATH|URL|memory", default=None,
                   help="the Optuna study: an SQLite path, a postgresql://USER:PASSWORD@HOST/DB URL for studies "
                        "shared by several searches, or memory (default DIR/study.db)")
    o.add_argument("--study-name", default=None, help="the study's name (default ferronet-MODEL); an existing "
                                                       "study of that name is continued")
    o.add_argument("--quiet", action="store_true", help="print only the best configuration")


def _load(args: argparse.Namespace, images: bool) -> tuple[Any, ...]:
    """``(x_train, t_train, x_test, t_test)`` of ``--data``, the first ``--train-samples`` for training."""
    dtype = DTYPES[args.dtype]
    if args.data == "digits":
        from ferronet.datasets import load_digits

        (x, t), (xt, tt) = load_digits(flatten=not images)
        x, xt = x.astype(dtype, copy=False), xt.astype(dtype, copy=False)
    else:
        x, t, xt, tt = load_data(args.data, images, dtype, download=not args.no_download)
    if args.train_samples:
        x, t = x[:args.train_samples], t[:args.train_samples]
    return x, t, xt, tt


def _error(text: str, code: int) -> int:
    print(f"ferronet search: {text}", file=sys.stderr)
    return code


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def run(args: argparse.Namespace) -> int:
    """Run ``ferronet search`` with parsed ``args``; returns the exit code."""
    try:
        import ferronet.search as fsearch
    except ImportError as exc:
        return _error(_one_line(exc), 1)
    from pathlib import Path

    from ferronet.datasets import DatasetNotFoundError
    from ferronet.search.summary import describe_params

    model = MODELS[args.model]
    out = Path(args.out or f"search-{args.model}")
    storage = None if args.storage == "memory" else (args.storage or out / "study.db")
    space, fixed = {}, {}
    for name, value in (("lr", args.lr), ("weight_decay", args.weight_decay)):
        if isinstance(value, tuple):
            space[name] = fsearch.log_uniform(*value)
        else:
            fixed[name] = value
    if not space:
        return _error("nothing to search: give --lr or --weight-decay a range LOW:HIGH", 2)
    if not out.parent.is_dir():
        return _error(f"the directory {out.parent} (for --out {out}) does not exist", 1)
    try:
        x, t, xt, tt = _load(args, model.images)
    except DatasetNotFoundError as exc:
        return _error(_one_line(exc), 1)
    network = fsearch.NetworkSpec(args.model, tuple(x.shape[1:]), hidden=args.hidden, dtype=args.dtype)
    print(f"Searching {args.model} ({_describe(network)}) on {args.data}: {len(x)} training images "
          f"({args.validation_split:g} held out for validation), {len(xt)} test images.", flush=True)
    try:
        result = fsearch.search(
            network, x, t, xt, tt, space=space, fixed_params=fixed, n_trials=args.trials, epochs=args.epochs,
            batch_size=args.batch_size, optimizer=args.optimizer, validation_split=args.validation_split,
            sampler=args.sampler, pruner=args.pruner, seed=args.seed, storage=storage,
            study_name=args.study_name or f"ferronet-{args.model}", scheduler=args.scheduler,
            n_workers=args.workers, parallel=args.parallel, threads=args.threads, timeout=args.timeout,
            output=out, verbose=not args.quiet)
    except KeyboardInterrupt:
        return _error("interrupted; the running trials are recorded as failed", 130)
    except fsearch.StorageError as exc:
        return _error(_one_line(exc), 1)
    except (ValueError, TypeError) as exc:  # options that do not fit the data, a malformed address
        return _error(_one_line(exc), 2)
    except (OSError, TimeoutError, RuntimeError) as exc:  # a scheduler that does not answer, an unwritable DIR
        return _error(_one_line(exc), 1)
    if result.best_trial is None:
        return _error(f"no trial finished ({len(result.trials)} ran); see {result.summary_path}", 1)
    if args.quiet:
        test = "" if result.test_acc is None else f", test accuracy {100 * result.test_acc:.2f}%"
        print(f"best: trial {result.best_trial.number}, val acc {result.best_trial.value:.4f}{test} | "
              f"{describe_params(result.best_trial.params)}")
    return 0


def _describe(network: Any) -> str:
    if network.model in ("mlp", "mlp-extend"):
        sizes = "-".join(str(n) for n in (network.input_shape[0], *network.hidden, network.output_size))
        return f"{'MultiLayerNet' if network.model == 'mlp' else 'MultiLayerNetExtend with BatchNorm'} {sizes}"
    return MODELS[network.model].summary
