"""Learning-rate schedules (ferronet.schedules): values at known steps, use with any
optimizer and with the Trainer, bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ferronet import optimizers as O
from ferronet.networks import TwoLayerNet
from ferronet.schedules import CosineDecay, ExponentialDecay, LRSchedule, StepDecay
from ferronet.trainer import Trainer


def test_step_decay_values():
    s = StepDecay(step_size=3, gamma=0.5)
    assert [s(n) for n in range(8)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert StepDecay(10)(25) == pytest.approx(0.01)  # the default gamma is 0.1


def test_exponential_decay_values():
    s = ExponentialDecay(0.9)
    assert s(0) == 1.0
    assert s(1) == pytest.approx(0.9)
    assert s(10) == pytest.approx(0.9**10)
    assert s(10**6) == 0.0  # underflows quietly
    assert ExponentialDecay(1.0)(1000) == 1.0


def test_cosine_decay_with_warm_up_values():
    s = CosineDecay(total_steps=14, warmup_steps=4, min_factor=0.1)
    assert [s(n) for n in range(4)] == [0.25, 0.5, 0.75, 1.0]  # linear warm-up, the first step already moves
    assert s(4) == pytest.approx(1.0)  # the top of the cosine
    assert s(9) == pytest.approx(0.1 + 0.9 * 0.5)  # half way: the mean of 1 and min_factor
    assert s(13) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 9 / 10)))
    assert s(14) == s(1000) == 0.1
    values = [s(n) for n in range(4, 15)]
    assert all(a > b for a, b in zip(values, values[1:]))  # strictly decreasing after warm-up


def test_cosine_decay_without_warm_up():
    s = CosineDecay(total_steps=4)
    assert [s(n) for n in range(6)] == pytest.approx([1.0, 0.5 * (1 + math.cos(math.pi / 4)), 0.5,
                                                      0.5 * (1 + math.cos(3 * math.pi / 4)), 0.0, 0.0])


@pytest.mark.parametrize("make, error", [
    (lambda: StepDecay(0), ValueError), (lambda: StepDecay(2.5), TypeError), (lambda: StepDecay(True), TypeError),
    (lambda: StepDecay(2, gamma=0.0), ValueError), (lambda: StepDecay(2, gamma=1.5), ValueError),
    (lambda: StepDecay(2, gamma=float("nan")), ValueError), (lambda: StepDecay(2, gamma="0.1"), TypeError),
    (lambda: ExponentialDecay(-0.5), ValueError), (lambda: ExponentialDecay(float("inf")), ValueError),
    (lambda: CosineDecay(0), ValueError), (lambda: CosineDecay(10, warmup_steps=10), ValueError),
    (lambda: CosineDecay(10, warmup_steps=-1), ValueError), (lambda: CosineDecay(10, min_factor=1.5), ValueError),
    (lambda: CosineDecay(10, min_factor=-0.1), ValueError), (lambda: CosineDecay(10.0), TypeError),
])
def test_bad_schedule_arguments(make, error):
    with pytest.raises(error):
        make()


@pytest.mark.parametrize("step, error", [(-1, ValueError), (1.0, TypeError), ("2", TypeError), (None, TypeError)])
def test_steps_are_ints_from_zero(step, error):
    with pytest.raises(error, match="step"):
        StepDecay(2)(step)


@pytest.mark.parametrize("name", sorted(O.OPTIMIZERS))
def test_apply_scales_the_base_rate_of_any_optimizer(name):
    opt = O.get_optimizer(name, lr=0.2)
    s = StepDecay(step_size=2, gamma=0.5)
    rates = [s.apply(opt, n) for n in range(6)]
    assert rates == pytest.approx([0.2, 0.2, 0.1, 0.1, 0.05, 0.05])
    assert opt.lr == pytest.approx(0.05) and opt.initial_lr == 0.2  # the base never compounds
    assert s.apply(opt, 0) == pytest.approx(0.2)


def test_apply_works_with_the_books_own_optimizer_classes():
    class BookSGD:  # ch06/optimizer.py: a plain class with an lr attribute
        def __init__(self, lr=0.01):
            self.lr = lr

    opt = BookSGD(lr=1.0)
    CosineDecay(total_steps=2).apply(opt, 1)
    assert opt.lr == pytest.approx(0.5)


def test_repr_names_the_arguments():
    assert repr(CosineDecay(10, warmup_steps=2)) == "CosineDecay(total_steps=10, warmup_steps=2, min_factor=0.0)"
    assert isinstance(StepDecay(1), LRSchedule)


# ---------------------------------------------------------------- with the Trainer


class Recording(LRSchedule):
    """Records the steps the Trainer asks for; the rate halves each step."""

    def __init__(self):
        self.steps = []

    def factor(self, step):
        self.steps.append(step)
        return 0.5**step


def blobs(n, seed):
    gen = np.random.default_rng(seed)
    t = gen.integers(0, 3, size=n)
    return (4.0 * np.eye(3, 2)[t] + gen.standard_normal((n, 2))).astype(np.float32), t


@pytest.mark.parametrize("per, expected", [
    ("epoch", [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]),  # 35 samples, batches of 10: 4 updates per epoch
    ("iteration", list(range(12))),
])
def test_the_trainer_steps_the_schedule_per_epoch_or_per_iteration(backend, per, expected):
    x, t = blobs(35, 0)
    schedule = Recording()
    trainer = Trainer(TwoLayerNet(2, 8, 3, weight_init_std=0.5, seed=0), x, t, x, t, epochs=3, mini_batch_size=10,
                      optimizer="SGD", optimizer_param={"lr": 0.4}, verbose=False, seed=0,
                      lr_schedule=schedule, lr_schedule_per=per)
    lrs = []
    original = trainer.optimizer.update

    def spy(params, grads):
        lrs.append(trainer.optimizer.lr)
        original(params, grads)

    trainer.optimizer.update = spy
    trainer.train()
    assert schedule.steps == expected
    assert lrs == pytest.approx([0.4 * 0.5**n for n in expected])


def test_a_scheduled_run_learns(backend):
    x, t = blobs(200, 1)
    xt, tt = blobs(60, 2)
    trainer = Trainer(TwoLayerNet(2, 16, 3, weight_init_std="he", seed=0), x, t, xt, tt, epochs=6,
                      mini_batch_size=20, optimizer="AdamW", optimizer_param={"lr": 0.05}, verbose=False, seed=0,
                      lr_schedule=CosineDecay(total_steps=60, warmup_steps=10), lr_schedule_per="iteration")
    trainer.train()
    assert trainer.optimizer.lr == pytest.approx(0.05 * CosineDecay(60, 10)(59))
    assert trainer.final_test_acc > 0.9


def test_trainer_schedule_arguments_are_checked():
    x, t = blobs(10, 0)
    net = TwoLayerNet(2, 4, 3, seed=0)
    with pytest.raises(ValueError, match="lr_schedule_per"):
        Trainer(net, x, t, x, t, lr_schedule=StepDecay(1), lr_schedule_per="batch", verbose=False)
    with pytest.raises(TypeError, match="lr_schedule"):
        Trainer(net, x, t, x, t, lr_schedule=lambda n: 1.0, verbose=False)
