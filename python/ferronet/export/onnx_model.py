"""The ONNX model of a :class:`~ferronet.networks.base.LayerNetwork`: build, check, write.

The model is the network's inference pass (``predict``: dropout and batch
normalisation in eval mode) followed by its output function
(:mod:`ferronet.export.outputs`):

* one input, ``input``, (N, \\*sample shape) in the network's dtype, N left
  free (a dynamic batch); the sample shape is ``input_shape``, or the
  network's own (:meth:`LayerNetwork.sample_shape`: ``input_dim`` or
  ``input_size``).  A dense network may take images: ``input_shape=(1, 28,
  28)`` exports a model whose first Affine flattens them, as ferronet's does;
* one output, ``probabilities`` (softmax or sigmoid) or ``outputs``
  (identity), (N, K);
* every layer's nodes come from its converter (:mod:`ferronet.export.layers`,
  :mod:`ferronet.export.activations`); a layer without one is an
  :class:`~ferronet.export.registry.UnsupportedLayerError` naming it;
* metadata: the network's description (class, dtype, constructor arguments
  as JSON, ferronet's version: :meth:`LayerNetwork.metadata`), the output
  function (``output_function``) and the sample shape (``input_shape``,
  JSON); ``producer_name`` ferronet and its version.

Float32 and float64 networks export in their dtype; in float64 some ops
take another form (:mod:`ferronet.export.float64_forms`).  The model passes
``onnx.checker.check_model(model, full_check=True)`` before it is returned.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Union

import numpy as np

from ferronet._version import __version__
from ferronet.arrays import FLOAT_DTYPES
from ferronet.export import activations, layers, outputs
from ferronet.export.graph import Graph
from ferronet.export.registry import converter_for
from ferronet.fileio import atomic_write
from ferronet.optional import require

PathLike = Union[str, os.PathLike]

#: The opset exported unless asked otherwise (ONNX Runtime 1.14 and later run it).
DEFAULT_OPSET = 17
#: The oldest opset exported (Softmax over one axis, Clip's bounds as inputs, Slice's steps).
MIN_OPSET = 13
#: The name of the model's input, and of its batch dimension.
INPUT_NAME, BATCH_DIM = "input", "N"
#: The modules whose import registers the converters.
CONVERTER_MODULES = (layers, activations)


def _opset(opset: int | None) -> int:
    onnx = require("onnx")
    if opset is None:
        return DEFAULT_OPSET
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset must be an int from {MIN_OPSET} to {newest} (the onnx package's newest), "
                         f"got {opset!r}")
    return int(opset)


def _check_dtypes(network: Any) -> np.dtype:
    """The network's dtype, after checking that every parameter and statistic holds it."""
    dtype = np.dtype(network.dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"only float32 and float64 networks export to ONNX, not {dtype}")
    for name, array in {**network.params, **network.persistent_state()}.items():
        if np.asarray(array).dtype != dtype:
            raise TypeError(f"{name} holds {np.asarray(array).dtype} but the network is {dtype}: ONNX export "
                            f"needs every array in the network's dtype (float16 networks run inference in "
                            f"ferronet only)")
    return dtype


def _sample_shape(network: Any, input_shape: Any) -> tuple[int, ...]:
    shape = network.sample_shape() if input_shape is None else input_shape
    if shape is None:
        raise ValueError(f"{type(network).__name__} does not know the shape of its input samples: "
                         f"pass input_shape, e.g. (C, H, W) for images or (D,) for vectors")
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must be a tuple of positive ints (one sample, without the batch), "
                         f"got {shape!r}") from None
    if not dims or min(dims) < 1:
        raise ValueError(f"input_shape must be a tuple of positive ints (one sample, without the batch), "
                         f"got {shape!r}")
    return dims


def _output_shape(name: str, layer: Any, shape: tuple[int, ...], dtype: np.dtype) -> tuple[int, ...]:
    """The sample shape ``layer`` outputs for samples of ``shape``, from an inference pass on one zero
    sample (ValueError naming the layer when they do not fit it)."""
    try:
        out = layer.forward(np.zeros((1, *shape), dtype=dtype), train_flg=False, keep_state=False)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"samples of shape {shape} do not fit layer {name!r} ({type(layer).__name__}): "
                         f"{exc}") from None
    return tuple(out.shape[1:])


def onnx_model(network: Any, input_shape: Any = None, opset: int | None = None, output: str | None = None) -> Any:
    """The checked ``onnx.ModelProto`` of ``network`` (see the module docstring).

    input_shape: one sample's shape (default: the network's); opset: from
    :data:`MIN_OPSET` (default :data:`DEFAULT_OPSET`); output: ``"softmax"``,
    ``"sigmoid"`` or ``"identity"`` (default: what the loss implies, see
    :mod:`ferronet.export.outputs`).  Needs ``pip install 'ferronet[onnx]'``.
    """
    onnx = require("onnx")
    opset = _opset(opset)
    dtype = _check_dtypes(network)
    function = outputs.output_function(network.last_layer, output)
    sample = shape = _sample_shape(network, input_shape)
    g = Graph(dtype, opset)
    x = g.reserve(INPUT_NAME)
    for name, layer in network.layers.items():
        convert = converter_for(name, layer)
        x, shape = convert(g, name, layer, x, shape), _output_shape(name, layer, shape, dtype)
    if len(shape) != 1:
        raise ValueError(f"the network's outputs have shape {shape} per sample; ONNX export needs one "
                         f"vector of scores per sample")
    y = outputs.add(g, function, x)
    helper = onnx.helper
    inputs = [helper.make_tensor_value_info(INPUT_NAME, g.elem_type, [BATCH_DIM, *sample])]
    results = [helper.make_tensor_value_info(y, g.elem_type, [BATCH_DIM, *shape])]
    title = f"{type(network).__name__} ({dtype.name}) exported by ferronet {__version__}"
    graph = helper.make_graph(g.nodes, type(network).__name__, inputs, results, initializer=g.initializers,
                              doc_string=f"{title}: {function} of the scores")
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="ferronet", producer_version=__version__,
                              doc_string=title)
    model.ir_version = helper.find_min_ir_version_for(opsets)
    helper.set_model_props(model, {**network.metadata(), "output_function": function,
                                   "input_shape": json.dumps(list(sample))})
    onnx.checker.check_model(model, full_check=True)
    return model


def save_model(model: Any, path: PathLike) -> Path:
    """Write the ``onnx.ModelProto`` ``model`` to ``path`` atomically (see
    :func:`ferronet.fileio.atomic_write`); returns the path."""
    target = Path(os.fspath(path))
    with atomic_write(target) as fh:
        fh.write(model.SerializeToString())
    return target


def to_onnx(network: Any, path: PathLike, input_shape: Any = None, opset: int | None = None,
            output: str | None = None) -> Path:
    """Write :func:`onnx_model` of ``network`` to ``path`` atomically; returns the path.  Nothing is
    written when the export fails."""
    return save_model(onnx_model(network, input_shape=input_shape, opset=opset, output=output), path)
