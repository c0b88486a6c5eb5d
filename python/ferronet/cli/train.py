"""``ferronet train MODEL``: train one of the book's networks on (Fashion-)MNIST and report.

The models (:data:`MODELS`):

* ``mlp`` - ``MultiLayerNet`` 784-100-100-10 (ReLU, He init), flattened images (N, 784);
* ``mlp-extend`` - ``MultiLayerNetExtend`` of the same sizes with batch
  normalisation (``--no-batchnorm`` turns it off, ``--dropout R`` adds dropout);
* ``simple-convnet`` - the book's ``SimpleConvNet`` (conv 30 5x5 / pool / affine 100 / affine 10)
  on images (N, 1, 28, 28);
* ``deep-convnet`` - the book's ``DeepConvNet`` (six 3x3 convs, three pools, affine 50, dropout).

Training runs :class:`ferronet.trainer.Trainer` (progress bar on stderr, one line per
epoch); the last line printed is the test accuracy on the whole test set and the training
seconds per epoch.  ``--validation-split F`` holds out a fraction of the training images,
``--early-stopping PATIENCE`` stops when the validation loss has not improved for that many
epochs (and keeps the best weights), ``--checkpoint PATH`` writes ``PATH-best.npz``,
``PATH-last.npz`` and ``PATH-state.npz`` after every epoch, ``--resume PATH`` continues a
run from its checkpoint (and keeps checkpointing there), ``--history PATH`` writes the
per-epoch metrics as JSON (:mod:`ferronet.training.checkpoint`, :mod:`ferronet.training.history`),
``--plot DIR`` draws the learning curves, the misclassified test images and the confusion
matrix (:func:`ferronet.plot.training_figures`).  The recipe options ``--augment``,
``--schedule``, ``--warmup-epochs``, ``--weight-decay``, ``--label-smoothing``, ``--hidden``,
``--batchnorm`` and ``--tta`` are in :mod:`ferronet.cli.recipes`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ferronet.cli import recipes
from ferronet.cli.common import count, fraction, number
from ferronet.datasets import FASHION_CLASS_NAMES

#: The hidden layer sizes of the two MLPs (the demo's and the learning test's network).
MLP_HIDDEN = (100, 100)
DATASETS = ("fashion-mnist", "mnist")
#: The names of each data set's labels 0-9.
CLASS_NAMES = {"fashion-mnist": FASHION_CLASS_NAMES, "mnist": tuple("0123456789")}
DTYPES = {"float32": np.float32, "float64": np.float64}


@dataclass(frozen=True)
class Model:
    """How to build one named network: ``build(input_shape, dtype, seed, args)``."""

    summary: str
    images: bool  #: True: input (N, 1, H, W); False: flattened (N, H*W)
    build: Callable[[tuple[int, ...], Any, int, argparse.Namespace], Any]


def _hidden(args: argparse.Namespace) -> tuple[int, ...]:
    """The MLPs' hidden layer sizes: ``--hidden``, else :data:`MLP_HIDDEN`."""
    return getattr(args, "hidden", None) or MLP_HIDDEN


def _mlp(shape: tuple[int, ...], dtype: Any, seed: int, args: argparse.Namespace) -> Any:
    from ferronet.networks import MultiLayerNet

    return MultiLayerNet(shape[0], list(_hidden(args)), 10, weight_decay_lambda=args.weight_decay, dtype=dtype,
                         seed=seed, loss=recipes.make_loss(args))


def _mlp_extend(shape: tuple[int, ...], dtype: Any, seed: int, args: argparse.Namespace) -> Any:
    from ferronet.networks import MultiLayerNetExtend

    return MultiLayerNetExtend(shape[0], list(_hidden(args)), 10, use_batchnorm=not args.no_batchnorm,
                               use_dropout=bool(args.dropout), dropout_ration=args.dropout or 0.5,
                               weight_decay_lambda=args.weight_decay, dtype=dtype, seed=seed,
                               loss=recipes.make_loss(args))


def _init_std(text: str) -> float | str:
    """``--weight-init``: a number is the std, otherwise an init name ('he', 'xavier', ...)."""
    try:
        return float(text)
    except ValueError:
        return text


