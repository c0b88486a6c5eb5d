"""The NumPy oracle: one function per native kernel, with the same signature.

Every function here is the definition of what its native twin in
``ferronet._native`` computes; the tests compare the two.  All functions take
float32 or float64 arrays and never change their dtype (no silent casting).
Functions ending in ``_step`` update their first array(s) in place and return
``None``, exactly like the native optimizer kernels; ``batchnorm_forward``
in training mode also updates its running statistics in place.  Image
kernels use the NCHW layout; dropout masks come from a counter-based hash of
(seed, flat index), so both backends draw identical masks.
"""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks

# --------------------------------------------------------------------------
# Dense algebra
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Activations (any shape)
# --------------------------------------------------------------------------


def relu_forward(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``, same shape and dtype as x."""
    _checks.float_array("x", x)
    return np.asarray(np.maximum(x, 0))  # an array even for 0-d x


def relu_backward(dout: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dout * (y > 0)`` where y is the forward output; dout is not modified."""
    _checks.same_dtype(dout=dout, y=y)
    _checks.same_shape("dout", dout, "y", y)
    return np.where(y > 0, dout, np.zeros((), dtype=dout.dtype))


def sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow for large negative x."""
    _checks.float_array("x", x)
    # exp of a non-positive number never overflows: use exp(-|x|) on both sides.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_backward(dout: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dout * y * (1 - y)`` where y is the forward output."""
    _checks.same_dtype(dout=dout, y=y)
    _checks.same_shape("dout", dout, "y", y)
    return np.asarray(dout * y * (1 - y))


# --------------------------------------------------------------------------
# Softmax and the fused softmax-cross-entropy
# --------------------------------------------------------------------------


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of x (N, C) (or a single row (C,)), max-subtracted.

    Zero rows give an empty result; zero classes (C == 0) are a ValueError.
    """
    _checks.float_array("x", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"softmax expects a 1-d or 2-d array, got shape {x.shape}")
    if x.shape[-1] == 0:
        raise ValueError(f"softmax needs at least one class (a non-empty last axis), got shape {x.shape}")
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_cross_entropy_forward(x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(x)`` against targets ``t``.

    x: logits (N, C); t: integer labels (N,) of any integer dtype, or one-hot
    rows (N, C) of x's dtype.  Returns ``(loss, y)`` with ``y = softmax(x)``
    (N, C), the state the backward pass needs.  The loss is exact
    (log-sum-exp, no ``1e-7`` clipping): a logit of 1000 gives the true loss.
    """
    _checks.float_array("x", x)
    _checks.ndim("x", x, 2)
    one_hot = _checks.targets(x, t)
    n = x.shape[0]
    if n == 0 or x.shape[1] == 0:
        raise ValueError(f"softmax_cross_entropy_forward needs at least one row and one class, got shape {x.shape}")
    m = x.max(axis=1, keepdims=True)
    z = x - m
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    y = e / s
    log_s = np.log(s)  # (N, 1): log-sum-exp of z
    if one_hot:
        # -sum_j t_ij (z_ij - log_s_i)
        per_row = (t * (log_s - z)).sum(axis=1)
    else:
        per_row = log_s[:, 0] - z[np.arange(n), t]
    return float(per_row.sum(dtype=np.float64) / n), y


def softmax_cross_entropy_backward(y: np.ndarray, t: np.ndarray, dout: float = 1.0) -> np.ndarray:
    """``dout * (y - t) / N`` for probabilities y (N, C); t labels (N,) or one-hot (N, C).

    ``dout`` is a real number; like the forward pass, it needs N >= 1 and C >= 1 (ValueError).
    """
    dout = _checks.real("dout", dout)
    _checks.float_array("y", y)
    _checks.ndim("y", y, 2)
    one_hot = _checks.targets(y, t)
    n = y.shape[0]
    if n == 0 or y.shape[1] == 0:
        raise ValueError(f"softmax_cross_entropy_backward needs at least one row and one class, got shape {y.shape}")
    scale = y.dtype.type(dout / n)
    if one_hot:
        return (y - t) * scale
    dx = y.copy()
    dx[np.arange(n), t] -= 1
    dx *= scale
    return dx


# --------------------------------------------------------------------------
# Optimizer steps: in place, one call for every parameter of a step
# --------------------------------------------------------------------------
#
# ``param`` is one array or a sequence of arrays (a multi-tensor step);
# ``grad`` and each state argument are alike.  Hyper-parameters are checked
# first (real numbers, finite), then the arrays.


def _as_items(name: str, arg: object) -> tuple[bool, list[tuple[str, object]]]:
    """(is a sequence, [(name for errors, array)]) for one step argument."""
    if isinstance(arg, np.ndarray):
        return False, [(name, arg)]
    if isinstance(arg, (list, tuple)):
        return True, [(f"{name}[{i}]", a) for i, a in enumerate(arg)]
    raise TypeError(f"{name} must be a numpy.ndarray or a list of them, got {type(arg).__name__}")


def _describe(sequence: bool, items: list) -> str:
    return f"a sequence of {len(items)} arrays" if sequence else "one array"


def _step_tensors(param: object, grad: object, **states: object) -> list[tuple[np.ndarray, ...]]:
    """Check a step's arrays; returns per tensor ``(param, grad, *states)``.

    All arrays share one float dtype; params and states are C-contiguous,
    writeable and distinct (ValueError if two of them overlap), each grad
    and state has its param's shape.
    """
    seq, params = _as_items("param", param)
    args = {"grad": grad, **states}
    items = {}
    for name, arg in args.items():
        arg_seq, arg_items = _as_items(name, arg)
        if arg_seq != seq or len(arg_items) != len(params):
            raise ValueError(f"{name} must match param: param is {_describe(seq, params)}, "
                             f"{name} is {_describe(arg_seq, arg_items)}")
        items[name] = arg_items
    every = dict(params)
    for arg_items in items.values():
        every.update(arg_items)
    if not every:
        return []
    _checks.same_dtype(**every)
    written: list[tuple[str, np.ndarray]] = []
    tensors = []
    for i, (pname, p) in enumerate(params):
        _checks.writable(pname, p)
        gname, g = items["grad"][i]
        _checks.same_shape(pname, p, gname, g)
        row = [p, g]
        written.append((pname, p))
        for state in states:
            sname, s = items[state][i]
            _checks.writable(sname, s)
            _checks.same_shape(pname, p, sname, s)
            written.append((sname, s))
            row.append(s)
        tensors.append(tuple(row))
    for i, (name, a) in enumerate(written):
        for _, b in written[:i]:
            if np.may_share_memory(a, b):
                raise ValueError(f"{name} is being written by another call or overlaps an array written by this call")
    return tensors


def sgd_step(param, grad, lr: float) -> None:
    """``param -= lr * grad``."""
    (lr,) = _checks.finite_reals(lr=lr)
    for p, g in _step_tensors(param, grad):
        p -= p.dtype.type(lr) * g


def momentum_step(param, grad, v, lr: float, momentum: float) -> None:
    """``v = momentum * v - lr * grad; param += v``."""
    lr, momentum = _checks.finite_reals(lr=lr, momentum=momentum)
    for p, g, v_ in _step_tensors(param, grad, v=v):
        t = p.dtype.type
        v_ *= t(momentum)
        v_ -= t(lr) * g
        p += v_


def nesterov_step(param, grad, v, lr: float, momentum: float) -> None:
    """Nesterov momentum as in Bengio et al. 2012 (uses v before its update).

    ``param += mu*mu*v - (1+mu)*lr*grad``, then ``v = mu*v - lr*grad``.
    """
    lr, momentum = _checks.finite_reals(lr=lr, momentum=momentum)
    for p, g, v_ in _step_tensors(param, grad, v=v):
        t = p.dtype.type
        mu, lr_ = t(momentum), t(lr)
        p += mu * mu * v_ - (1 + mu) * lr_ * g
        v_ *= mu
        v_ -= lr_ * g


def adagrad_step(param, grad, h, lr: float) -> None:
    """``h += grad**2; param -= lr * grad / (sqrt(h) + 1e-7)``."""
    (lr,) = _checks.finite_reals(lr=lr)
    for p, g, h_ in _step_tensors(param, grad, h=h):
        t = p.dtype.type
        h_ += g * g
        p -= t(lr) * g / (np.sqrt(h_) + t(1e-7))


def rmsprop_step(param, grad, h, lr: float, decay_rate: float) -> None:
    """``h = decay*h + (1-decay)*grad**2; param -= lr * grad / (sqrt(h) + 1e-7)``."""
    lr, decay_rate = _checks.finite_reals(lr=lr, decay_rate=decay_rate)
    for p, g, h_ in _step_tensors(param, grad, h=h):
        t = p.dtype.type
        h_ *= t(decay_rate)
        h_ += t(1 - decay_rate) * g * g
        p -= t(lr) * g / (np.sqrt(h_) + t(1e-7))


def adadelta_step(param, grad, h, d, lr: float, rho: float, eps: float) -> None:
    """AdaDelta (Zeiler 2012), with an optional learning-rate multiplier.

    ``h = rho*h + (1-rho)*grad**2``;
    ``delta = sqrt(d + eps) / sqrt(h + eps) * grad``;
    ``d = rho*d + (1-rho)*delta**2``; ``param -= lr * delta``.
    """
    lr, rho, eps = _checks.finite_reals(lr=lr, rho=rho, eps=eps)
    for p, g, h_, d_ in _step_tensors(param, grad, h=h, d=d):
        t = p.dtype.type
        h_ *= t(rho)
        h_ += t(1 - rho) * g * g
        delta = np.sqrt(d_ + t(eps)) / np.sqrt(h_ + t(eps)) * g
        d_ *= t(rho)
        d_ += t(1 - rho) * delta * delta
        p -= t(lr) * delta


def adam_step(param, grad, m, v, lr: float, beta1: float, beta2: float, t: int) -> None:
    """Adam, the book's form, at step ``t`` (an int, 1 for the first update).

    ``m += (1-beta1)*(grad-m)``; ``v += (1-beta2)*(grad**2-v)``;
    ``param -= lr_t * m / (sqrt(v) + 1e-7)`` with
    ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``; beta1, beta2 in [0, 1).
    """
    for name, value in (("lr", lr), ("beta1", beta1), ("beta2", beta2)):
        _checks.real(name, value)
    step = _checks.integer("t", t)
    lr, beta1, beta2 = _checks.finite_reals(lr=lr, beta1=beta1, beta2=beta2)
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{name} must lie in [0, 1), got {beta}")
    if step < 1:
        raise ValueError(f"adam step count t must be >= 1, got {step}")
    step = min(step, 2**31 - 1)  # beta**t has long underflowed to 0 (the native kernel's bound)
    lr_t = lr * np.sqrt(1.0 - beta2**step) / (1.0 - beta1**step)
    for p, g, m_, v_ in _step_tensors(param, grad, m=m, v=v):
        ty = p.dtype.type
        m_ += ty(1 - beta1) * (g - m_)
        v_ += ty(1 - beta2) * (g * g - v_)
        p -= ty(lr_t) * m_ / (np.sqrt(v_) + ty(1e-7))


# --------------------------------------------------------------------------
# im2col / col2im (NCHW, the book's column layout)
# --------------------------------------------------------------------------


def _window(start: int, count: int, stride: int) -> slice:
    """The ``count`` positions ``start, start + stride, ...`` of one filter offset."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def _pad_hw(x: np.ndarray, pad: int, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) -> (N, C, H + 2*pad, W + 2*pad), same dtype, filled with ``value``."""
    if pad == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=value)


