"""What a network is, as arrays and generator states, for snapshots and checkpoints.

* :func:`network_arrays` - the arrays that make a network what it is: its
  ``params`` and, for ferronet's networks, the persistent layer state
  (batch normalisation's running statistics), as ``save_params`` writes them;
* :func:`snapshot` / :func:`restore_arrays` - copies of those, and putting
  them back in place (``np.copyto``: layers and optimizers keep pointing at
  the same arrays), every name and shape checked first;
* :func:`layer_generators` - the private random generators of the layers
  (seeded dropout), whose states a resumed run must continue from;
* :func:`draws_from_numpy_global` - whether a generator is NumPy's global one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ferronet.rng import _global_bit_generator


def network_arrays(network: Any) -> dict[str, np.ndarray]:
    """``{name: array}``: ``network.params`` and ``network.persistent_state()`` when it has one
    (the live arrays, not copies)."""
    arrays = dict(network.params)
    persistent = getattr(network, "persistent_state", None)
    if callable(persistent):
        arrays.update(persistent())
    return arrays


def snapshot(network: Any) -> dict[str, np.ndarray]:
    """Copies of :func:`network_arrays`."""
    return {name: np.array(value, copy=True) for name, value in network_arrays(network).items()}


def check_arrays(network: Any, arrays: Mapping[str, Any]) -> None:
    """ValueError unless ``arrays`` has exactly the network's names, each with its shape."""
    targets = network_arrays(network)
    missing = sorted(set(targets) - set(arrays))
    unexpected = sorted(set(arrays) - set(targets))
    if missing or unexpected:
        raise ValueError(f"the weights do not match this network: missing {missing}, unexpected {unexpected}")
    for name, target in targets.items():
        value = arrays[name]
        if not isinstance(value, np.ndarray) or value.shape != np.shape(target):
            shape = value.shape if isinstance(value, np.ndarray) else type(value).__name__
            raise ValueError(f"weight {name!r} has shape {shape}, the network has {np.shape(target)}")
        if value.dtype.kind not in "fiu":
            raise ValueError(f"weight {name!r} holds {value.dtype}, not real numbers")


def restore_arrays(network: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """Copy ``arrays`` into the network's arrays in place (checked first: nothing changes on a mismatch)."""
    check_arrays(network, arrays)
    targets = network_arrays(network)
    for name, target in targets.items():
        if isinstance(target, np.ndarray):
            np.copyto(target, arrays[name], casting="same_kind")
        else:  # a number parameter (the book's optimizer examples): stored back
            network.params[name] = type(target)(arrays[name][()])


def draws_from_numpy_global(gen: Any) -> bool:
    """True when ``gen`` is a Generator on NumPy's global bit generator (``np.random.seed``'s)."""
    return isinstance(gen, np.random.Generator) and gen.bit_generator is _global_bit_generator()


def layer_generators(network: Any) -> tuple[dict[str, np.random.Generator], bool]:
    """``({layer name: private generator}, any layer draws from NumPy's global generator)``.

    Looks at the ``rng`` attribute of each of ``network.layers`` (a dict or
    a :class:`~ferronet.networks.layer_list.LayerList`); a network without
    ``layers`` has none.
    """
    layers = getattr(network, "layers", None)
    items = layers.items() if hasattr(layers, "items") else ()
    private: dict[str, np.random.Generator] = {}
    uses_global = False
    for name, layer in items:
        gen = getattr(layer, "rng", None)
        if draws_from_numpy_global(gen):
            uses_global = True
        elif isinstance(gen, np.random.Generator):
            private[str(name)] = gen
    return private, uses_global
