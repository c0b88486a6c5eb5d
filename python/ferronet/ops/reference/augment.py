"""Data-augmentation kernels on NCHW batches (``rust/bindings/augment.rs``): the
batched affine warp with bilinear sampling, and random erasing's boxes.

``ferronet.augment`` draws the random parameters (matrices, boxes) and calls
these; both backends give the same bits for the same parameters.
"""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks


def _images(x: np.ndarray) -> tuple[int, int, int, int]:
    """``(N, C, H, W)`` of the 4-d ``x`` (ValueError otherwise)."""
    _checks.ndim("x", x, 4)
    return x.shape  # type: ignore[return-value]


def _one_per_image(name: str, a: np.ndarray, rest: tuple[int, ...], x: np.ndarray) -> None:
    """ValueError naming both shapes unless ``a`` is ``(N, *rest)`` for x ``(N, C, H, W)``."""
    want = (x.shape[0], *rest)
    if a.shape != want:
        raise ValueError(f"{name} must have shape {want} (one per image of x with shape {x.shape}), "
                         f"got shape {a.shape}")


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``a + t * (b - a)``, or ``a`` itself where ``t == 0`` (``b`` unused there)."""
    return np.where(t == 0, a, a + t * (b - a))


def affine_warp(x: np.ndarray, matrices: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Warp each image by its own affine matrix, sampling bilinearly.

    x: (N, C, H, W) float32/float64; matrices: (N, 2, 3) of x's dtype, finite;
    fill: a finite number -> out (N, C, H, W) of x's dtype.

    Pixel centres sit at integer coordinates: pixel ``(i, j)`` (row i,
    column j) is the point ``(x, y) = (j, i)``, so a plane covers
    ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``.  ``matrices[n] = [[a, b, c], [d, e, f]]``
    takes each output pixel centre to the input point it samples (the
    inverse of the motion of the content), for every channel of image n::

        sx = a*j + (b*i + c)          sy = d*j + (e*i + f)         (in x's dtype, this order)
        sx = fmin(fmax(sx, -1), W)    sy = fmin(fmax(sy, -1), H)   (NaN -> -1)
        x0 = floor(sx), fx = sx - x0  y0 = floor(sy), fy = sy - y0
        top = lerp(v(y0, x0), v(y0, x0+1), fx); bottom = lerp(v(y0+1, x0), v(y0+1, x0+1), fx)
        out = lerp(top, bottom, fy),  lerp(a, b, t) = a if t == 0 else a + t*(b - a)

    where ``v(r, c)`` is the pixel, or ``fill`` outside the plane.  The clamp
    changes no finite result (beyond it only ``fill`` is sampled); a neighbour
    of weight 0 is never used, so the identity, integer shifts and flips copy
    pixels exactly.  No fused multiply-add: the native kernel gets the same bits.
    """
    fill = _checks.real("fill", fill)
    dtype = _checks.same_dtype(x=x, matrices=matrices)
    fill = _checks.finite("fill", fill)
    n, c, h, w = _images(x)
    _one_per_image("matrices", matrices, (2, 3), x)
    finite = np.isfinite(matrices).reshape(n, 6).all(axis=1)  # (N,)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise ValueError(f"matrices must be finite, got {matrices[bad].ravel().tolist()} for image {bad}")
    if x.size == 0:
        return np.empty(x.shape, dtype=dtype)
    t = dtype.type
    m = matrices.reshape(n, 6, 1, 1)  # each entry (N, 1, 1)
    cols = np.arange(w).astype(dtype)  # (W,)
    rows = np.arange(h).astype(dtype)[:, None]  # (H, 1)
    with np.errstate(over="ignore", invalid="ignore"):
        sx = m[:, 0] * cols + (m[:, 1] * rows + m[:, 2])  # (N, H, W)
        sy = m[:, 3] * cols + (m[:, 4] * rows + m[:, 5])
        sx = np.fmin(np.fmax(sx, t(-1)), t(w))
        sy = np.fmin(np.fmax(sy, t(-1)), t(h))
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = (sx - x0)[:, None], (sy - y0)[:, None]  # (N, 1, H, W)
    # planes with a border of fill: one row and column before, two after
    stride = w + 3
    bordered = np.full((n, c, h + 3, stride), fill, dtype=dtype)
    bordered[:, :, 1:h + 1, 1:w + 1] = x
    flat = bordered.reshape(n, c, -1)  # (N, C, (H+3)*(W+3))
    last = flat.shape[2] - stride - 2  # the largest top-left neighbour
    k = (y0 + 1).astype(np.intp) * stride + (x0 + 1).astype(np.intp)  # (N, H, W)
    k = np.clip(k, 0, last).reshape(n, 1, h * w)

    def neighbour(offset: int) -> np.ndarray:  # (N, C, H, W)
        return np.take_along_axis(flat, k + offset, axis=2).reshape(n, c, h, w)

    with np.errstate(over="ignore", invalid="ignore"):
        top = _lerp(neighbour(0), neighbour(1), fx)
        bottom = _lerp(neighbour(stride), neighbour(stride + 1), fx)
        return _lerp(top, bottom, fy)


def erase_boxes(x: np.ndarray, boxes: np.ndarray, value: float = 0.0, out: np.ndarray | None = None) -> np.ndarray:
    """``x`` with one rectangle of each image set to ``value``.

    x: (N, C, H, W) float32/float64; boxes: int64 (N, 4), row n
    ``[top, left, bottom, right]``; value: a finite number.  Rows
    ``top..bottom`` and columns ``left..right`` of every plane of image n are
    set to ``value`` (clipped to the plane: any integers are valid, an empty
    box erases nothing).  Returns a new C-contiguous array, or ``out`` when
    given: x's dtype and shape, C-contiguous and writeable, and either ``x``
    itself (erased in place, nothing else written) or not overlapping it.
    """
    value = _checks.real("value", value)
    if out is None:
        _checks.float_array("x", x)
    else:
        _checks.same_dtype(x=x, out=out)
    if not isinstance(boxes, np.ndarray) or boxes.dtype != np.int64:
        got = f"dtype {boxes.dtype}" if isinstance(boxes, np.ndarray) else type(boxes).__name__
        raise TypeError(f"boxes must be a numpy.ndarray of int64, got {got}")
    value = _checks.finite("value", value)
    if out is not None and out is not x:
        if np.may_share_memory(x, out):
            raise ValueError("out overlaps x: pass out=x itself to erase in place")
        _checks.same_shape("out", out, "x", x)
    if out is not None:
        _checks.writable("out", out)
    _, _, h, w = _images(x)
    _one_per_image("boxes", boxes, (4,), x)
    if out is None:
        out = np.array(x, order="C")
    elif out is not x:
        np.copyto(out, x)
    if out.size == 0:
        return out
    top, left, bottom, right = (boxes[:, k, None] for k in range(4))  # each (N, 1)
    rows, cols = np.arange(h), np.arange(w)
    in_rows = (rows >= top) & (rows < bottom)  # (N, H)
    in_cols = (cols >= left) & (cols < right)  # (N, W)
    np.copyto(out, x.dtype.type(value), where=in_rows[:, None, :, None] & in_cols[:, None, None, :])
    return out
