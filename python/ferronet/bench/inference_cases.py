"""Inference cases: SimpleConvNet and DeepConvNet predicting the test set (group ``inference``).

One timed call predicts ``Sizes.inference_images`` images (Fashion-MNIST's
10,000 test images when installed, else random ones) in batches of
``Sizes.inference_batch``, softmax included, float32, at the run's thread
count, three ways:

* ``native``: ferronet, ``network.predict`` then softmax;
* ``torch``: the ``torch.nn`` twin (``bench/torch_impl.py``) in eval mode
  under ``torch.inference_mode()``, softmax included;
* ``onnxruntime``: the network exported by ``ferronet.export`` and run by
  ONNX Runtime's CPU provider with ``intra_op_num_threads`` = the run's
  threads, in a helper process (``bench/onnx_process.py``, started once;
  a call releases it and waits for it, which adds the pipes' tens of
  microseconds): ``FERRONET_BENCH_ONNX_PYTHON`` may name the interpreter
  that has ``onnxruntime`` (default: the benchmark's own).

The networks have their seeded initial weights (inference time does not
depend on the values) and are the same three ways: the helper process
rebuilds the ferronet network from its saved file.  The NumPy backend is
left out.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np

from ferronet.bench.cases import Built, Case, Sizes
from ferronet.bench.released import ReleasedProcesses
from ferronet.bench.training import DEEP_CONVNET, SIMPLE_CONVNET, Network, uses_real_data

#: names the interpreter that runs ONNX Runtime (default: the benchmark's)
ONNX_PYTHON_VAR = "FERRONET_BENCH_ONNX_PYTHON"
ONNX = "onnxruntime"


def test_images(n: int, shape: tuple[int, ...], use_real: bool) -> tuple[np.ndarray, str]:
    """float32 images (n, \\*shape): the first n Fashion-MNIST test images, or uniform random ones."""
    if uses_real_data(shape, use_real):
        from ferronet.datasets import load_fashion_mnist

        _, (x, _) = load_fashion_mnist()
        return np.ascontiguousarray(x[:n].reshape(-1, *shape)), "Fashion-MNIST test"
    return np.random.default_rng(9).random((n, *shape), dtype=np.float32), "random"


def _onnx_runtime(network: Network, x: np.ndarray, batch: int, threads: int) -> Built:
    """ONNX Runtime's timed call: a helper process predicting x (see the module docstring)."""
    from ferronet.bench.worker import child_env

    tmp = Path(tempfile.mkdtemp(prefix="ferronet-bench-onnx-"))
    weights = network.build().save_params(tmp / "network.npz")
    np.save(tmp / "images.npy", x)
    python = os.environ.get(ONNX_PYTHON_VAR) or sys.executable
    cmd = [python, "-m", "ferronet.bench.onnx_process", "--weights", str(weights), "--images",
           str(tmp / "images.npy"), "--threads", str(threads), "--batch", str(batch)]
    try:
        helper = ReleasedProcesses(cmd, 1, child_env(threads), f"ONNX Runtime process ({python})")
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    def close() -> None:
        helper.close()
        shutil.rmtree(tmp, ignore_errors=True)

    return Built(lambda: helper.release(1), close=close,
                 note=f"exported by ferronet.export, run in a helper process by {python}")


def inference_case(network: Network, sizes: Sizes, threads: int, torch: ModuleType | None, use_real: bool) -> Case:
    """``network`` predicting the test images natively, in PyTorch and in ONNX Runtime."""
    n, batch = sizes.inference_images, sizes.inference_batch
    x, source = test_images(n, network.input_shape, use_real)

    def build(backend: str) -> Built | None:
        if backend == "native":
            from ferronet.functions import softmax

            net = network.build()
            return Built(lambda: softmax(net.predict(x, batch_size=batch)))
        if backend == "torch":
            return Built(torch.inference(network.torch_model(torch), x, batch)) if torch else None
        if backend == ONNX:
            return _onnx_runtime(network, x, batch, threads)
        return None  # the NumPy backend is left out

    return Case("inference", f"{network.name} inference", f"{n} images ({source}), batch {batch}, softmax", build,
                "images/s", float(n), number=1, repeats=sizes.inference_repeats, extra_backends=(ONNX,),
                info={"data": source, "batch": batch})


def suite(sizes: Sizes, threads: int, torch: ModuleType | None, use_real: bool) -> Iterator[Case]:
    for network in (SIMPLE_CONVNET, DEEP_CONVNET):
        yield inference_case(network, sizes, threads, torch, use_real)
