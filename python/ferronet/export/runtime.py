"""Running an exported model in ONNX Runtime (its CPU provider), in batches.

:class:`OnnxRunner` opens a model file once and runs it on arrays of
samples; the ``ferronet predict --onnx`` command, the benchmark and the
tests use it.  Needs ``pip install 'ferronet[onnx]'``.
"""

from __future__ import annotations

import json
import os
from typing import Union

import numpy as np

from ferronet.optional import require

PathLike = Union[str, os.PathLike]

#: ONNX Runtime's names of the float types
ELEMENT_TYPES = {"tensor(float)": np.dtype(np.float32), "tensor(double)": np.dtype(np.float64)}


class OnnxRunner:
    """An ONNX model with one float input (N, ...) and one output (N, K), in ONNX Runtime.

    threads: ``intra_op_num_threads`` (None: ONNX Runtime's default, every
    core); operators run one at a time (``inter_op_num_threads`` 1).
    Attributes: ``sample_shape`` (the input's shape after the batch, None
    where it is not fixed), ``dtype`` (float32 or float64), ``metadata``
    (the model's metadata strings) and ``output_function`` (``softmax``,
    ``sigmoid`` or ``identity``: what a ferronet export wrote there; None for
    other models).  A file ONNX Runtime cannot load is a ValueError naming it.
    """

    def __init__(self, path: PathLike, threads: int | None = None) -> None:
        ort = require("onnxruntime")
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no warnings printed on the terminal
        self.path = os.fspath(path)
        try:
            self.session = ort.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ONNX Runtime's own exception types (invalid protobuf, a bad graph ...)
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(f"{self.path}: ONNX Runtime cannot load it ({message})") from None
        inputs, results = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(results) != 1 or inputs[0].type not in ELEMENT_TYPES:
            raise ValueError(f"{self.path}: expected a model with one float32 or float64 input and one output, "
                             f"got inputs {[(i.name, i.type) for i in inputs]} and outputs "
                             f"{[o.name for o in results]}")
        self.input_name = inputs[0].name
        self.dtype = ELEMENT_TYPES[inputs[0].type]
        dims = inputs[0].shape[1:]
        self.sample_shape = tuple(dims) if all(isinstance(d, int) for d in dims) else None
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self.output_function = self.metadata.get("output_function")
        if self.sample_shape is None and "input_shape" in self.metadata:
            try:
                self.sample_shape = tuple(int(d) for d in json.loads(self.metadata["input_shape"]))
            except (ValueError, TypeError):
                pass

    def run(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """The model's output for the samples ``x`` (N, ...) (converted to the model's dtype), run
        ``batch_size`` samples at a time (None: all at once)."""
        x = np.ascontiguousarray(x, dtype=self.dtype)
        step = len(x) if batch_size is None or len(x) == 0 else int(batch_size)
        if step < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        chunks = [self.session.run(None, {self.input_name: x[i:i + step]})[0] for i in range(0, max(len(x), 1), step)]
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
