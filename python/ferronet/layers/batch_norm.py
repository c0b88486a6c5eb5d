"""Batch normalisation (chapter 6), per feature, per channel or per activation."""

from __future__ import annotations

import numpy as np

from ferronet import ops
from ferronet.layers.base import Layer


class BatchNormalization(Layer):
    """``out = gamma * (x - mean) / sqrt(var + 1e-6) + beta``.

    gamma, beta: (C,) float32 or float64 (the same dtype); the caller's
    arrays, updated in place by a network's optimizer.
    What C is, by input:

    * x (N, C): one statistic per feature;
    * x (N, C, H, W) with ``per_channel=True`` (the default): one statistic
      per channel, over N, H and W, as in the batch-norm paper for images;
    * x (N, C, H, W) with ``per_channel=False``: the book's per-activation
      mode, x viewed as (N, C*H*W) and gamma, beta of size C*H*W;
    * any other x (N, ...): viewed as (N, prod(...)) as in the book.

    forward(x, train_flg=True): x is converted to gamma's dtype; returns x's
    shape.  Train mode normalises with the batch mean and (biased) variance
    and updates ``running_mean``, ``running_var`` in place:
    ``running = momentum * running + (1 - momentum) * batch statistic``.
    Eval mode (``train_flg=False``) normalises with the running statistics.
    backward(dout): the train-mode gradient, dout of x's shape -> dx of x's
    shape; stores ``dgamma``, ``dbeta`` (C,).  ``dout`` is not modified.
    Backward after an eval-mode forward is a RuntimeError.

    running_mean, running_var: (C,) initial statistics, copied into new
    arrays of gamma's dtype; by default zeros and ones (the book starts the
    variance at zero, which scales an untrained eval pass by 1000).  They are
    created here, so a network can save and load them before any training:
    ``persistent`` names them for :meth:`LayerNetwork.save_params`.

    ``forward(x, train_flg, keep_state=False)`` is an inference pass: it keeps
    nothing for backward (and leaves what an earlier pass kept untouched);
    a train-mode pass still updates the running statistics.
    """

    params = {"gamma": "dgamma", "beta": "dbeta"}
    persistent = ("running_mean", "running_var")

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, momentum: float = 0.9,
                 running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None,
                 per_channel: bool = True) -> None:
        self.gamma = gamma
        self.beta = beta
        self.momentum = float(momentum)
        self.per_channel = bool(per_channel)
        start_mean = np.zeros(gamma.shape) if running_mean is None else running_mean
        start_var = np.ones(gamma.shape) if running_var is None else running_var
        self.running_mean = np.array(start_mean, dtype=gamma.dtype, order="C")  # (C,), a new array
        self.running_var = np.array(start_var, dtype=gamma.dtype, order="C")  # (C,), a new array
        # kept by a train-mode forward pass for backward
        self.input_shape: tuple[int, ...] | None = None
        self.x: np.ndarray | None = None  # (N, C) or (N, C, H, W): x as the kernel saw it
        self.mean: np.ndarray | None = None  # (C,)
        self.inv_std: np.ndarray | None = None  # (C,)
        self.train_flg: bool | None = None
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None

    def _kernel_view(self, x: np.ndarray) -> np.ndarray:
        """x as the kernel takes it: (N, C) or (N, C, H, W), C-contiguous, in gamma's dtype."""
        if x.ndim != 2 and not (x.ndim == 4 and self.per_channel):
            x = x.reshape(x.shape[0], -1)  # (N, C*H*W): per activation
        return np.ascontiguousarray(x, dtype=self.gamma.dtype)

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        x = np.asarray(x)
        input_shape = x.shape
        xk = self._kernel_view(x)
        out, mean, inv_std = ops.batchnorm_forward(xk, self.gamma, self.beta, self.running_mean,
                                                   self.running_var, train=train_flg,
                                                   momentum=self.momentum)
        if keep_state:
            self.input_shape = input_shape
            self.x, self.mean, self.inv_std = xk, mean, inv_std
            self.train_flg = train_flg
        return out.reshape(input_shape)

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        if not self.train_flg:
            raise RuntimeError("BatchNormalization.backward needs a train-mode forward pass (train_flg=True)")
        dout = np.ascontiguousarray(np.reshape(dout, self.x.shape), dtype=self.gamma.dtype)
        dx, self.dgamma, self.dbeta = ops.batchnorm_backward(dout, self.x, self.gamma, self.mean, self.inv_std)
        return dx.reshape(self.input_shape)
