"""``ferronet export WEIGHTS --onnx OUT``: a saved network as an ONNX model.

The network comes from ``WEIGHTS`` (see :mod:`ferronet.cli.common`), the
model is written by :func:`ferronet.export.to_onnx`, and then, when
``onnxruntime`` is installed, run on a few random samples and compared with
ferronet's own ``predict``; the command prints what it wrote and the
difference found.
"""

from __future__ import annotations

import argparse

import numpy as np

from ferronet.cli.common import CliError, add_network_arguments, check_writable, guarded, onnx_hint, open_network

#: samples of the check run after exporting
CHECK_SAMPLES = 16


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a sample shape like 1,28,28 or 784, got {text!r}") from None
    if not dims or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"a sample shape needs positive sizes, got {text!r}")
    return dims


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferronet export``."""
    from ferronet.export import MIN_OPSET, OUTPUT_NAMES

    add_network_arguments(p)
    p.add_argument("--onnx", metavar="OUT", required=True, help="write the ONNX model here")
    p.add_argument("--input-shape", type=_shape, default=None, metavar="C,H,W",
                   help="one input sample's shape (default: the network's, e.g. 1,28,28 or 784)")
    p.add_argument("--opset", type=int, default=None, help=f"ONNX opset, {MIN_OPSET} or later (default 17)")
    p.add_argument("--output", choices=sorted(OUTPUT_NAMES), default=None,
                   help="the output function (default: softmax for classifiers, sigmoid for multi-label, identity "
                        "for regression)")


def _check_in_runtime(network, path: str, sample_shape: tuple[int, ...], function: str) -> str:
    """A line saying how far ONNX Runtime's output is from ferronet's on random samples."""
    from ferronet.export import OnnxRunner, outputs
    from ferronet.optional import MissingDependencyError

    try:
        runner = OnnxRunner(path, threads=1)
    except MissingDependencyError:
        return "not checked in ONNX Runtime (pip install onnxruntime to check)"
    x = np.random.default_rng(0).random((CHECK_SAMPLES, *sample_shape)).astype(network.dtype)
    expected = outputs.apply(function, network.predict(x))
    difference = float(np.max(np.abs(runner.run(x) - expected)))
    return f"checked in ONNX Runtime: max difference {difference:.2g} from ferronet on {CHECK_SAMPLES} random samples"


def export(args: argparse.Namespace) -> int:
    """Run ``ferronet export`` with parsed ``args``; returns the exit code."""

    def run() -> int:
        from ferronet.export import onnx_model, save_model

        check_writable(args.onnx)
        try:
            network = open_network(args.weights, args.model, args.dtype)
        except ValueError as exc:
            raise CliError(onnx_hint(args.weights, exc)) from None
        model = onnx_model(network, input_shape=args.input_shape, opset=args.opset, output=args.output)
        path = save_model(model, args.onnx)
        meta = {p.key: p.value for p in model.metadata_props}
        (inp,), (out,) = model.graph.input, model.graph.output
        sample = tuple(d.dim_value for d in inp.type.tensor_type.shape.dim[1:])
        classes = out.type.tensor_type.shape.dim[1].dim_value
        opset = next(o.version for o in model.opset_import if o.domain == "")
        print(f"exported {type(network).__name__} ({np.dtype(network.dtype).name}) to {path}: input "
              f"'{inp.name}' (N, {', '.join(map(str, sample))}), output '{out.name}' (N, {classes}) = "
              f"{meta['output_function']} of the scores; opset {opset}")
        print(_check_in_runtime(network, str(path), sample, meta["output_function"]))
        return 0

    return guarded("export", run)
