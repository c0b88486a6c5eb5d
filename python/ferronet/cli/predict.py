"""``ferronet predict WEIGHTS --data DATA``: predictions of a saved network, and its accuracy.

The network is a weight file (see :mod:`ferronet.cli.common`) run by
ferronet, or with ``--onnx`` an exported model run by ONNX Runtime; the
samples come from :mod:`ferronet.cli.predict_data`.  What is predicted follows
the model's output function (:mod:`ferronet.export.outputs`):

* softmax (classifiers): the class of each image, (N,) int64; accuracy
  when the labels are known;
* sigmoid (multi-label): each label's 0/1 decision (probability above
  1/2), (N, K) int8; the fraction of (image, label) pairs right;
* identity (regression): the predicted values, (N, K); R² with targets.

An ONNX model from elsewhere (without ferronet's metadata) is taken as a
classifier: the class with the largest output.  ``--out`` writes the
predictions as ``.npy`` or as CSV (a header, then one row per image:
``index,prediction`` or ``index,<name>_0,...``), atomically.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferronet.cli.common import (CliError, add_network_arguments, check_writable, count, describe, guarded, onnx_hint,
                                 open_network)
from ferronet.fileio import atomic_write
from ferronet.cli.predict_data import DATASETS, Data, fit, load

#: what ``--out`` may end in
OUT_FORMATS = (".npy", ".csv")


def _out(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in OUT_FORMATS:
        raise argparse.ArgumentTypeError(f"the predictions are written as .npy or .csv: name the file so, got {text!r}")
    return path


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferronet predict``."""
    add_network_arguments(p)
    p.add_argument("--data", required=True, metavar="DATA",
                   help=f"{' or '.join(DATASETS)} (its test set, with labels), or a .npy or IDX file of images "
                        f"(N, 1, 28, 28), (N, 28, 28) or (N, 784), uint8 0-255 or float 0-1")
    p.add_argument("--labels", metavar="PATH", default=None, help="labels of a --data file (.npy or IDX), "
                                                                 "for the accuracy")
    p.add_argument("--onnx", action="store_true", help="WEIGHTS is an exported ONNX model: run it in ONNX Runtime")
    p.add_argument("--batch-size", type=count, default=100, help="images per batch (default 100)")
    p.add_argument("--out", type=_out, default=None, metavar="PATH", help="write the predictions (.npy or .csv)")
    p.add_argument("--threads", type=count, default=None, help="threads (default: all cores)")
    p.add_argument("--no-download", action="store_true", help="never download the data set, only look for it")


@dataclass
class Predictor:
    """What runs: its description, its input, its output function and ``run(x, batch_size) -> outputs``."""

    what: str
    dtype: np.dtype
    sample_shape: tuple[int, ...] | None
    function: str
    run: Callable[[np.ndarray, int], np.ndarray]


def _ferronet_predictor(args: argparse.Namespace) -> Predictor:
    import ferronet
    from ferronet.export import outputs

    try:
        network = open_network(args.weights, args.model, args.dtype)
    except ValueError as exc:
        raise CliError(onnx_hint(args.weights, exc)) from None
    if args.threads:
        ferronet.set_num_threads(args.threads)
    function = outputs.output_function(network.last_layer)
    threads = ferronet.get_num_threads()
    what = (f"{type(network).__name__} ({np.dtype(network.dtype).name}) on ferronet's {ferronet.get_backend()} "
            f"backend, {threads} thread{'s' if threads > 1 else ''}")

    def run(x: np.ndarray, batch_size: int) -> np.ndarray:
        return outputs.apply(function, network.predict(x, batch_size=batch_size))

    return Predictor(what, np.dtype(network.dtype), network.sample_shape(), function, run)


