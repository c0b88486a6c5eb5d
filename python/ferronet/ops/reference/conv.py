"""im2col / col2im (the book's column layout) and the convolution, NCHW
(``rust/bindings/conv.rs``)."""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks
from ferronet.ops.reference._windows import live_span


def im2col(x: np.ndarray, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Unfold the filter windows of x into rows.

    x: (N, C, H, W) float32/float64 -> col (N*oh*ow, C*filter_h*filter_w) of x's
    dtype (the book's float64 upcast is not repeated).  Row index (n, i, j)
    over output positions, column index (c, ky, kx); zero padding.
    ``oh = (H + 2*pad - filter_h) // stride + 1``, ``ow`` likewise.
    """
    _checks.float_array("x", x)
    oh, ow = _checks.geometry(x.shape, filter_h, filter_w, stride, pad)
    n, c, h, w = x.shape
    if n * oh * ow == 0 or c == 0:
        return np.empty((n * oh * ow, c * filter_h * filter_w), dtype=x.dtype)  # nothing to unfold
    rows, cols = live_span(h, filter_h, stride, pad, oh), live_span(w, filter_w, stride, pad, ow)
    everywhere = rows.count == oh and cols.count == ow  # else the windows in the padding stay zero
    col = (np.empty if everywhere else np.zeros)((n, oh, ow, c, filter_h, filter_w), dtype=x.dtype)
    if rows.count and cols.count:
        img = np.pad(x, ((0, 0), (0, 0), (rows.pad, rows.pad), (cols.pad, cols.pad)))  # (N, C, H + 2p, W + 2p)
        live = col[:, rows.positions, cols.positions]  # a view
        for ky in range(filter_h):
            for kx in range(filter_w):
                # (N, C, oh, ow) -> (N, oh, ow, C)
                live[:, :, :, :, ky, kx] = img[:, :, rows.window(ky, stride), cols.window(kx, stride)].transpose(
                    0, 2, 3, 1)
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
    rows, cols = live_span(h, filter_h, stride, pad, oh), live_span(w, filter_w, stride, pad, ow)
    # only the windows that reach the data add to it (the others fall wholly on the padding)
    live = col.reshape(n, oh, ow, c, filter_h, filter_w)[:, rows.positions, cols.positions]
    img = np.zeros((n, c, h + 2 * rows.pad, w + 2 * cols.pad), dtype=col.dtype)
    for ky in range(filter_h):
        for kx in range(filter_w):
            taps = live[..., ky, kx].transpose(0, 3, 1, 2)  # (N, oh, ow, C) -> (N, C, oh, ow)
            img[:, :, rows.window(ky, stride), cols.window(kx, stride)] += taps
    return np.ascontiguousarray(img[:, :, rows.pad:rows.pad + h, cols.pad:cols.pad + w])


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
