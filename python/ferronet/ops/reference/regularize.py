"""Weight penalties, their gradients, gradient scaling and the max-norm
constraint (``rust/bindings/regularize.rs``).

Every array argument is one array or a sequence of arrays (one call for
every weight of a network).  Sums are accumulated in float64 and returned
as Python floats; the ``_step`` functions write their first argument in
place (C-contiguous, writeable, not overlapping another argument) and
return None.  Hyper-parameters are checked first (real numbers, finite),
then the arrays.
"""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks


def _read(name: str, x: object) -> list[np.ndarray]:
    """The arrays of a read-only argument, one float dtype for all."""
    _, items = _checks.tensor_items(name, x)
    if items:
        _checks.same_dtype(**dict(items))
    return [a for _, a in items]


def _written(name: str, x: object) -> _checks.Items:
    """The ``(name, array)`` items of an argument written in place, checked."""
    _, items = _checks.tensor_items(name, x)
    if items:
        _checks.same_dtype(**dict(items))
    for item_name, a in items:
        _checks.writable(item_name, a)
    _checks.no_overlap(items)
    return items


def sum_of_squares(x) -> float:
    """``sum(x**2)`` over every array of ``x`` (one array or a sequence), in float64."""
    return float(sum(np.sum(np.square(a, dtype=np.float64)) for a in _read("x", x)))


def sum_of_abs(x) -> float:
    """``sum(|x|)`` over every array of ``x`` (one array or a sequence), in float64."""
    return float(sum(np.sum(np.abs(a), dtype=np.float64) for a in _read("x", x)))


def _penalty_pairs(grad: object, param: object) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per tensor ``(grad, param)``: grads written in place, params of the same shapes."""
    first = _checks.tensor_items("grad", grad)
    params = _checks.matching_items("param", param, "grad", first)
    every = dict(first[1])
    every.update(params)
    if not every:
        return []
    _checks.same_dtype(**every)
    for gname, g in first[1]:
        _checks.writable(gname, g)
    _checks.no_overlap(first[1], params)
    for (gname, g), (pname, p) in zip(first[1], params):
        _checks.same_shape(gname, g, pname, p)
    return [(g, p) for (_, g), (_, p) in zip(first[1], params)]


def l2_grad_step(grad, param, lam: float) -> None:
    """``grad += lam * param``: the gradient of ``0.5 * lam * sum(param**2)``, in place."""
    (lam,) = _checks.finite_reals(lam=lam)
    for g, p in _penalty_pairs(grad, param):
        g += g.dtype.type(lam) * p


def l1_grad_step(grad, param, lam: float) -> None:
    """``grad += lam * sign(param)``: the gradient of ``lam * sum(|param|)``, in place.

    ``sign(0) = 0`` (the subgradient taken at 0); NaN stays NaN.
    """
    (lam,) = _checks.finite_reals(lam=lam)
    for g, p in _penalty_pairs(grad, param):
        g += g.dtype.type(lam) * np.sign(p)


def scale_step(x, factor: float) -> None:
    """``x *= factor``, in place (gradient clipping by a global norm)."""
    (factor,) = _checks.finite_reals(factor=factor)
    for _, a in _written("x", x):
        a *= a.dtype.type(factor)


def max_norm_step(param, max_norm: float, axis: int) -> None:
    """The max-norm constraint, in place.

    The units of ``param`` are its slices along ``axis`` (the columns of a
    dense weight (D, M) with axis 1 or -1, the filters of (FN, C, FH, FW)
    with axis 0).  A unit whose weights have a Euclidean norm (computed in
    float64) above ``max_norm`` is multiplied by ``max_norm / norm``, so its
    norm becomes ``max_norm``; the others (and a NaN norm) are left alone.
    max_norm > 0; axis an int in [-ndim, ndim) for every array.
    """
    _checks.real("max_norm", max_norm)
    axis = _checks.integer("axis", axis)
    max_norm = _checks.positive("max_norm", max_norm)
    items = _written("param", param)
    for name, p in items:
        if not -p.ndim <= axis < p.ndim:
            raise ValueError(f"axis {axis} is out of range for {name} with shape {p.shape}")
    for _, p in items:
        if p.size == 0:
            continue
        others = tuple(i for i in range(p.ndim) if i != axis % p.ndim)
        norms = np.sqrt(np.sum(np.square(p, dtype=np.float64), axis=others, keepdims=True))
        factors = np.ones_like(norms)
        np.divide(max_norm, norms, out=factors, where=norms > max_norm)
        p *= factors.astype(p.dtype)