def _onnx_predictor(args: argparse.Namespace) -> Predictor:
    from ferronet.export import OnnxRunner
    from ferronet.networks.param_file import detect_format

    if args.model or args.dtype:
        raise CliError("--model and --dtype describe weight files; an ONNX model (--onnx) carries its own")
    try:
        runner = OnnxRunner(args.weights, threads=args.threads)
    except ValueError as exc:
        try:
            kind = detect_format(Path(args.weights))
        except (ValueError, OSError):
            raise CliError(describe(exc)) from None
        raise CliError(f"{describe(exc)} (it is a weight file, format {kind}: drop --onnx)") from None
    network = runner.metadata.get("class", "ONNX model")
    what = f"{network} ({runner.dtype.name}) in ONNX Runtime, {args.threads or 'default'} threads"
    return Predictor(what, runner.dtype, runner.sample_shape, runner.output_function or "softmax", runner.run)


def predictions(function: str, outputs: np.ndarray) -> np.ndarray:
    """Classes (N,) int64 for softmax, 0/1 decisions (N, K) int8 for sigmoid, the values for identity."""
    if function == "softmax":
        return outputs.argmax(axis=1).astype(np.int64)
    if function == "sigmoid":
        return (outputs > 0.5).astype(np.int8)
    return outputs


def score_line(function: str, outputs: np.ndarray, labels: np.ndarray) -> str:
    """How well ``outputs`` predict ``labels``: accuracy, the labels' accuracy or R²."""
    from ferronet import metrics

    n = len(outputs)
    if function == "softmax":
        if labels.ndim != 1 or labels.dtype.kind not in "ui":
            raise CliError(f"labels must be class numbers, one per image, got {labels.dtype} {labels.shape}")
        if labels.min() < 0 or labels.max() >= outputs.shape[1]:
            raise CliError(f"labels must lie in 0..{outputs.shape[1] - 1}, got {labels.min()}..{labels.max()}")
        right = int(np.sum(outputs.argmax(axis=1) == labels))
        return f"accuracy {100 * right / n:.2f}% ({right} of {n} images)"
    if function == "sigmoid":
        return f"label accuracy {100 * metrics.multilabel_accuracy(outputs - 0.5, labels):.2f}% ({n} images)"
    return f"R² {metrics.r2_score(outputs, labels):.4f} ({n} samples)"


def write(path: Path, values: np.ndarray, function: str) -> None:
    """``values`` as ``.npy`` or CSV (by ``path``'s extension), atomically."""
    with atomic_write(path) as fh:
        if path.suffix.lower() == ".npy":
            np.save(fh, values, allow_pickle=False)
            return
        rows = values.reshape(len(values), -1)
        if function == "softmax":
            header = "index,prediction"
        else:
            name = "label" if function == "sigmoid" else "output"
            header = "index," + ",".join(f"{name}_{k}" for k in range(rows.shape[1]))
        number = "%d" if rows.dtype.kind in "iu" else "%.9g"
        lines = [header] + [f"{i}," + ",".join(number % v for v in row) for i, row in enumerate(rows)]
        fh.write(("\n".join(lines) + "\n").encode())


def predict(args: argparse.Namespace) -> int:
    """Run ``ferronet predict`` with parsed ``args``; returns the exit code."""

    def run() -> int:
        if args.out:
            check_writable(args.out)
        predictor = _onnx_predictor(args) if args.onnx else _ferronet_predictor(args)
        data: Data = load(args.data, args.labels, download=not args.no_download)
        x = fit(np.asarray(data.x, dtype=predictor.dtype), predictor.sample_shape, data.source)
        start = time.perf_counter()
        outputs = predictor.run(x, args.batch_size)
        seconds = time.perf_counter() - start
        score = None if data.labels is None else score_line(predictor.function, outputs, data.labels)
        print(f"{predictor.what}: {len(x)} images from {data.source} in {seconds:.3g} s")
        if score:
            print(score)
        if args.out:
            write(args.out, predictions(predictor.function, outputs), predictor.function)
            print(f"wrote the predictions to {args.out}")
        return 0

    return guarded("predict", run)
