"""A network written down as data: its class and constructor arguments, as JSON.

Every :class:`~ferronet.networks.base.LayerNetwork` records the arguments it
was built with (:func:`bound_arguments`, called once, in
``LayerNetwork.__new__``).  Saved files carry them - ferronet's ``.npz``,
``.safetensors`` and exported ONNX models - as the string map of
:func:`metadata`, so that :func:`rebuild` (behind ``ferronet.load``) can
build the same network again before its weights are loaded:

==================  ==========================================================
key                 value
==================  ==========================================================
format              ``ferronet``
format_version      ``1``
ferronet_version    the version that wrote the file
class               the network's class name (``SimpleConvNet``)
dtype               ``float32`` or ``float64``
arguments           the constructor arguments as a JSON object, defaults
                    filled in; absent when they cannot be written down ...
arguments_missing   ... and then this says why
==================  ==========================================================

Nothing in a file is ever run: the class is looked up by name among the
classes registered here (:data:`NETWORK_CLASSES`: the book's five networks,
and any class passed to :func:`register_network`), and the arguments are
plain JSON.  Arguments are written as JSON values: numbers, strings, lists
(tuples become lists), objects (mappings with string keys), dtypes as their
names (``"float32"``), and a loss layer instance of
:data:`ferronet.layers.LOSSES` as ``{"loss_layer": name, "arguments": {...}}``.
Anything else (an unregistered class, a NaN, an arbitrary object) leaves the
arguments out, with the reason in ``arguments_missing``.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ferronet._version import __version__
from ferronet.layers.base import LossLayer
from ferronet.layers.losses import LOSSES

FORMAT = "ferronet"
FORMAT_VERSION = "1"
#: The key of a loss layer's object among the arguments, and of its own arguments.
LOSS_KEY, LOSS_ARGUMENTS = "loss_layer", "arguments"

#: The classes :func:`rebuild` may build, by name.
NETWORK_CLASSES: dict[str, type] = {}


class NotDescribable(ValueError):
    """A network's constructor arguments cannot be written down as JSON (the message says why)."""


def register_network(cls: type) -> type:
    """Let files name ``cls`` (a LayerNetwork subclass) by its ``__name__``, so that ``ferronet.load``
    can rebuild it; returns ``cls`` (usable as a class decorator).  A different class under a
    registered name is a ValueError."""
    name = cls.__name__
    if NETWORK_CLASSES.get(name, cls) is not cls:
        raise ValueError(f"a different network class is already registered as {name!r}")
    NETWORK_CLASSES[name] = cls
    return cls


