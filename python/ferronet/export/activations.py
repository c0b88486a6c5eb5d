"""Converters of every activation layer of :data:`ferronet.layers.ACTIVATIONS`.

=============  ==================================================================
layer          ONNX
=============  ==================================================================
Relu           ``Relu``
Sigmoid        ``Sigmoid``
Tanh           ``Tanh``
LeakyReLU      ``LeakyRelu(alpha)`` (float32); ``Where(x > 0, x, alpha * x)`` (float64)
RReLU          the same with the mean slope ``(lower + upper) / 2`` (its inference form)
PReLU          ``PRelu`` (float32) or ``Where`` (float64) with the learned slopes, shaped
               (C, 1, ...) to broadcast over axis 1
ReLU6          ``Clip(x, 0, 6)``
Softplus       ``Softplus`` (float32); ``Relu(x) + Log(1 + Exp(-|x|))`` (float64)
Swish / SiLU   ``x * Sigmoid(beta * x)``
GELU           tanh form as ferronet computes it: ``x * Sigmoid(z)``,
               ``z = x' (a + b x'^2)``, ``x' = Clip(x, -30, 30)``,
               ``a = 2 sqrt(2/pi)``, ``b = 0.044715 a`` (the same function as
               ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``; the same
               graph at every opset, where ``Gelu`` needs 20)
ELU            ``Elu(alpha)`` (float32); ``Where``/``Exp`` (float64)
Identity       nothing
=============  ==================================================================

Why float64 differs: :mod:`ferronet.export.float64_forms`.
"""

from __future__ import annotations

from ferronet.export import float64_forms
from ferronet.export.graph import Graph
from ferronet.export.registry import converts
from ferronet.layers.activations import (ELU, GELU, Identity, LeakyReLU, PReLU, ReLU6, Relu, RReLU, Sigmoid,
                                         Softplus, Swish, Tanh)
from ferronet.ops.reference.activation import GELU_A, GELU_B, GELU_CLAMP


@converts(Relu, Sigmoid, Tanh)
def elementwise(g: Graph, name: str, layer: Relu | Sigmoid | Tanh, x: str, shape: tuple[int, ...]) -> str:
    return g.op(type(layer).__name__, [x], name)  # the ONNX ops have the layers' names


@converts(LeakyReLU, RReLU)
def leaky_relu(g: Graph, name: str, layer: LeakyReLU | RReLU, x: str, shape: tuple[int, ...]) -> str:
    slope = layer.mean_slope if isinstance(layer, RReLU) else layer.alpha  # RReLU at inference: the mean slope
    if g.double:
        return float64_forms.leaky(g, name, x, slope)
    return g.op("LeakyRelu", [x], name, alpha=float(slope))


@converts(PReLU)
def prelu(g: Graph, name: str, layer: PReLU, x: str, shape: tuple[int, ...]) -> str:
    slopes = layer.alpha.reshape(-1, *([1] * (len(shape) - 1)))  # (C,) or (C, 1, 1): one slope per axis-1 entry
    if g.double:
        return float64_forms.leaky(g, name, x, slopes)
    return g.op("PRelu", [x, g.constant(f"{name}/alpha", slopes)], name)


@converts(ReLU6)
def relu6(g: Graph, name: str, layer: ReLU6, x: str, shape: tuple[int, ...]) -> str:
    return g.op("Clip", [x, g.scalar(f"{name}/min", 0.0), g.scalar(f"{name}/max", 6.0)], name)


@converts(Softplus)
def softplus(g: Graph, name: str, layer: Softplus, x: str, shape: tuple[int, ...]) -> str:
    return float64_forms.softplus(g, name, x) if g.double else g.op("Softplus", [x], name)


@converts(Swish)
def swish(g: Graph, name: str, layer: Swish, x: str, shape: tuple[int, ...]) -> str:
    scaled = x if layer.beta == 1 else g.op("Mul", [x, g.scalar(f"{name}/beta", layer.beta)], name)
    return g.op("Mul", [x, g.op("Sigmoid", [scaled], name)], name)


@converts(GELU)
def gelu(g: Graph, name: str, layer: GELU, x: str, shape: tuple[int, ...]) -> str:
    clamped = g.op("Clip", [x, g.scalar(f"{name}/min", -GELU_CLAMP), g.scalar(f"{name}/max", GELU_CLAMP)], name)
    square = g.op("Mul", [clamped, clamped], name)
    inner = g.op("Add", [g.op("Mul", [square, g.scalar(f"{name}/b", GELU_B)], name), g.scalar(f"{name}/a", GELU_A)],
                 name)
    z = g.op("Mul", [clamped, inner], name)
    return g.op("Mul", [x, g.op("Sigmoid", [z], name)], name)


@converts(ELU)
def elu(g: Graph, name: str, layer: ELU, x: str, shape: tuple[int, ...]) -> str:
    if g.double:
        return float64_forms.elu(g, name, x, layer.alpha)
    return g.op("Elu", [x], name, alpha=float(layer.alpha))


@converts(Identity)
def identity(g: Graph, name: str, layer: Identity, x: str, shape: tuple[int, ...]) -> str:
    return x
