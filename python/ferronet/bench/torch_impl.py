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


#: PyTorch's forms of ferronet's loss layers (mean over every element; KL per sample, of log_softmax(x) from t)
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "huber": F.huber_loss,
    "sigmoid_bce": F.binary_cross_entropy_with_logits,
    "kl_div": lambda x, t: F.kl_div(F.log_softmax(x, dim=1), t, reduction="batchmean"),
}


def loss_fwd_bwd(name: str, x: np.ndarray, t: np.ndarray) -> Callable[[], Any]:
    """The loss ``name`` of ``LOSSES`` and its gradient with respect to x (autograd)."""
    tx, tt = _leaf(x), torch.from_numpy(t)
    loss = LOSSES[name]

    def run() -> None:
        loss(tx, tt).backward()
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


def _fwd_bwd(forward: Callable[[], torch.Tensor], dout: np.ndarray, *leaves: torch.Tensor) -> Callable[[], Any]:
    """``forward()`` then autograd backward with ``dout``, clearing the leaves' gradients after each call."""
    td = torch.from_numpy(dout)

    def run() -> None:
        forward().backward(td)
        for leaf in leaves:
            leaf.grad = None

    return run


def _leaf(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a.copy()).requires_grad_()


def im2col(x: np.ndarray, k: int, stride: int, pad: int) -> Callable[[], Any]:
    """``F.unfold``: x (N, C, H, W) -> (N, C*k*k, oh*ow), im2col's transpose per sample."""
    tx = torch.from_numpy(x)
    return lambda: F.unfold(tx, (k, k), padding=pad, stride=stride)


def conv_fwd_bwd(x: np.ndarray, W: np.ndarray, b: np.ndarray, dout: np.ndarray, stride: int,
                 pad: int, need_dx: bool = True) -> Callable[[], Any]:
    """``F.conv2d`` forward and backward (dW, db, and dx unless ``need_dx`` is False)."""
    tx = _leaf(x) if need_dx else torch.from_numpy(x)
    tW, tb = _leaf(W), _leaf(b)
    leaves = (tx, tW, tb) if need_dx else (tW, tb)
    return _fwd_bwd(lambda: F.conv2d(tx, tW, tb, stride=stride, padding=pad), dout, *leaves)


def max_pool_fwd_bwd(x: np.ndarray, dout: np.ndarray, k: int, stride: int) -> Callable[[], Any]:
    tx = _leaf(x)
    return _fwd_bwd(lambda: F.max_pool2d(tx, k, stride), dout, tx)


def batchnorm_fwd_bwd(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dout: np.ndarray) -> Callable[[], Any]:
    """``F.batch_norm`` in training mode (torch's momentum 0.1 is ferronet's 0.9), eps 1e-6, forward and backward."""
    tx, tg, tb = _leaf(x), _leaf(gamma), _leaf(beta)
    mean, var = torch.zeros(gamma.shape[0]), torch.ones(gamma.shape[0])
    return _fwd_bwd(lambda: F.batch_norm(tx, mean, var, tg, tb, training=True, momentum=0.1, eps=1e-6),
                    dout, tx, tg, tb)


def dropout_fwd_bwd(x: np.ndarray, dout: np.ndarray, ratio: float) -> Callable[[], Any]:
    """``F.dropout`` (inverted dropout) forward and backward."""
    tx = _leaf(x)
    return _fwd_bwd(lambda: F.dropout(tx, ratio, training=True), dout, tx)


#: ferronet's activation kernels -> (PyTorch's function, what it is, for the notes)
ACTIVATIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], str]] = {
    "relu": (torch.relu, "torch.relu"),
    "sigmoid": (torch.sigmoid, "torch.sigmoid"),
    "tanh": (torch.tanh, "torch.tanh"),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.01), "F.leaky_relu"),
    "rrelu": (lambda t: F.rrelu(t, 1 / 8, 1 / 3, training=True), "F.rrelu, training"),
    "relu6": (F.relu6, "F.relu6"),
    "softplus": (F.softplus, "F.softplus"),
    "swish": (F.silu, "F.silu"),
    "gelu": (lambda t: F.gelu(t, approximate="tanh"), "F.gelu(approximate='tanh')"),
    "elu": (F.elu, "F.elu"),
}


def activation_fwd_bwd(kernel: str, x: np.ndarray, dout: np.ndarray) -> tuple[Callable[[], Any], str]:
    """The activation ferronet calls ``kernel`` (e.g. ``"gelu"``), forward and autograd backward; and its name."""
    fn, what = ACTIVATIONS[kernel]
    tx = _leaf(x)
    return _fwd_bwd(lambda: fn(tx), dout, tx), what


def prelu_fwd_bwd(x: np.ndarray, alpha: np.ndarray, dout: np.ndarray) -> Callable[[], Any]:
    """``F.prelu`` with one slope per channel, forward and backward (dx and the slopes' gradient)."""
    tx, ta = _leaf(x), _leaf(alpha)
    return _fwd_bwd(lambda: F.prelu(tx, ta), dout, tx, ta)


# ---------------------------------------------------------------------- data augmentation


def _pixel_maps(n: int) -> torch.Tensor:
    """(n, 3, 3) float64 identities, to fill in (ferronet.augment.matrices' convention: output -> input pixel)."""
    return torch.eye(3, dtype=torch.float64).repeat(n, 1, 1)


