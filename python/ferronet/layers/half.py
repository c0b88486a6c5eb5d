"""Float16 layers: half-precision storage, float32 arithmetic (chapter 8's ``half_float_network.py``).

The kernels - native and NumPy reference alike - take float32 and float64
only.  A layer still runs when the book's float16 experiment converts a
trained network's parameters::

    for key in network.params:
        network.params[key] = network.params[key].astype(np.float16)

What runs, and how:

* a layer with a float16 parameter or persistent array (``W``, ``b``,
  ``gamma``, ``running_mean`` ...), or a parameter-free layer (ReLU,
  pooling, dropout ...) given a float16 input, runs its usual kernels in
  **float32**: the float16 arrays are widened exactly to float32 for the
  call (the stored arrays stay float16), the input is widened, and the
  output is **rounded to float16**.  So every activation between layers is
  float16, as in a half-precision network, while products are summed in
  float32, as half-precision hardware does;
* a loss layer widens float16 scores to float32;
* nothing runs natively in float16, and nothing is silently cast to float64;
* float16 is for inference: ``backward`` after a float16 forward pass is a
  TypeError (train in float32 or float64, then convert);
* a train-mode pass of batch normalisation writes its updated running
  statistics back into the stored arrays (rounded to their dtype).

The book's own script instead rounds the values in place
(``param[...] = param.astype(np.float16)``), which keeps float64 arrays
holding float16 values; that runs as an ordinary float64 network.
"""

from __future__ import annotations

from typing import Any

import numpy as np

HALF = np.dtype(np.float16)
#: the dtype float16 layers compute in
COMPUTE = np.dtype(np.float32)


def _stored_arrays(layer: Any) -> dict[str, np.ndarray]:
    """The layer's parameter and persistent arrays, by attribute."""
    names = (*layer.params, *layer.persistent)
    return {name: value for name in names if isinstance(value := getattr(layer, name, None), np.ndarray)}


def applies(layer: Any, x: Any) -> bool:
    """True when ``layer.forward(x)`` must take the float16 path: the layer stores a
    float16 array, or it has no parameters and ``x`` is float16.  (Runs on every
    forward pass: a few attribute reads, no allocation.)"""
    for name in (*layer.params, *layer.persistent):
        if getattr(getattr(layer, name, None), "dtype", None) == HALF:
            return True
    return not layer.params and getattr(x, "dtype", None) == HALF


def forward(layer: Any, x: Any, train_flg: bool, keep_state: bool) -> Any:
    """``layer._forward`` in float32 on widened copies of its arrays and input; the output
    rounded to float16 (see the module docstring)."""
    stored = _stored_arrays(layer)
    try:
        for name, value in stored.items():
            setattr(layer, name, np.ascontiguousarray(value, dtype=COMPUTE))
        x = np.asarray(x)
        out = layer._forward(x.astype(COMPUTE) if x.dtype == HALF else x, train_flg, keep_state)
        if train_flg:
            for name in layer.persistent:
                if name in stored:
                    np.copyto(stored[name], getattr(layer, name), casting="same_kind")
    finally:
        for name, value in stored.items():
            setattr(layer, name, value)
    return out.astype(HALF) if isinstance(out, np.ndarray) and out.dtype.kind == "f" else out