def im2col(x: np.ndarray, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Unfold the filter windows of x into rows.

    x: (N, C, H, W) float32/float64 -> col (N*oh*ow, C*filter_h*filter_w) of x's
    dtype (the book's float64 upcast is not repeated).  Row index (n, i, j)
    over output positions, column index (c, ky, kx); zero padding.
    ``oh = (H + 2*pad - filter_h) // stride + 1``, ``ow`` likewise.
    """
    _checks.float_array("x", x)
    oh, ow = _checks.geometry(x.shape, filter_h, filter_w, stride, pad)
    n, c = x.shape[:2]
    if n * oh * ow == 0 or c == 0:
        return np.empty((n * oh * ow, c * filter_h * filter_w), dtype=x.dtype)  # nothing to unfold
    img = _pad_hw(x, pad)  # (N, C, H + 2p, W + 2p)
    col = np.empty((n, oh, ow, c, filter_h, filter_w), dtype=x.dtype)
    for ky in range(filter_h):
        rows = _window(ky, oh, stride)
        for kx in range(filter_w):
            # (N, C, oh, ow) -> (N, oh, ow, C)
            col[:, :, :, :, ky, kx] = img[:, :, rows, _window(kx, ow, stride)].transpose(0, 2, 3, 1)
    return col.reshape(n * oh * ow, c * filter_h * filter_w)


def col2im(col: np.ndarray, input_shape: tuple[int, int, int, int], filter_h: int, filter_w: int,
           stride: int = 1, pad: int = 0) -> np.ndarray:
    """Fold rows back into an image: the adjoint of ``im2col``.

    col: (N*oh*ow, C*filter_h*filter_w) float32/float64, input_shape (N, C, H, W)
    -> (N, C, H, W) C-contiguous, col's dtype.  Entries of overlapping windows
    are summed; entries that fall on the padding are dropped.
    """
    _checks.float_array("col", col)
    n, c, h, w = _checks.shape4("input_shape", input_shape)
    oh, ow = _checks.geometry((n, c, h, w), filter_h, filter_w, stride, pad, what="input_shape")
    _checks.ndim("col", col, 2)
    expected = (n * oh * ow, c * filter_h * filter_w)
    _checks.expect_shape("col", col, expected, f"im2col of input_shape {(n, c, h, w)}")
    if n * c * h * w == 0 or col.size == 0:
        return np.zeros((n, c, h, w), dtype=col.dtype)  # nothing to fold
    col6 = col.reshape(n, oh, ow, c, filter_h, filter_w)
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for ky in range(filter_h):
        rows = _window(ky, oh, stride)
        for kx in range(filter_w):
            # (N, oh, ow, C) -> (N, C, oh, ow)
            img[:, :, rows, _window(kx, ow, stride)] += col6[:, :, :, :, ky, kx].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(img[:, :, pad:pad + h, pad:pad + w])


# --------------------------------------------------------------------------
# Convolution (im2col + matmul, like the book)
# --------------------------------------------------------------------------


def _check_conv(x: np.ndarray, W: np.ndarray, stride: int, pad: int) -> tuple[int, int]:
    """Shapes of a convolution; returns (oh, ow)."""
    _checks.ndim("x", x, 4)
    _checks.ndim("W", W, 4)
    if W.shape[1] != x.shape[1]:
        raise ValueError(f"channel mismatch: x has shape {x.shape} (C={x.shape[1]}) "
                         f"but W has shape {W.shape} (C={W.shape[1]})")
    return _checks.geometry(x.shape, W.shape[2], W.shape[3], stride, pad)


def conv_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> np.ndarray:
    """2-d convolution (cross-correlation) with bias.

    x: (N, C, H, W), W: (FN, C, FH, FW), b: (FN,), one float dtype ->
    out (N, FN, oh, ow) C-contiguous, with
    ``out[n, f, i, j] = b[f] + sum_{c,ky,kx} W[f, c, ky, kx] * xpad[n, c, i*stride + ky, j*stride + kx]``.
    """
    _checks.same_dtype(x=x, W=W, b=b)
    oh, ow = _check_conv(x, W, stride, pad)
    fn = W.shape[0]
    if b.shape != (fn,):
        raise ValueError(f"bias b must have shape ({fn},) to match W {W.shape}, got {b.shape}")
    col = im2col(x, W.shape[2], W.shape[3], stride, pad)  # (N*oh*ow, C*FH*FW)
    out = col @ W.reshape(fn, col.shape[1]).T + b  # (N*oh*ow, FN)
    return np.ascontiguousarray(out.reshape(x.shape[0], oh, ow, fn).transpose(0, 3, 1, 2))  # (N, FN, oh, ow)


def conv_backward(dout: np.ndarray, x: np.ndarray, W: np.ndarray, stride: int = 1, pad: int = 0,
                  need_dx: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of ``conv_forward``.

    dout: (N, FN, oh, ow), x: (N, C, H, W), W: (FN, C, FH, FW), one float dtype
    -> ``(dx (N, C, H, W) or None when need_dx=False, dW (FN, C, FH, FW), db (FN,))``.
    """
    need_dx = _checks.flag("need_dx", need_dx)
    _checks.same_dtype(dout=dout, x=x, W=W)
    oh, ow = _check_conv(x, W, stride, pad)
    fn, _, fh, fw = W.shape
    _checks.expect_shape("dout", dout, (x.shape[0], fn, oh, ow), f"conv of x {x.shape} with W {W.shape}")
    col = im2col(x, fh, fw, stride, pad)  # (N*oh*ow, C*FH*FW)
    d2 = dout.transpose(0, 2, 3, 1).reshape(col.shape[0], fn)  # (N*oh*ow, FN)
    db = dout.sum(axis=(0, 2, 3))  # (FN,)
    dW = (d2.T @ col).reshape(W.shape)  # (FN, C, FH, FW)
    dx = None
    if need_dx:
        dx = col2im(d2 @ W.reshape(fn, col.shape[1]), x.shape, fh, fw, stride, pad)  # (N, C, H, W)
    return dx, dW, db


# --------------------------------------------------------------------------
# Pooling (NCHW, per channel)
# --------------------------------------------------------------------------


def _gather_windows(img: np.ndarray, pool_h: int, pool_w: int, stride: int, oh: int, ow: int) -> np.ndarray:
    """Padded img (N, C, Hp, Wp) -> windows (N, C, oh, ow, pool_h*pool_w), row-major window order."""
    n, c = img.shape[:2]
    win = np.empty((n, c, oh, ow, pool_h * pool_w), dtype=img.dtype)
    for ky in range(pool_h):
        rows = _window(ky, oh, stride)
        for kx in range(pool_w):
            win[..., ky * pool_w + kx] = img[:, :, rows, _window(kx, ow, stride)]  # (N, C, oh, ow)
    return win


def max_pool_forward(x: np.ndarray, pool_h: int, pool_w: int, stride: int = 2,
                     pad: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling per channel.

    x: (N, C, H, W) float32/float64 -> ``(out (N, C, oh, ow) of x's dtype,
    argmax (N, C, oh, ow) int32)``.  Padding acts as -inf: only real elements
    compete (pad < pool_h and pad < pool_w are required).  ``argmax`` is the
    flat index ``h*W + w`` in x's unpadded (H, W) plane of the first maximum in
    row-major window order; NaN wins like ``np.argmax`` (the first NaN).
    ``out[n, c, i, j] == x[n, c].flat[argmax[n, c, i, j]]``.
    """
    _checks.float_array("x", x)
    oh, ow = _checks.pool_geometry(x.shape, pool_h, pool_w, stride, pad)
    h, w = x.shape[2:]
    if x.size == 0:  # no planes
        return np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype), np.empty(x.shape[:2] + (oh, ow), dtype=np.int32)
    win = _gather_windows(_pad_hw(x, pad, -np.inf), pool_h, pool_w, stride, oh, ow)  # (N, C, oh, ow, K)
    k = np.argmax(win, axis=-1)  # (N, C, oh, ow), index in the window
    out = np.take_along_axis(win, k[..., None], axis=-1)[..., 0]  # (N, C, oh, ow)
    ky, kx = np.divmod(k, pool_w)
    top = (np.arange(oh) * stride - pad)[:, None]  # (oh, 1): first row of each window, unpadded
    left = np.arange(ow) * stride - pad  # (ow,)
    if pad:
        # A window whose real elements are all -inf may have picked a padding -inf:
        # the answer is then its first real element (all real ones tie at -inf).
        row, colm = top + ky, left + kx  # (N, C, oh, ow)
        on_pad = (row < 0) | (row >= h) | (colm < 0) | (colm >= w)
        ky = np.where(on_pad, np.maximum(-top, 0), ky)
        kx = np.where(on_pad, np.maximum(-left, 0), kx)
    argmax = (top + ky) * w + (left + kx)  # (N, C, oh, ow), flat index in the (H, W) plane
    return out, argmax.astype(np.int32)


def max_pool_backward(dout: np.ndarray, argmax: np.ndarray, input_shape: tuple[int, int, int, int]) -> np.ndarray:
    """Gradient of max pooling.

    dout: (N, C, oh, ow) float32/float64, argmax: int32 (N, C, oh, ow) with values
    in [0, H*W), input_shape (N, C, H, W) -> dx (N, C, H, W) of dout's dtype:
    zeros, then ``dx[n, c].flat[argmax] += dout`` (overlapping windows sum).
    """
    _checks.float_array("dout", dout)
    n, c, h, w = _checks.shape4("input_shape", input_shape)
    _checks.ndim("dout", dout, 4)
    if dout.shape[:2] != (n, c):
        raise ValueError(f"dout has shape {dout.shape} but input_shape {(n, c, h, w)} has a different (N, C)")
    _checks.argmax_array(argmax, dout.shape, h * w)
    dx = np.zeros((n * c, h * w), dtype=dout.dtype)
    if dout.size == 0:
        return dx.reshape(n, c, h, w)  # nothing to scatter
    planes = np.arange(n * c)[:, None]  # (N*C, 1)
    cells = dout.shape[2] * dout.shape[3]  # oh*ow
    np.add.at(dx, (planes, argmax.reshape(n * c, cells)), dout.reshape(n * c, cells))
    return dx.reshape(n, c, h, w)


def avg_pool_forward(x: np.ndarray, pool_h: int, pool_w: int, stride: int = 2, pad: int = 0) -> np.ndarray:
    """Average pooling per channel, zero padding counted (count_include_pad).

    x: (N, C, H, W) float32/float64 -> out (N, C, oh, ow) of x's dtype: the sum
    of each pool_h x pool_w window (row-major order) divided by pool_h*pool_w.
    Requires pad < pool_h and pad < pool_w.
    """
    _checks.float_array("x", x)
    oh, ow = _checks.pool_geometry(x.shape, pool_h, pool_w, stride, pad)
    if x.size == 0:  # no planes
        return np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype)
    img = _pad_hw(x, pad)  # (N, C, Hp, Wp)
    out = np.zeros(x.shape[:2] + (oh, ow), dtype=x.dtype)
    for ky in range(pool_h):
        rows = _window(ky, oh, stride)
        for kx in range(pool_w):
            out += img[:, :, rows, _window(kx, ow, stride)]  # (N, C, oh, ow)
    out /= x.dtype.type(pool_h * pool_w)
    return out


def avg_pool_backward(dout: np.ndarray, input_shape: tuple[int, int, int, int], pool_h: int, pool_w: int,
                      stride: int = 2, pad: int = 0) -> np.ndarray:
    """Gradient of ``avg_pool_forward``.

    dout: (N, C, oh, ow) float32/float64, input_shape (N, C, H, W) -> dx (N, C, H, W)
    C-contiguous of dout's dtype: ``dx[n, c, h, w]`` = sum over the windows
    containing (h, w) of ``dout / (pool_h*pool_w)``.
    """
    _checks.float_array("dout", dout)
    n, c, h, w = _checks.shape4("input_shape", input_shape)
    oh, ow = _checks.pool_geometry((n, c, h, w), pool_h, pool_w, stride, pad, what="input_shape")
    _checks.expect_shape("dout", dout, (n, c, oh, ow), f"pooling output of input_shape {(n, c, h, w)}")
    g = dout / dout.dtype.type(pool_h * pool_w)  # (N, C, oh, ow)
    if n * c == 0:  # no planes
        return np.zeros((n, c, h, w), dtype=dout.dtype)
    dimg = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=dout.dtype)
    for ky in range(pool_h):
        rows = _window(ky, oh, stride)
        for kx in range(pool_w):
            dimg[:, :, rows, _window(kx, ow, stride)] += g
    return np.ascontiguousarray(dimg[:, :, pad:pad + h, pad:pad + w])


# --------------------------------------------------------------------------
# Batch normalization (statistics per channel)
# --------------------------------------------------------------------------


def _channel_axes(x: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(reduction axes, broadcast shape of a (C,) vector) for x (N, C) or (N, C, H, W)."""
    if x.ndim == 2:
        return (0,), (1, x.shape[1])
    if x.ndim == 4:
        return (0, 2, 3), (1, x.shape[1], 1, 1)
    raise ValueError(f"batch normalization expects x of shape (N, C) or (N, C, H, W), got shape {x.shape}")


def _samples_per_channel(x: np.ndarray) -> int:
    """N (2-d x) or N*H*W (4-d x): the values each channel's statistics average (C may be 0)."""
    return x.shape[0] * (x.shape[2] * x.shape[3] if x.ndim == 4 else 1)


def _check_channel_vectors(x: np.ndarray, **vectors: np.ndarray) -> None:
    for name, v in vectors.items():
        if v.shape != (x.shape[1],):
            raise ValueError(f"{name} must have shape ({x.shape[1]},) to match x with shape {x.shape}, "
                             f"got shape {v.shape}")


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, running_mean: np.ndarray,
                      running_var: np.ndarray, train: bool = True, momentum: float = 0.9,
                      eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch normalization with per-channel statistics.

    x: (N, C) or (N, C, H, W); gamma, beta, running_mean, running_var: (C,);
    one float dtype.  Returns ``(out like x, mean (C,), inv_std (C,))``, new arrays.

    train=True: mean and biased variance of the batch over N (and H, W), and
    ``running = momentum * running + (1 - momentum) * batch_stat`` in place
    (running_mean / running_var must be C-contiguous and writeable; the batch
    must hold at least one sample per channel).
    train=False: mean = running_mean, var = running_var, nothing is modified.
    ``inv_std = 1 / sqrt(var + eps)``, ``out = gamma * (x - mean) * inv_std + beta``.
    ``train`` is a bool; ``momentum`` and ``eps`` finite real numbers.
    """
    train = _checks.flag("train", train)
    momentum, eps = _checks.finite_reals(momentum=momentum, eps=eps)
    _checks.same_dtype(x=x, gamma=gamma, beta=beta, running_mean=running_mean, running_var=running_var)
    axes, bshape = _channel_axes(x)
    _check_channel_vectors(x, gamma=gamma, beta=beta, running_mean=running_mean, running_var=running_var)
    t = x.dtype.type
    if train:
        _checks.writable("running_mean", running_mean)
        _checks.writable("running_var", running_var)
        if _samples_per_channel(x) == 0:
            raise ValueError(f"batch normalization in training mode needs at least one sample, got x {x.shape}")
        mean = x.mean(axis=axes)  # (C,)
        var = np.square(x - mean.reshape(bshape)).mean(axis=axes)  # (C,), biased
        running_mean *= t(momentum)
        running_mean += t(1 - momentum) * mean
        running_var *= t(momentum)
        running_var += t(1 - momentum) * var
    else:
        mean, var = running_mean.copy(), running_var
    inv_std = 1 / np.sqrt(var + t(eps))  # (C,)
    out = gamma.reshape(bshape) * (x - mean.reshape(bshape)) * inv_std.reshape(bshape) + beta.reshape(bshape)
    return out, mean, inv_std


def batchnorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray, mean: np.ndarray,
                       inv_std: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training-mode gradient of ``batchnorm_forward``.

    dout, x: (N, C) or (N, C, H, W); gamma, mean, inv_std: (C,); one float dtype.
    With ``xhat = (x - mean) * inv_std`` and M = N*H*W (or N) samples per channel:
    ``dbeta = sum dout``, ``dgamma = sum dout * xhat`` (per channel, (C,)),
    ``dx = gamma * inv_std / M * (M * dout - dbeta - xhat * dgamma)`` (like x).
    Returns ``(dx, dgamma, dbeta)``.
    """
    _checks.same_dtype(dout=dout, x=x, gamma=gamma, mean=mean, inv_std=inv_std)
    _checks.same_shape("dout", dout, "x", x)
    axes, bshape = _channel_axes(x)
    _check_channel_vectors(x, gamma=gamma, mean=mean, inv_std=inv_std)
    if _samples_per_channel(x) == 0:
        raise ValueError(f"batch normalization backward needs at least one sample, got x {x.shape}")
    t = x.dtype.type
    m = t(_samples_per_channel(x))
    xhat = (x - mean.reshape(bshape)) * inv_std.reshape(bshape)  # like x
    dbeta = dout.sum(axis=axes)  # (C,)
    dgamma = (dout * xhat).sum(axis=axes)  # (C,)
    k = (gamma * inv_std / m).reshape(bshape)
    dx = k * (m * dout - dbeta.reshape(bshape) - xhat * dgamma.reshape(bshape))
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------
# Dropout (counter-based mask: the same seed gives the same mask on both backends)
# --------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MASK_BITS = 16777216.0  # 2**24: u_i is the top 24 bits of the hash


def _splitmix64(seed: int, count: int) -> np.ndarray:
    """splitmix64(seed, i) for i in [0, count): uint64 (count,), wrapping mod 2**64.

    ``z = seed + (i + 1) * 0x9E3779B97F4A7C15``;
    ``z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9``; ``z = (z ^ (z >> 27)) * 0x94D049BB133111EB``;
    ``z ^ (z >> 31)``.  Array arithmetic on uint64 wraps silently (scalar arithmetic would warn).
    """
    z = np.arange(1, count + 1, dtype=np.uint64)  # (count,): i + 1
    z *= _GOLDEN
    z += np.uint64(seed)
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def _dropout_mask(shape: tuple[int, ...], size: int, ratio: float, seed: int) -> np.ndarray:
    """bool mask of ``shape``: flat (C-order) element i kept iff (splitmix64(seed, i) >> 40) >= threshold."""
    threshold = np.uint64(int(ratio * _MASK_BITS))
    u = _splitmix64(seed, size) >> np.uint64(40)  # (size,), 24 bits
    return (u >= threshold).reshape(shape)


def _dropout_apply(a: np.ndarray, mask: np.ndarray, ratio: float, inverted: bool) -> np.ndarray:
    """``a * mask`` (book form) or ``where(mask, a * scale, 0)`` with scale = dtype(1 / (1 - ratio))."""
    if not inverted:
        return np.asarray(a * mask)
    scale = a.dtype.type(1.0 / (1.0 - ratio))
    return np.where(mask, a * scale, np.zeros((), dtype=a.dtype))


def dropout_forward(x: np.ndarray, dropout_ratio: float, seed: int,
                    inverted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Dropout with a mask derived from ``seed`` (no global random state).

    x: any shape, float32/float64; dropout_ratio in [0, 1); seed an int in
    [0, 2**64).  Returns ``(out like x, mask bool like x)``.  The element with
    C-order flat index i is kept iff ``splitmix64(seed, i) >> 40 >=
    int(dropout_ratio * 2**24)``.  ``out = x * mask`` (the book: dropped
    elements become ``x * 0``, so NaN stays NaN and negatives give -0.0), or with
    ``inverted`` ``where(mask, x * scale, 0)``, ``scale = dtype(1 / (1 - dropout_ratio))``.
    """
    inverted = _checks.flag("inverted", inverted)
    _checks.float_array("x", x)
    ratio = _checks.dropout_ratio(dropout_ratio)
    mask = _dropout_mask(x.shape, x.size, ratio, _checks.seed64(seed))
    return _dropout_apply(x, mask, ratio, inverted), mask


def dropout_backward(dout: np.ndarray, mask: np.ndarray, dropout_ratio: float, inverted: bool = False) -> np.ndarray:
    """Gradient of dropout: ``dout * mask`` (book) or ``where(mask, dout * scale, 0)`` (inverted).

    dout: any shape, float32/float64; mask: bool of dout's shape -> dx like dout.
    """
    inverted = _checks.flag("inverted", inverted)
    _checks.float_array("dout", dout)
    _checks.bool_mask(mask, "dout", dout)
    ratio = _checks.dropout_ratio(dropout_ratio)
    return _dropout_apply(dout, mask, ratio, inverted)
