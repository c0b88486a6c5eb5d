"""What an exported model outputs: the network's scores through the function its loss implies.

==================  ==================================  ==================================
loss (task)         output function                     output tensor
==================  ==================================  ==================================
softmax_ce, kl_div  ``softmax`` over the classes        ``probabilities`` (N, C), rows sum to 1
(classification)
sigmoid_bce         ``sigmoid`` of each output          ``probabilities`` (N, K), each label's
(multi-label)                                           own probability
mse, l1, huber      ``identity``                        ``outputs`` (N, K), the predicted values
(regression)
==================  ==================================  ==================================

``output=`` of :func:`ferronet.export.onnx_model` overrides the choice
(``"identity"`` exports the raw scores, what ``predict`` returns).
:func:`apply` is the same function in NumPy, for checking a model against
``predict``.
"""

from __future__ import annotations

import numpy as np

from ferronet import functions
from ferronet.export.graph import Graph

#: output function -> the name of the model's output tensor
OUTPUT_NAMES = {"softmax": "probabilities", "sigmoid": "probabilities", "identity": "outputs"}
#: a loss layer's task -> its output function
BY_TASK = {"classification": "softmax", "multilabel": "sigmoid", "regression": "identity"}


def output_function(last_layer: object, output: str | None = None) -> str:
    """``output`` when given (ValueError unless a name of :data:`OUTPUT_NAMES`), else the function the
    loss layer's ``task`` implies."""
    if output is not None:
        if output not in OUTPUT_NAMES:
            raise ValueError(f"unknown output function {output!r}; choose one of {sorted(OUTPUT_NAMES)}")
        return output
    task = getattr(last_layer, "task", "classification")
    return BY_TASK[task]


def add(g: Graph, function: str, scores: str) -> str:
    """Add the nodes of ``function`` on the (N, K) ``scores``; returns the output tensor's name."""
    name = g.reserve(OUTPUT_NAMES[function])
    op = {"softmax": "Softmax", "sigmoid": "Sigmoid", "identity": "Identity"}[function]
    attributes = {"axis": 1} if op == "Softmax" else {}
    g.nodes.append(g.onnx.helper.make_node(op, [scores], [name], name=f"output/{op}", **attributes))
    return name


def apply(function: str, scores: np.ndarray) -> np.ndarray:
    """``function`` on (N, K) scores in NumPy, in their dtype (:mod:`ferronet.functions`, overflow-free)."""
    if function == "softmax":
        return functions.softmax(scores)
    if function == "sigmoid":
        return functions.sigmoid(scores)
    return scores