def _simple_convnet(shape: tuple[int, ...], dtype: Any, seed: int, args: argparse.Namespace) -> Any:
    from ferronet.networks import SimpleConvNet

    return SimpleConvNet(input_dim=shape, weight_init_std=_init_std(args.weight_init),
                         weight_decay_lambda=args.weight_decay, dtype=dtype, seed=seed,
                         loss=recipes.make_loss(args))


def _deep_convnet(shape: tuple[int, ...], dtype: Any, seed: int, args: argparse.Namespace) -> Any:
    from ferronet.networks import DeepConvNet

    ratio = {} if args.dropout is None else {"dropout_ratio": args.dropout}
    return DeepConvNet(input_dim=shape, weight_decay_lambda=args.weight_decay, batchnorm=args.batchnorm,
                       dtype=dtype, seed=seed, loss=recipes.make_loss(args), **ratio)


MODELS: dict[str, Model] = {
    "mlp": Model("MultiLayerNet 784-100-100-10", False, _mlp),
    "mlp-extend": Model("MultiLayerNetExtend 784-100-100-10 with BatchNorm", False, _mlp_extend),
    "simple-convnet": Model("SimpleConvNet (conv 30x5x5, pool, 100, 10)", True, _simple_convnet),
    "deep-convnet": Model("DeepConvNet (6 conv 3x3, 3 pools, 50, dropout, 10)", True, _deep_convnet),
}


# ---------------------------------------------------------------------- arguments


def _ratio(text: str) -> float:
    value = number(text, "0.5")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"a dropout ratio must lie in [0, 1), got {value}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferronet train``."""
    from ferronet.optimizers import OPTIMIZERS

    p.add_argument("model", metavar="MODEL", choices=list(MODELS), help="the network: " + "; ".join(
        f"{name}: {m.summary}" for name, m in MODELS.items()))
    p.add_argument("--epochs", type=count, default=5, help="epochs (default 5)")
    p.add_argument("--batch-size", type=count, default=100, help="mini-batch size (default 100)")
    p.add_argument("--optimizer", type=str.lower, choices=sorted(OPTIMIZERS), default="adam",
                   help="optimizer (default adam)")
    p.add_argument("--lr", type=recipes.positive, default=None,
                   help="learning rate (default: the optimizer's, Adam 0.001)")
    p.add_argument("--backend", choices=("native", "numpy"), default=None,
                   help="kernels to run on (default: native when built, else numpy; FERRONET_BACKEND)")
    p.add_argument("--threads", type=count, default=None,
                   help="native threads (default: all cores); NumPy's BLAS follows OPENBLAS_NUM_THREADS")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the initial weights, the shuffling and dropout (default 0)")
    p.add_argument("--dtype", choices=list(DTYPES), default="float32", help="parameter dtype (default float32)")
    p.add_argument("--data", choices=DATASETS, default="fashion-mnist", help="data set (default fashion-mnist)")
    p.add_argument("--no-download", action="store_true", help="never download the data set, only look for it")
    p.add_argument("--train-samples", type=count, default=None, help="train on the first N training images only")
    p.add_argument("--eval-samples", type=count, default=10000,
                   help="per-epoch accuracies on the first N training and test images (default 10000); "
                        "the final line always uses the whole test set")
    p.add_argument("--weight-init", default="he",
                   help="simple-convnet: initial weight std, or 'he'/'xavier' (default he; the book's 0.01 reaches "
                        "about 88%% on Fashion-MNIST after 3 epochs where He reaches about 90%%)")
    p.add_argument("--dropout", type=_ratio, default=None,
                   help="mlp-extend: dropout ratio (default: no dropout); deep-convnet: the ratio of its two "
                        "Dropout layers (default 0.5, the book's)")
    p.add_argument("--no-batchnorm", action="store_true", help="mlp-extend: without batch normalisation")
    p.add_argument("--validation-split", metavar="F", type=fraction, default=None,
                   help="hold out this fraction of the training images for validation (e.g. 0.1); "
                        "reports the validation loss and accuracy after every epoch")
    p.add_argument("--early-stopping", metavar="PATIENCE", type=count, default=None,
                   help="stop when the validation loss has not improved for PATIENCE epochs and keep the best "
                        "weights (needs --validation-split)")
    p.add_argument("--checkpoint", metavar="PATH",
                   help="after every epoch write PATH-best.npz, PATH-last.npz (weights) and PATH-state.npz "
                        "(what --resume needs)")
    p.add_argument("--resume", metavar="PATH",
                   help="continue the run checkpointed at PATH (same model and options; --epochs may be larger); "
                        "keeps checkpointing to PATH unless --checkpoint says otherwise")
    p.add_argument("--history", metavar="PATH", help="write the per-epoch losses and accuracies to PATH as JSON")
    p.add_argument("--save", metavar="PATH", help="save the trained parameters (network.save_params, .npz)")
    p.add_argument("--plot", metavar="DIR",
                   help="after training, draw the learning curves, the misclassified test images and the confusion "
                        "matrix into DIR/MODEL-curves.png, -misclassified.png, -confusion.png (DIR is made if "
                        "missing; needs matplotlib: pip install 'ferronet[plot]')")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    recipes.add_arguments(p)


