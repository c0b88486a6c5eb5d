"""The recipe options of ``ferronet train``: augmentation presets, learning-rate schedules,
weight decay, label smoothing, MLP hidden sizes, DeepConvNet's batch normalisation and test-time mirroring.

* ``--augment NAME`` (:data:`AUGMENTS`): ``none``; ``flip`` (horizontal flip, p 0.5);
  ``shift-flip`` (random shift of up to 2 pixels, zero fill, and a horizontal flip);
  ``standard`` (``shift-flip`` then random erasing, p 0.5).  Flattened inputs (the MLPs) are
  augmented as 1x28x28 images.  Horizontal flips suit Fashion-MNIST, not digits.
* ``--schedule cosine|step|none`` (:data:`SCHEDULES`), updated every iteration: ``cosine`` is
  :class:`~ferronet.schedules.CosineDecay` over the run's iterations (after ``--warmup-epochs W``
  epochs of linear warm-up from almost 0), ``step`` is :class:`~ferronet.schedules.StepDecay`
  dividing the rate by 10 after each third of the run.
* ``--weight-decay L``: the networks' L2 penalty ``weight_decay_lambda`` on the weights.
* ``--label-smoothing E``: the networks' loss is ``SoftmaxWithLoss(label_smoothing=E)``.
* ``--hidden 512,256``: the hidden layer sizes of ``mlp`` and ``mlp-extend`` (default 100,100).
* ``--batchnorm``: ``deep-convnet`` with a per-channel BatchNormalization after each convolution.
* ``--tta``: after training, also report the test accuracy with each image's class probabilities
  averaged with its mirror image's (:func:`ferronet.augment.mirror_averaged_accuracy`), for the
  convolutional networks.
* (``--dropout R``, an option of the command since before, also sets ``deep-convnet``'s two dropout
  ratios, the book's 0.5 by default.)

:func:`check` returns the one-line error for options that do not fit each other (or None).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from ferronet.cli.common import number

#: ``--augment`` presets: name -> description.
AUGMENTS = {
    "none": "no augmentation",
    "flip": "horizontal flip (p 0.5)",
    "shift-flip": "random shift up to 2 px + horizontal flip",
    "standard": "random shift up to 2 px + horizontal flip + random erasing (p 0.5)",
}
SCHEDULES = ("none", "cosine", "step")
#: Models that take ``--hidden`` / ``--batchnorm``.
HIDDEN_MODELS = ("mlp", "mlp-extend")
BATCHNORM_MODELS = ("deep-convnet",)
DROPOUT_MODELS = ("mlp-extend", "deep-convnet")
#: Models that take images (N, 1, 28, 28), which ``--tta`` mirrors.
IMAGE_MODELS = ("simple-convnet", "deep-convnet")
IMAGE_SHAPE = (1, 28, 28)


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``--hidden``: comma-separated layer sizes, each at least 1 (e.g. ``512,256``)."""
    try:
        sizes = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer sizes like 512,256, got {text!r}") from None
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"layer sizes must be at least 1, got {text!r}")
    return sizes


def non_negative(text: str) -> float:
    """``--weight-decay`` (and ``--label-smoothing``, checked below 1 by :func:`smoothing`): a finite number >= 0."""
    value = number(text, "0.0005")
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def positive(text: str) -> float:
    """``--lr``: a finite number > 0."""
    value = number(text, "0.001")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def epochs_count(text: str) -> int:
    """``--warmup-epochs``: an int >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of epochs, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def smoothing(text: str) -> float:
    """``--label-smoothing``: a number in [0, 1)."""
    value = non_negative(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be below 1, got {value:g}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The recipe options of ``ferronet train``."""
    p.add_argument("--augment", choices=list(AUGMENTS), default="none",
                   help="augment each training mini-batch: " + "; ".join(f"{k}: {v}" for k, v in AUGMENTS.items())
                        + " (default none)")
    p.add_argument("--schedule", choices=SCHEDULES, default="none",
                   help="learning-rate schedule, updated every iteration: cosine decay to 0 over the run (after "
                        "--warmup-epochs), step (the rate / 10 after each third of the run), none (default)")
    p.add_argument("--warmup-epochs", metavar="W", type=epochs_count, default=0,
                   help="with --schedule cosine: raise the rate linearly over the first W epochs (default 0)")
    p.add_argument("--weight-decay", metavar="L", type=non_negative, default=0.0,
                   help="L2 weight decay lambda on the weights (default 0)")
    p.add_argument("--label-smoothing", metavar="E", type=smoothing, default=0.0,
                   help="train against targets (1 - E) * one-hot + E / classes (default 0: the one-hot labels)")
    p.add_argument("--hidden", metavar="SIZES", type=hidden_sizes, default=None,
                   help="mlp, mlp-extend: hidden layer sizes, e.g. 512,256 (default 100,100)")
    p.add_argument("--batchnorm", action="store_true",
                   help="deep-convnet: a per-channel BatchNormalization after each convolution")
    p.add_argument("--tta", action="store_true",
                   help="simple-convnet, deep-convnet: also report the test accuracy of each image's class "
                        "probabilities averaged with its mirror image's (test-time augmentation)")


