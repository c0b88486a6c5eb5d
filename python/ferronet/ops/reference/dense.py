"""Dense algebra: matmul and the Affine layer's kernels (``rust/bindings/dense.rs``)."""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks


def matmul(a: np.ndarray, b: np.ndarray, trans_a: bool = False, trans_b: bool = False,
           out: np.ndarray | None = None) -> np.ndarray:
    """``op(a) @ op(b)`` where ``op`` transposes when asked.

    a: (M, K), or (K, M) with ``trans_a``; b: (K, N), or (N, K) with ``trans_b``.
    Returns (M, N) of the common dtype, written into ``out`` when given
    (``out`` must be C-contiguous, writeable, (M, N) and of that dtype).
    ``trans_a`` / ``trans_b`` are bools (an int is a TypeError).
    """
    trans_a, trans_b = _checks.flag("trans_a", trans_a), _checks.flag("trans_b", trans_b)
    dtype = _checks.same_dtype(a=a, b=b)
    _checks.ndim("a", a, 2)
    _checks.ndim("b", b, 2)
    lhs = a.T if trans_a else a
    rhs = b.T if trans_b else b
    if lhs.shape[1] != rhs.shape[0]:
        raise ValueError(
            f"matmul shape mismatch: op(a) has shape {lhs.shape} and op(b) has shape {rhs.shape}"
        )
    if out is None:
        return lhs @ rhs
    _checks.same_dtype(a=a, out=out)
    _checks.writable("out", out)
    expected = (lhs.shape[0], rhs.shape[1])
    if out.shape != expected:
        raise ValueError(f"out must have shape {expected}, got {out.shape}")
    assert out.dtype == dtype
    np.matmul(lhs, rhs, out=out)
    return out


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x @ W + b``.  x: (N, D), W: (D, M), b: (M,) -> (N, M)."""
    _checks.same_dtype(x=x, W=W, b=b)
    _check_affine(x, W)
    if b.shape != (W.shape[1],):
        raise ValueError(f"bias b must have shape ({W.shape[1]},) to match W {W.shape}, got {b.shape}")
    return x @ W + b


def affine_backward(dout: np.ndarray, x: np.ndarray, W: np.ndarray,
                    need_dx: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of ``x @ W + b``.

    dout: (N, M), x: (N, D), W: (D, M) -> ``(dx (N, D), dW (D, M), db (M,))``.
    With ``need_dx=False`` (a network's first layer: its input is data) the
    ``dout @ W.T`` product is skipped and ``dx`` is None.
    """
    need_dx = _checks.flag("need_dx", need_dx)
    _checks.same_dtype(dout=dout, x=x, W=W)
    _check_affine(x, W)
    _checks.ndim("dout", dout, 2)
    expected = (x.shape[0], W.shape[1])
    if dout.shape != expected:
        raise ValueError(f"dout must have shape {expected} (x {x.shape} @ W {W.shape}), got {dout.shape}")
    dx = dout @ W.T if need_dx else None
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db


def _check_affine(x: np.ndarray, W: np.ndarray) -> None:
    _checks.ndim("x", x, 2)
    _checks.ndim("W", W, 2)
    if x.shape[1] != W.shape[0]:
        raise ValueError(f"affine shape mismatch: x has shape {x.shape} but W has shape {W.shape}")
