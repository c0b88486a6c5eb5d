"""Max and average pooling, NCHW, per channel (``rust/bindings/pooling.rs``)."""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks
from ferronet.ops.reference._windows import _pad_hw, _window


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
    # A stride past the padded plane leaves one window per axis, at 0: the same with any such stride,
    # and NumPy's int64 arithmetic below cannot hold one of 2**63 or more.
    stride = min(stride, h + w + 2 * pad)
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
