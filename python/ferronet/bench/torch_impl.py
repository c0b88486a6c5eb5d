"""PyTorch (CPU, float32) equivalents of the benchmarked operations.

Each function takes the NumPy inputs of a case and returns a zero-argument
callable doing the same work with torch; tensors share memory with the
NumPy arrays where possible (``torch.from_numpy``).  Only imported when
``import torch`` works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

VERSION: str = torch.__version__


def set_num_threads(n: int) -> None:
    torch.set_num_threads(n)


def matmul(a: np.ndarray, b: np.ndarray, trans_a: bool, trans_b: bool) -> Callable[[], Any]:
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    lhs = ta.t() if trans_a else ta
    rhs = tb.t() if trans_b else tb
    return lambda: torch.mm(lhs, rhs)


def affine_fwd_bwd(x: np.ndarray, W: np.ndarray, b: np.ndarray, dout: np.ndarray) -> Callable[[], Any]:
    tx, tW, tb, td = (torch.from_numpy(v) for v in (x, W, b, dout))

    def run() -> None:
        torch.addmm(tb, tx, tW)
        torch.mm(td, tW.t())
        torch.mm(tx.t(), td)
        td.sum(dim=0)

    return run


def softmax_ce_fwd_bwd(x: np.ndarray, t: np.ndarray) -> Callable[[], Any]:
    tx = torch.from_numpy(x.copy()).requires_grad_()
    tt = torch.from_numpy(t.astype(np.int64))

    def run() -> None:
        loss = F.cross_entropy(tx, tt)
        loss.backward()
        tx.grad = None

    return run


def _optimizer_step(make: Callable[..., torch.optim.Optimizer], param: np.ndarray,
                    grad: np.ndarray, **kw: Any) -> tuple[Callable[[], Any], str]:
    p = torch.nn.Parameter(torch.from_numpy(param.copy()))
    p.grad = torch.from_numpy(grad.copy())
    for variant in ({"fused": True}, {"foreach": True}, {}):
        try:
            opt = make([p], **kw, **variant)
            opt.step()  # also allocates the state; fails here when the variant is unsupported
        except (RuntimeError, ValueError, TypeError):
            continue
        return opt.step, next(iter(variant), "single-tensor")
    raise RuntimeError(f"no usable variant of {make.__name__}")


def adam_step(param: np.ndarray, grad: np.ndarray, lr: float) -> tuple[Callable[[], Any], str]:
    """A ``torch.optim.Adam`` step (fused when supported, else foreach) and the variant used."""
    return _optimizer_step(torch.optim.Adam, param, grad, lr=lr)


def sgd_step(param: np.ndarray, grad: np.ndarray, lr: float) -> tuple[Callable[[], Any], str]:
    return _optimizer_step(torch.optim.SGD, param, grad, lr=lr)


def relu(x: np.ndarray) -> Callable[[], Any]:
    tx = torch.from_numpy(x)
    return lambda: torch.relu(tx)


def sigmoid(x: np.ndarray) -> Callable[[], Any]:
    tx = torch.from_numpy(x)
    return lambda: torch.sigmoid(tx)


def mlp_epoch(x: np.ndarray, t: np.ndarray, sizes: list[int], batch: int, steps: int,
              lr: float, seed: int) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(one epoch of ``steps`` Adam steps, a short warm-up) for an nn.Linear/ReLU MLP of ``sizes``."""
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    tx = torch.from_numpy(x)
    tt = torch.from_numpy(t.astype(np.int64))
    gen = torch.Generator().manual_seed(seed)

    def run(n_steps: int = steps) -> None:
        perm = torch.randperm(tx.shape[0], generator=gen)
        for i in range(n_steps):
            idx = perm[i * batch:(i + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(tx[idx]), tt[idx])
            loss.backward()
            opt.step()

    return run, lambda: run(min(steps, 5))
