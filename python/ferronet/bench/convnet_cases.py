"""End-to-end benchmark cases: training the book's convolutional networks with Adam.

* ``simple_convnet``: one epoch of ``SimpleConvNet`` (conv 30 5x5 / ReLU / pool /
  affine 100 / ReLU / affine 10) over ``Sizes.convnet_samples`` images (N, 1, 28, 28);
* ``deep_convnet``: ``Sizes.deep_steps`` iterations of ``DeepConvNet``.

The NumPy backend is slow on these, so it runs ``Sizes.numpy_steps`` of the
steps and its time is scaled up (labelled as extrapolated in the report).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from ferronet.bench.cases import Case, Sizes, training_case

IMAGE = (1, 28, 28)


def _simple_convnet() -> Any:
    from ferronet.networks import SimpleConvNet

    return SimpleConvNet(input_dim=IMAGE, dtype=np.float32, seed=0)


def _deep_convnet() -> Any:
    from ferronet.networks import DeepConvNet

    return DeepConvNet(input_dim=IMAGE, dtype=np.float32, seed=0)


def suite(sizes: Sizes, torch: ModuleType | None, use_real: bool) -> Iterator[Case]:
    """SimpleConvNet for an epoch, then DeepConvNet for ``sizes.deep_steps`` steps."""
    batch, (numpy_simple, numpy_deep) = sizes.convnet_batch, sizes.numpy_steps
    yield training_case("simple_convnet", "SimpleConvNet epoch (Adam)", samples=sizes.convnet_samples, shape=IMAGE,
                        batch=batch, steps=sizes.convnet_samples // batch, repeats=sizes.epoch_repeats,
                        make_net=_simple_convnet, torch_model=lambda tm: tm.simple_convnet(seed=0), torch=torch,
                        use_real=use_real, numpy_steps=numpy_simple)
    yield training_case("deep_convnet", f"DeepConvNet {sizes.deep_steps} steps (Adam)",
                        samples=sizes.deep_steps * batch, shape=IMAGE, batch=batch, steps=sizes.deep_steps,
                        repeats=sizes.epoch_repeats, make_net=_deep_convnet,
                        torch_model=lambda tm: tm.deep_convnet(seed=0), torch=torch, use_real=use_real,
                        numpy_steps=numpy_deep)
