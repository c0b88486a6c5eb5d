"""Export a trained network to ONNX, and run the result in ONNX Runtime.

``to_onnx(network, path)`` (also ``network.to_onnx(path)``) writes any
:class:`~ferronet.networks.base.LayerNetwork` - the book's five networks,
and any other network of ferronet's layers - as an ONNX model: its
inference pass and the output function its loss implies.  The pieces:

* :mod:`ferronet.export.onnx_model` - the model: input, output, metadata, checks;
* :mod:`ferronet.export.layers` - Affine, Convolution, Pooling, BatchNormalization, Dropout;
* :mod:`ferronet.export.activations` - every activation layer;
* :mod:`ferronet.export.float64_forms` - what float64 models compute instead
  of the ops ONNX Runtime runs in float32 only;
* :mod:`ferronet.export.outputs` - softmax, sigmoid or identity by the loss;
* :mod:`ferronet.export.graph`, :mod:`ferronet.export.registry` - the graph
  being built, and which converter exports which layer;
* :mod:`ferronet.export.runtime` - :class:`OnnxRunner`, a model in ONNX Runtime.

Needs the ``onnx`` package (``pip install 'ferronet[onnx]'``, which brings
``onnxruntime`` too); without it, :class:`ferronet.optional.MissingDependencyError`
says so.
"""

from ferronet.export.onnx_model import DEFAULT_OPSET, INPUT_NAME, MIN_OPSET, onnx_model, save_model, to_onnx
from ferronet.export.outputs import OUTPUT_NAMES
from ferronet.export.registry import CONVERTERS, UnsupportedLayerError, converts
from ferronet.export.runtime import OnnxRunner

__all__ = ["CONVERTERS", "DEFAULT_OPSET", "INPUT_NAME", "MIN_OPSET", "OUTPUT_NAMES", "OnnxRunner",
           "UnsupportedLayerError", "converts", "onnx_model", "save_model", "to_onnx"]