def bound_arguments(cls: type, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The arguments of ``cls(*args, **kwargs)`` by parameter name, defaults filled in, copied (so that
    later changes to a list the caller passed do not rewrite history); None when they do not bind
    to ``cls.__init__`` (the constructor then raises for itself) or use ``*args``."""
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    arguments: dict[str, Any] = {}
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]  # without self
    for parameter in parameters:
        value = bound.arguments.get(parameter.name)
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None  # positional extras have no names
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value or {})
        else:
            arguments[parameter.name] = value
    return {name: _snapshot(value) for name, value in arguments.items()}


def _snapshot(value: Any) -> Any:
    """A copy of an argument: mappings as dicts, lists and tuples copied, anything else deep-copied
    (kept as it is when it cannot be)."""
    if isinstance(value, Mapping):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_snapshot(v) for v in value)
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


# ---------------------------------------------------------------------- arguments <-> JSON


def _encode(value: Any, where: str) -> Any:
    """``value`` as a JSON value (see the module docstring), or NotDescribable naming ``where``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise NotDescribable(f"argument {where} is {value}, which JSON cannot hold")
        return float(value)
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, LossLayer):
        return _encode_loss(value, where)
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise NotDescribable(f"argument {where} is a mapping with keys that are not strings")
        if LOSS_KEY in value:
            raise NotDescribable(f"argument {where} is a mapping with the reserved key {LOSS_KEY!r}")
        return {k: _encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise NotDescribable(f"argument {where} is a {type(value).__name__}, which ferronet cannot write down")


def _encode_loss(layer: LossLayer, where: str) -> dict[str, Any]:
    """A loss layer of :data:`LOSSES` whose constructor arguments are its attributes of the same names."""
    names = [name for name, cls in LOSSES.items() if cls is type(layer)]
    if not names:
        raise NotDescribable(f"argument {where} is a {type(layer).__name__}, not one of the loss layers "
                             f"of ferronet.layers.LOSSES")
    arguments = {}
    for parameter in list(inspect.signature(type(layer).__init__).parameters.values())[1:]:
        if not hasattr(layer, parameter.name):
            raise NotDescribable(f"argument {where}: {type(layer).__name__} does not keep its argument "
                                 f"{parameter.name!r}")
        arguments[parameter.name] = _encode(getattr(layer, parameter.name), f"{where}.{parameter.name}")
    return {LOSS_KEY: names[0], LOSS_ARGUMENTS: arguments}


def _decode(value: Any) -> Any:
    """The constructor argument a JSON value stands for (a loss layer's object builds that layer)."""
    if isinstance(value, dict):
        if LOSS_KEY in value:
            from ferronet.layers.losses import loss_layer

            if set(value) != {LOSS_KEY, LOSS_ARGUMENTS} or not isinstance(value[LOSS_ARGUMENTS], dict):
                raise ValueError(f"a loss layer is written as {{{LOSS_KEY!r}: name, {LOSS_ARGUMENTS!r}: {{...}}}}, "
                                 f"got {value!r}")
            return loss_layer(str(value[LOSS_KEY]))(**_decode(value[LOSS_ARGUMENTS]))
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


# ---------------------------------------------------------------------- the metadata map


def metadata(network: Any) -> dict[str, str]:
    """The string map saved files carry about ``network`` (see the module docstring)."""
    cls = type(network)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "ferronet_version": __version__,
            "class": cls.__name__, "dtype": np.dtype(network.dtype).name}
    arguments = getattr(network, "_init_arguments", None)
    try:
        if NETWORK_CLASSES.get(cls.__name__) is not cls:
            raise NotDescribable(f"the class {cls.__module__}.{cls.__qualname__} is not registered "
                                 f"(ferronet.networks.register_network)")
        if arguments is None:
            raise NotDescribable("the network did not record its constructor arguments")
        meta["arguments"] = json.dumps({k: _encode(v, repr(k)) for k, v in arguments.items()}, sort_keys=True)
    except NotDescribable as exc:
        meta["arguments_missing"] = str(exc)
    return meta


def read_metadata_json(text: str | bytes, file: Any) -> dict[str, str]:
    """A metadata map stored as one JSON object (ferronet's ``.npz``), checked: ValueError naming ``file``."""
    try:
        meta = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{file}: the network description is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise ValueError(f"{file}: the network description must be a JSON object of strings")
    return meta


def rebuild(meta: Mapping[str, str], file: Any, overrides: Mapping[str, Any] | None = None) -> Any:
    """A new network of the class and arguments ``meta`` describes (its weights are the initial ones);
    ``overrides`` replace some of the arguments (e.g. ``{"dtype": np.float64}``).

    ValueError naming ``file`` when the file holds no description, names a
    class that is not registered, or holds arguments the class refuses.
    """
    if meta.get("format") != FORMAT:
        raise ValueError(f"{file}: holds no description of a network (the book's pickles and weight files "
                         f"written without one do not); build the network and call load_params instead")
    name = meta.get("class", "")
    if name not in NETWORK_CLASSES:
        raise ValueError(f"{file}: unknown network class {name!r}; ferronet can rebuild "
                         f"{sorted(NETWORK_CLASSES)} (ferronet.networks.register_network adds others)")
    if "arguments" not in meta:
        reason = meta.get("arguments_missing", "no reason given")
        raise ValueError(f"{file}: the {name} was saved without its constructor arguments ({reason}); "
                         f"build it yourself and call load_params")
    try:
        arguments = json.loads(meta["arguments"])
    except ValueError as exc:
        raise ValueError(f"{file}: the arguments of {name} are not valid JSON ({exc})") from None
    if not isinstance(arguments, dict):
        raise ValueError(f"{file}: the arguments of {name} must be a JSON object, got {type(arguments).__name__}")
    try:
        return NETWORK_CLASSES[name](**{**_decode(arguments), **(overrides or {})})
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{file}: cannot rebuild {name} from its saved arguments: {exc}") from None