# ---------------------------------------------------------------------- running


def load_data(name: str, images: bool, dtype: Any, download: bool, path: Any = None) -> tuple[np.ndarray, ...]:
    """``(x_train, t_train, x_test, t_test)``: x (N, 1, 28, 28) when ``images`` else (N, 784), in ``dtype``;
    read from the directory ``path`` when given, else wherever the loader looks."""
    from ferronet.datasets import load_fashion_mnist, load_mnist

    loader = load_fashion_mnist if name == "fashion-mnist" else load_mnist
    (x, t), (xt, tt) = loader(flatten=not images, download=download, path=path)
    return x.astype(dtype, copy=False), t, xt.astype(dtype, copy=False), tt


def final_line(model: str, test_acc: float, n_test: int, epoch_times: list[float], context: str) -> str:
    """``test accuracy 89.12% (10000 test images), 4.21 s/epoch (...)``: the command's last line."""
    mean = statistics.fmean(epoch_times)
    return (f"{model}: test accuracy {100 * test_acc:.2f}% ({n_test} test images), {mean:.3f} s/epoch "
            f"(mean of {len(epoch_times)}, training only; {context})")


def prepare_plot_directory(directory: str) -> str | None:
    """Check that ``--plot DIR`` can work before training starts: matplotlib is there and DIR exists
    (made if missing).  Returns what is wrong, or None."""
    from pathlib import Path

    from ferronet.plot import PlotDependencyError, require_plotting

    try:
        require_plotting()
        Path(directory).mkdir(parents=True, exist_ok=True)
    except (PlotDependencyError, OSError) as exc:
        return str(exc)
    return None


def write_plots(directory: str, model: str, trainer: Any, x_test: np.ndarray, t_test: np.ndarray,
                class_names: tuple[str, ...]) -> list[Any]:
    """``--plot DIR``: the run's figures (:func:`ferronet.plot.training_figures`) as
    ``DIR/<model>-<figure>.png``; returns their paths."""
    from pathlib import Path

    from ferronet.plot import pyplot, save_figure, training_figures

    paths = []
    for stem, figure in training_figures(trainer, x_test, t_test, class_names=class_names, title=model).items():
        paths.append(save_figure(figure, Path(directory) / f"{model}-{stem}.png"))
        pyplot().close(figure)
    return paths


def _summary(args: argparse.Namespace) -> str:
    """The model's description with the options that change it (hidden sizes, batch norm, dropout)."""
    summary = MODELS[args.model].summary
    if args.model in recipes.HIDDEN_MODELS and args.hidden:
        summary = summary.replace("-".join(map(str, MLP_HIDDEN)), "-".join(map(str, args.hidden)))
    if args.model == "mlp-extend":
        summary = summary.replace(" with BatchNorm", "" if args.no_batchnorm else " with BatchNorm")
        summary += f", dropout {args.dropout:g}" if args.dropout else ""
    if args.model == "deep-convnet" and args.batchnorm:
        summary += ", BatchNorm after each conv"
    if args.model == "deep-convnet" and args.dropout is not None:
        summary = summary.replace("dropout,", f"dropout {args.dropout:g},")
    return summary