def augment(x: np.ndarray, max_shift: int, degrees: float, flip_p: float, erase_p: float,
            area: tuple[float, float], aspect: tuple[float, float]) -> Callable[[], Any]:
    """ferronet.augment's Compose of a shift, a rotation, a horizontal flip and random erasing on x
    (N, C, H, W), with torch alone: the parameters drawn with torch, the three motions multiplied into
    one matrix per image, ``F.affine_grid`` + ``F.grid_sample`` (bilinear, zeros outside,
    ``align_corners=True``: pixel centres at integers as in ferronet), then a masked fill."""
    tx = torch.from_numpy(x)
    n, _, h, w = x.shape
    cx, cy = (w - 1) / 2, (h - 1) / 2
    to_pixels = torch.tensor([[cx, 0, cx], [0, cy, cy], [0, 0, 1]], dtype=torch.float64)  # from [-1, 1]
    to_unit = torch.linalg.inv(to_pixels)
    rows, cols = torch.arange(h), torch.arange(w)
    log_aspect = (float(np.log(aspect[0])), float(np.log(aspect[1])))

    def run() -> torch.Tensor:
        shift = _pixel_maps(n)
        shift[:, :2, 2] = -torch.randint(-max_shift, max_shift + 1, (n, 2), dtype=torch.float64)
        t = torch.deg2rad((torch.rand(n, dtype=torch.float64) * 2 - 1) * degrees)
        cos, sin = torch.cos(t), torch.sin(t)
        turn = _pixel_maps(n)
        turn[:, 0, 0], turn[:, 0, 1], turn[:, 1, 0], turn[:, 1, 1] = cos, -sin, sin, cos
        turn[:, 0, 2], turn[:, 1, 2] = cx - cos * cx + sin * cy, cy - sin * cx - cos * cy
        flip = _pixel_maps(n)
        flipped = (torch.rand(n) < flip_p).double()
        flip[:, 0, 0], flip[:, 0, 2] = 1 - 2 * flipped, (w - 1) * flipped
        theta = (to_unit @ shift @ turn @ flip @ to_pixels)[:, :2].float()
        grid = F.affine_grid(theta, list(tx.shape), align_corners=True)
        out = F.grid_sample(tx, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        u = torch.rand(n, 5, dtype=torch.float64)
        pixels = (area[0] + u[:, 1] * (area[1] - area[0])) * (h * w)
        ratio = torch.exp(log_aspect[0] + u[:, 2] * (log_aspect[1] - log_aspect[0]))
        eh = torch.sqrt(pixels * ratio).round().clamp(1, h)
        ew = torch.sqrt(pixels / ratio).round().clamp(1, w)
        top, left = (u[:, 3] * (h - eh + 1)).floor(), (u[:, 4] * (w - ew + 1)).floor()
        chosen = (u[:, 0] < erase_p)[:, None]
        in_rows = (rows >= top[:, None]) & (rows < (top + eh)[:, None]) & chosen  # (N, H)
        in_cols = (cols >= left[:, None]) & (cols < (left + ew)[:, None])  # (N, W)
        return out.masked_fill_(in_rows[:, None, :, None] & in_cols[:, None, None, :], 0.0)

    return run


# ---------------------------------------------------------------------- networks and training


def mlp(sizes: list[int], seed: int) -> torch.nn.Module:
    """nn.Linear/ReLU layers of ``sizes`` (e.g. 784-100-100-10), no activation after the last."""
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def simple_convnet(seed: int) -> torch.nn.Module:
    """The book's SimpleConvNet: conv 30 5x5 / ReLU / max pool 2 / Linear 4320->100 / ReLU / Linear 100->10."""
    torch.manual_seed(seed)
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
                         nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))


def deep_convnet(seed: int) -> torch.nn.Module:
    """The book's DeepConvNet: 3x3 convs of 16,16 / pool / 32,32 (pads 1, 2) / pool / 64,64 / pool,
    Linear 1024->50 / ReLU / Dropout 0.5 / Linear 50->10 / Dropout 0.5."""
    torch.manual_seed(seed)
    nn = torch.nn
    layers: list[nn.Module] = []
    channels = [1, 16, 16, 32, 32, 64, 64]
    for i, pad in enumerate((1, 1, 1, 2, 1, 1)):
        layers += [nn.Conv2d(channels[i], channels[i + 1], 3, padding=pad), nn.ReLU()]
        if i % 2 == 1:
            layers.append(nn.MaxPool2d(2, 2))
    layers += [nn.Flatten(), nn.Linear(64 * 4 * 4, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10), nn.Dropout(0.5)]
    return nn.Sequential(*layers)


def adam_steps(model: torch.nn.Module, x: np.ndarray, t: np.ndarray, batch: int, lr: float,
               seed: int) -> Callable[[int], None]:
    """``run(n)``: n ``torch.optim.Adam`` steps of ``model`` (cross-entropy loss) on the next n mini-batches
    of x (N, ...) with labels t (N,), walking a permutation and starting a new one when it is used up."""
    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    tx = torch.from_numpy(x)
    tt = torch.from_numpy(t.astype(np.int64))
    gen = torch.Generator().manual_seed(seed)
    batches = -(-tx.shape[0] // batch)  # the last one may be partial
    perm, done = torch.randperm(tx.shape[0], generator=gen), 0

    def run(n_steps: int) -> None:
        nonlocal perm, done
        for _ in range(n_steps):
            if done == batches:
                perm, done = torch.randperm(tx.shape[0], generator=gen), 0
            idx = perm[done * batch:(done + 1) * batch]
            done += 1
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(tx[idx]), tt[idx])
            loss.backward()
            opt.step()

    return run


def inference(model: torch.nn.Module, x: np.ndarray, batch: int) -> Callable[[], Any]:
    """``run()``: softmax of ``model`` (eval mode, no autograd) on x (N, ...) in batches of ``batch``."""
    model.eval()
    tx = torch.from_numpy(x)

    def run() -> torch.Tensor:
        with torch.inference_mode():
            return torch.cat([torch.softmax(model(tx[i:i + batch]), dim=1) for i in range(0, len(tx), batch)])

    return run
