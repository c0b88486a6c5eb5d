"""ONNX Runtime's side of the inference cases: ``python -m ferronet.bench.onnx_process``.

``bench/inference_cases.py`` starts it (see :mod:`ferronet.bench.released`)
with the run's thread settings in its environment, in the interpreter
``FERRONET_BENCH_ONNX_PYTHON`` names (default: the benchmark's own), so
that ONNX Runtime can be timed from an environment that lacks it (such as
one made for PyTorch).  It rebuilds the network from ``--weights``
(``ferronet.load``), exports it (``ferronet.export.to_onnx``, softmax
output), opens it in ONNX Runtime with ``intra_op_num_threads`` =
``--threads``, runs one batch and prints ``ready``; then for every line on
stdin it predicts all of ``--images`` in batches of ``--batch`` and prints
``done <seconds>``.  It exits when stdin closes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ferronet.bench.onnx_process", description=__doc__)
    parser.add_argument("--weights", required=True, help="the network, as save_params wrote it")
    parser.add_argument("--images", required=True, help="a .npy file of the images (N, ...)")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    args = parser.parse_args(argv)

    import numpy as np

    import ferronet
    from ferronet.export import OnnxRunner, to_onnx

    network = ferronet.load(args.weights)
    x = np.load(args.images, allow_pickle=False)
    with tempfile.TemporaryDirectory(prefix="ferronet-onnx-") as tmp:
        runner = OnnxRunner(to_onnx(network, Path(tmp) / "model.onnx"), threads=args.threads)
    runner.run(x[:args.batch])
    print("ready", flush=True)
    while sys.stdin.readline():
        start = time.perf_counter()
        runner.run(x, batch_size=args.batch)
        print(f"done {time.perf_counter() - start:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
