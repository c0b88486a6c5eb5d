"""What a search samples: hyper-parameter names and their Optuna distributions.

A space is a dict ``{name: distribution}`` of Optuna distributions
(``FloatDistribution``, ``IntDistribution``, ``CategoricalDistribution``);
:func:`log_uniform` makes the book's kind.  Every trial gets the sampled
values plus any fixed ones (``fixed_params``) as one dict ``params``:

* ``params["lr"]`` is the optimizer's learning rate and
  ``params["batch_size"]`` the mini-batch size (:data:`TRAINER_PARAMS`);
* the network is built by ``build_network(params, seed)``, which reads
  what it needs (:class:`ferronet.search.networks.NetworkSpec` reads
  ``weight_decay`` as the networks' ``weight_decay_lambda``).

:data:`BOOK_SPACE` is chapter 6's: ``lr = 10 ** uniform(-6, -2)`` and
``weight_decay = 10 ** uniform(-8, -4)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

#: the parameters the Trainer takes from a trial's params (the rest are the network's)
TRAINER_PARAMS = ("lr", "batch_size")


def log_uniform(low: float, high: float) -> FloatDistribution:
    """Values whose logarithm is uniform on [log low, log high] (the book's ``10 ** uniform(a, b)``)."""
    if not (math.isfinite(low) and math.isfinite(high)) or not 0 < low < high:
        raise ValueError(f"a log-uniform range needs 0 < low < high, got {low:g} and {high:g}")
    return FloatDistribution(low, high, log=True)


#: chapter 6's random search: the learning rate and the weight decay, each log-uniform
BOOK_SPACE: dict[str, BaseDistribution] = {"lr": log_uniform(1e-6, 1e-2), "weight_decay": log_uniform(1e-8, 1e-4)}


def check_space(space: Mapping[str, Any], fixed_params: Mapping[str, Any]) -> dict[str, BaseDistribution]:
    """``space`` as a dict, checked: string names, Optuna distributions, no name also fixed."""
    if not isinstance(space, Mapping) or not space:
        raise ValueError("the search space must be a non-empty dict {name: Optuna distribution}")
    for name, distribution in space.items():
        if not isinstance(name, str):
            raise TypeError(f"hyper-parameter names must be strings, got {name!r}")
        if not isinstance(distribution, BaseDistribution):
            raise TypeError(f"hyper-parameter {name!r} needs an Optuna distribution (e.g. "
                            f"ferronet.search.log_uniform(1e-6, 1e-2)), got {type(distribution).__name__}")
    both = sorted(set(space) & set(fixed_params))
    if both:
        raise ValueError(f"{', '.join(both)} both searched and fixed: give each in space or fixed_params")
    return dict(space)


def describe(space: Mapping[str, BaseDistribution]) -> dict[str, dict[str, Any]]:
    """``{name: {"kind": ..., ...}}``: the space as JSON (for the summary)."""
    out: dict[str, dict[str, Any]] = {}
    for name, d in space.items():
        if isinstance(d, FloatDistribution):
            out[name] = {"kind": "log-uniform" if d.log else "uniform", "low": d.low, "high": d.high}
            if d.step is not None:
                out[name]["step"] = d.step
        elif isinstance(d, IntDistribution):
            out[name] = {"kind": "int log-uniform" if d.log else "int", "low": d.low, "high": d.high, "step": d.step}
        elif isinstance(d, CategoricalDistribution):
            out[name] = {"kind": "categorical", "choices": list(d.choices)}
        else:
            out[name] = {"kind": type(d).__name__}
    return out
