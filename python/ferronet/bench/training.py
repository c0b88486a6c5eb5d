"""What the end-to-end cases train: the networks (ferronet and their torch.nn twins), the data, Adam steps.

A :class:`Network` pairs a ferronet network with the ``torch.nn`` model of
the same layers and parameter shapes; :func:`adam_run` gives, for a
backend, ``run(n)``: n Adam (lr 0.001) steps on mini-batches of the data.
The training-epoch cases, the steps beside NumPy and the training
processes all train through here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

LR = 1e-3
IMAGE = (1, 28, 28)


@dataclass(frozen=True)
class Network:
    """A network the benchmark trains: ``build()`` the ferronet one (float32), ``torch_model(torch_impl)`` its twin."""

    name: str
    input_shape: tuple[int, ...]  #: per-sample shape, e.g. (784,) or (1, 28, 28)
    build: Callable[[], Any]
    torch_model: Callable[[ModuleType], Any]


def mlp(sizes: tuple[int, ...]) -> Network:
    """MultiLayerNet ``sizes[0]``-...-``sizes[-1]`` (ReLU) and its nn.Linear/ReLU twin."""
    from ferronet.networks import MultiLayerNet

    return Network(f"MLP {'-'.join(map(str, sizes))}", sizes[:1],
                   lambda: MultiLayerNet(sizes[0], list(sizes[1:-1]), sizes[-1], dtype=np.float32, seed=0),
                   lambda tm: tm.mlp(list(sizes), seed=0))


def _simple_convnet() -> Any:
    from ferronet.networks import SimpleConvNet

    return SimpleConvNet(input_dim=IMAGE, dtype=np.float32, seed=0)


def _deep_convnet() -> Any:
    from ferronet.networks import DeepConvNet

    return DeepConvNet(input_dim=IMAGE, dtype=np.float32, seed=0)


SIMPLE_CONVNET = Network("SimpleConvNet", IMAGE, _simple_convnet, lambda tm: tm.simple_convnet(seed=0))
DEEP_CONVNET = Network("DeepConvNet", IMAGE, _deep_convnet, lambda tm: tm.deep_convnet(seed=0))
#: the networks a training process (``bench/training_process.py``) can be asked for by name
BY_NAME = {"simple_convnet": SIMPLE_CONVNET, "deep_convnet": DEEP_CONVNET}


def uses_real_data(shape: tuple[int, ...], use_real: bool) -> bool:
    """Whether :func:`epoch_data` gives Fashion-MNIST: asked for, installed, and ``shape`` holds 784 values."""
    if not use_real or int(np.prod(shape)) != 784:
        return False
    from ferronet.datasets import fashion_mnist_available

    return fashion_mnist_available()


def epoch_data(samples: int, shape: tuple[int, ...], use_real: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """Training inputs float32 (samples, *shape) and uint8 labels (samples,), and the data's name.

    The real Fashion-MNIST training images when :func:`uses_real_data`, else
    uniform random data.
    """
    if uses_real_data(shape, use_real):
        from ferronet.datasets import load_fashion_mnist

        (x, t), _ = load_fashion_mnist()
        return x[:samples].reshape(-1, *shape), t[:samples], "Fashion-MNIST"
    rng = np.random.default_rng(7)
    return rng.random((samples, *shape), dtype=np.float32), rng.integers(0, 10, samples).astype(np.uint8), "random"


def adam_steps(net: Any, x: np.ndarray, t: np.ndarray, batch: int) -> Callable[[int], None]:
    """``run(n)``: n Adam (lr 0.001) steps of ``net`` on the next n mini-batches of x.

    The mini-batches walk a permutation of x; a new permutation starts when
    one is used up (an epoch), also in the middle of a call.
    """
    from ferronet.optimizers import Adam

    opt, rng = Adam(lr=LR), np.random.default_rng(8)
    batches = -(-x.shape[0] // batch)  # the last one may be partial
    perm, done = rng.permutation(x.shape[0]), 0

    def run(n_steps: int) -> None:
        nonlocal perm, done
        for _ in range(n_steps):
            if done == batches:
                perm, done = rng.permutation(x.shape[0]), 0
            idx = perm[done * batch:(done + 1) * batch]
            done += 1
            _, grads = net.loss_and_gradient(x[idx], t[idx])
            opt.update(net.params, grads)

    return run


def adam_run(network: Network, backend: str, x: np.ndarray, t: np.ndarray, batch: int,
             torch: ModuleType | None) -> Callable[[int], None]:
    """``run(n)`` training ``network`` for n steps: the ferronet network for "native"/"numpy"
    (the caller activates the backend), its torch.nn twin for "torch"."""
    if backend == "torch":
        if torch is None:
            raise ValueError("the torch backend needs ferronet.bench.torch_impl")
        return torch.adam_steps(network.torch_model(torch), x, t, batch, lr=LR, seed=0)
    return adam_steps(network.build(), x, t, batch)