def check(args: argparse.Namespace) -> str | None:
    """What is wrong with the combination of recipe options, in one line, or None."""
    if args.hidden is not None and args.model not in HIDDEN_MODELS:
        return f"--hidden sets the hidden layers of {' and '.join(HIDDEN_MODELS)}, not {args.model}"
    if args.batchnorm and args.model not in BATCHNORM_MODELS:
        hint = " (mlp-extend has batch normalisation unless --no-batchnorm)" if args.model == "mlp-extend" else ""
        return f"--batchnorm is an option of deep-convnet, not {args.model}{hint}"
    if args.dropout is not None and args.model not in DROPOUT_MODELS:
        return f"--dropout sets the dropout of {' and '.join(DROPOUT_MODELS)}, not {args.model}"
    if args.tta and args.model not in IMAGE_MODELS:
        return f"--tta mirrors images: an option of {' and '.join(IMAGE_MODELS)}, not {args.model}"
    if args.warmup_epochs and args.schedule != "cosine":
        return "--warmup-epochs needs --schedule cosine"
    if args.schedule == "cosine" and args.warmup_epochs >= args.epochs:
        return f"--warmup-epochs ({args.warmup_epochs}) must be smaller than --epochs ({args.epochs})"
    return None


def make_augment(name: str, images: bool) -> Callable[..., Any] | None:
    """The ``--augment`` preset ``name`` for the Trainer (None for ``none``); ``images`` False: inputs (N, 784)."""
    from ferronet.augment import Compose, RandomErasing, RandomHorizontalFlip, RandomShift

    if name == "none":
        return None
    transforms: list[Any] = {"flip": [RandomHorizontalFlip()],
                             "shift-flip": [RandomShift(2), RandomHorizontalFlip()],
                             "standard": [RandomShift(2), RandomHorizontalFlip(), RandomErasing()]}[name]
    return Compose(transforms, image_shape=None if images else IMAGE_SHAPE)


def make_loss(args: argparse.Namespace) -> Any:
    """The networks' ``loss=``: the book's softmax cross-entropy, with ``--label-smoothing`` when given."""
    from ferronet.layers import SoftmaxWithLoss

    return SoftmaxWithLoss(label_smoothing=args.label_smoothing) if args.label_smoothing else "softmax_ce"


def make_schedule(name: str, total_steps: int, warmup_steps: int) -> Any:
    """The ``--schedule`` for a run of ``total_steps`` updates (None for ``none``), per iteration."""
    from ferronet.schedules import CosineDecay, StepDecay

    if name == "cosine":
        return CosineDecay(total_steps, warmup_steps=warmup_steps)
    if name == "step":
        return StepDecay(max(1, math.ceil(total_steps / 3)), gamma=0.1)
    return None


def attach_schedule(trainer: Any, args: argparse.Namespace) -> None:
    """Give ``trainer`` the ``--schedule`` of ``args``, counted in iterations (the Trainer knows how many
    updates an epoch has only once it has split off any validation images)."""
    warmup = args.warmup_epochs * trainer.iter_per_epoch
    trainer.lr_schedule = make_schedule(args.schedule, trainer.max_iter, warmup)
    trainer.lr_schedule_per = "iteration"


def describe(args: argparse.Namespace) -> str:
    """The recipe part of the ``Training ...`` line, e.g. ``, augment shift-flip, cosine schedule (1 warm-up)``."""
    parts = []
    if args.augment != "none":
        parts.append(f"augment {args.augment}")
    if args.schedule != "none":
        warm = f" ({args.warmup_epochs} warm-up epoch{'s' if args.warmup_epochs != 1 else ''})" \
            if args.warmup_epochs else ""
        parts.append(f"{args.schedule} schedule{warm}")
    if args.weight_decay:
        parts.append(f"weight decay {args.weight_decay:g}")
    if args.label_smoothing:
        parts.append(f"label smoothing {args.label_smoothing:g}")
    return "".join(f", {p}" for p in parts)
