"""End-to-end benchmark cases: training the book's convolutional networks with Adam.

* ``simple_convnet``: one epoch of ``SimpleConvNet`` (conv 30 5x5 / ReLU / pool /
  affine 100 / ReLU / affine 10) over ``Sizes.convnet_samples`` images (N, 1, 28, 28);
* ``deep_convnet``: ``Sizes.deep_steps`` iterations of ``DeepConvNet`` (the
  report gives the time per step too).

The NumPy backend is slow on these, so it runs ``Sizes.numpy_steps`` of the
steps and its time is scaled up (labelled as extrapolated in the report).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

from ferronet.bench.cases import Case, Sizes, training_case
from ferronet.bench.training import DEEP_CONVNET, SIMPLE_CONVNET


def suite(sizes: Sizes, torch: ModuleType | None, use_real: bool) -> Iterator[Case]:
    """SimpleConvNet for an epoch, then DeepConvNet for ``sizes.deep_steps`` steps."""
    batch, (numpy_simple, numpy_deep) = sizes.convnet_batch, sizes.numpy_steps
    yield training_case("simple_convnet", "SimpleConvNet epoch (Adam)", SIMPLE_CONVNET,
                        samples=sizes.convnet_samples, batch=batch, steps=sizes.convnet_samples // batch,
                        repeats=sizes.epoch_repeats, torch=torch, use_real=use_real, numpy_steps=numpy_simple)
    yield training_case("deep_convnet", f"DeepConvNet {sizes.deep_steps} steps (Adam)", DEEP_CONVNET,
                        samples=sizes.deep_steps * batch, batch=batch, steps=sizes.deep_steps,
                        repeats=sizes.epoch_repeats, torch=torch, use_real=use_real, numpy_steps=numpy_deep)
