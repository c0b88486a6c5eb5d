"""Batch normalization with per-channel statistics (``rust/bindings/batchnorm.rs``)."""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks


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