def train(args: argparse.Namespace) -> int:
    """Run ``ferronet train`` with parsed ``args``; returns the exit code."""
    import ferronet
    from ferronet.datasets import DatasetNotFoundError
    from ferronet.training.checkpoint import CheckpointError
    from ferronet.trainer import Trainer

    problem = recipes.check(args)
    if problem:
        print(f"ferronet train: {problem}", file=sys.stderr)
        return 2
    if args.early_stopping is not None and args.validation_split is None:
        print("ferronet train: --early-stopping watches the validation loss: add --validation-split (e.g. 0.1)",
              file=sys.stderr)
        return 2
    if args.backend == "native" and not ferronet.native_available():
        print("ferronet train: the native backend is not available (the Rust core is not built); "
              "use --backend numpy", file=sys.stderr)
        return 2
    if args.backend:
        ferronet.set_backend(args.backend)
    if args.threads:
        ferronet.set_num_threads(args.threads)
    if args.plot is not None:
        problem = prepare_plot_directory(args.plot)
        if problem:
            print(f"ferronet train: {problem}", file=sys.stderr)
            return 1
    model, dtype = MODELS[args.model], DTYPES[args.dtype]
    try:
        x, t, xt, tt = load_data(args.data, model.images, dtype, download=not args.no_download)
    except DatasetNotFoundError as exc:
        print(f"ferronet train: {exc}", file=sys.stderr)
        return 1
    if args.train_samples:
        x, t = x[:args.train_samples], t[:args.train_samples]
    network = model.build(x.shape[1:], dtype, args.seed, args)
    backend = ferronet.get_backend()
    n = ferronet.get_num_threads()
    threads = f"{n} thread{'s' if n > 1 else ''}" if backend == "native" else "BLAS threads per OPENBLAS_NUM_THREADS"
    context = f"{backend} backend, {args.dtype}, {threads}"
    try:
        trainer = Trainer(network, x, t, xt, tt, epochs=args.epochs, mini_batch_size=args.batch_size,
                          optimizer=args.optimizer, optimizer_param={} if args.lr is None else {"lr": args.lr},
                          evaluate_sample_num_per_epoch=args.eval_samples, verbose=not args.quiet, seed=args.seed,
                          validation_split=args.validation_split, early_stopping=args.early_stopping,
                          checkpoint=args.checkpoint, resume=args.resume, history_path=args.history,
                          augment=recipes.make_augment(args.augment, model.images))
        recipes.attach_schedule(trainer, args)
    except (FileNotFoundError, NotADirectoryError, CheckpointError) as exc:
        print(f"ferronet train: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # options that do not fit the data, e.g. a split leaving no image
        print(f"ferronet train: {exc}", file=sys.stderr)
        return 2
    images = f"{trainer.train_size} training / " + (
        f"{len(trainer.x_val)} validation / " if trainer.x_val is not None else "") + f"{len(xt)} test images"
    print(f"Training {args.model} ({_summary(args)}) on {args.data}: {images}, "
          f"{args.epochs} epoch{'s' if args.epochs > 1 else ''}, batch {args.batch_size}, {args.optimizer}"
          f"{f' lr={args.lr:g}' if args.lr is not None else ''}{recipes.describe(args)}; {context}.", flush=True)
    try:
        trainer.fit()  # Trainer.train() would add its own final evaluation
    except OSError as exc:  # a checkpoint or history file that cannot be written
        print(f"ferronet train: {exc}", file=sys.stderr)
        return 1
    test_acc = network.accuracy(xt, tt, batch_size=args.batch_size)
    if args.tta:
        from ferronet.augment import mirror_averaged_accuracy

        mirrored = mirror_averaged_accuracy(network, xt, tt, batch_size=args.batch_size)
        print(f"test accuracy with each image averaged with its mirror image (--tta): {100 * mirrored:.2f}% "
              f"({len(xt)} test images)")
    if args.save:
        print(f"saved the parameters to {network.save_params(args.save)}")
    if args.plot is not None:
        paths = write_plots(args.plot, args.model, trainer, xt, tt, CLASS_NAMES[args.data])
        print(f"wrote {', '.join(str(p) for p in paths)}")
    print(final_line(args.model, test_acc, len(xt), trainer.epoch_times, context), flush=True)
    return 0
