"""The benchmark cases: what is timed, on which inputs, and how much work one call is.

A :class:`Case` builds, for a backend name (``"native"``, ``"numpy"`` or
``"torch"``), a zero-argument callable doing the case's work once.  Every
array is float32 unless a case says otherwise.  The ferronet backends go
through ``ferronet.ops`` (the runner activates the backend around each
timing sample).  A :class:`Bundle` of cases is timed together, their
samples interleaved, when the report compares them with one another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ferronet import ops
from ferronet.augment import Compose, RandomErasing, RandomHorizontalFlip, RandomRotation, RandomShift
from ferronet.bench.training import IMAGE, Network, adam_run, epoch_data, mlp
from ferronet.layers import loss_layer

F32 = np.float32
FERRONET_BACKENDS = ("native", "numpy")


@dataclass(frozen=True)
class Sizes:
    """Problem sizes and timing budget of one suite (full or ``--quick``)."""

    matmul: tuple[int, ...]
    softmax: tuple[tuple[int, int], ...]
    optimizer: tuple[int, ...]
    activation: int
    copy: int
    epoch_samples: int
    repeats: int
    min_time: float  # seconds per timing sample
    epoch_repeats: int  #: samples of the training runs (epochs, DeepConvNet's steps)
    batch: int = 100
    net: tuple[int, ...] = (784, 100, 100, 10)
    conv_batch: int = 100  #: batch of the convolution, pooling and BatchNorm kernel cases
    convnet_batch: int = 100  #: mini-batch of the SimpleConvNet / DeepConvNet cases
    convnet_samples: int = 60000  #: SimpleConvNet: one epoch over this many images
    deep_steps: int = 50  #: DeepConvNet: training iterations timed
    #: NumPy backend: steps actually timed (SimpleConvNet, DeepConvNet), the time then scaled to the full count
    numpy_steps: tuple[int, int] = (60, 10)
    beside_period: int = 10  #: beside NumPy: training steps per NumPy matmul (one timed call)
    beside_matmul: int = 256  #: beside NumPy: the NumPy matmul is (n x n) @ (n x n) float32
    together_min_time: float = 0.25  #: seconds per sample of the cases timed against one another
    #: beside NumPy: seconds each function runs untimed before each sample (twice OpenBLAS's ~0.1 s spin)
    beside_settle: float = 0.2
    #: beside NumPy: samples per function (more than ``repeats``: a sample of these steps varied by 10-30% from
    #: the next on the shared machine, and the target compares two medians with a 15% margin)
    beside_repeats: int = 15
    process_steps: int = 20  #: two processes: SimpleConvNet steps per process and release
    process_repeats: int = 5  #: two processes: releases timed per variant
    update_net: tuple[int, int, int] = (784, 50, 10)  #: optimizer update: TwoLayerNet sizes (float64)
    loss: tuple[int, int] = (1000, 1000)  #: the loss layers' scores (N, K)
    inference_images: int = 10000  #: inference: test images predicted per call
    inference_batch: int = 1000  #: inference: images per batch
    inference_repeats: int = 3  #: inference: samples per backend


FULL = Sizes(matmul=(64, 128, 256, 512, 1024, 2048), softmax=((100, 10), (1000, 1000)),
             optimizer=(10**6, 10**7), activation=10**7, copy=25 * 10**6, epoch_samples=60000,
             repeats=7, min_time=0.05, epoch_repeats=2)
QUICK = Sizes(matmul=(64, 128), softmax=((100, 10), (200, 200)), optimizer=(10**5,), activation=10**5,
              copy=10**6, epoch_samples=1000, repeats=3, min_time=0.002, epoch_repeats=2,
              conv_batch=4, convnet_batch=20, convnet_samples=100, deep_steps=2, numpy_steps=(2, 1),
              beside_period=2, beside_matmul=32, beside_settle=0.002, beside_repeats=3, together_min_time=0.002,
              process_steps=2, process_repeats=2,
              update_net=(20, 5, 3), loss=(200, 200), inference_images=20, inference_batch=10, inference_repeats=2)


@dataclass
class Built:
    """A timed callable, with an optional cheaper warm-up and a note for the report.

    ``scale`` != 1 marks an extrapolation: ``fn`` does 1/scale of the case's
    work and its times are multiplied by ``scale`` (the report says so).
    """

    fn: Callable[[], Any]
    warmup: Callable[[], Any] | None = None
    note: str | None = None
    scale: float = 1.0
    close: Callable[[], Any] | None = None  #: run once after timing (e.g. ends helper processes)


@dataclass(frozen=True)
class Load:
    """Other work each call of a case does besides the case's own: the user's NumPy code beside the steps.

    The runner times ``fn`` alone in the same interleaved samples; the report
    takes ``calls`` times its median off the case's time before dividing by
    the steps, so whatever the load costs beyond its own time counts
    against the steps.
    """

    what: str
    fn: Callable[[], Any]
    calls: int = 1  #: calls of ``fn`` per call of the case


@dataclass
class Case:
    group: str  #: family, e.g. "matmul", "adam"
    label: str  #: unique row name
    shape: str  #: human-readable problem shape
    build: Callable[[str], Built | None]  #: backend -> callable, None when not applicable
    unit: str | None = None  #: "GFLOP/s" or "GB/s" for the rate column
    work: float = 0.0  #: FLOPs or bytes per call
    steps: int | None = None  #: report seconds per step too (time / steps)
    number: int | None = None  #: fixed inner-loop count (else calibrated)
    repeats: int | None = None  #: override of Sizes.repeats
    min_time: float | None = None  #: override of Sizes.min_time
    load: Load | None = None  #: work besides the case's, timed alone as well (see Load)
    #: seconds each function runs untimed before each of its samples (``timing.compare``'s ``settle``)
    settle: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    #: backends besides the run's (native, numpy, torch) that this case's build() knows, e.g. "onnxruntime"
    extra_backends: tuple[str, ...] = ()
    #: False when its native work runs in processes of its own, at the thread count they were started with
    #: (so ``ferronet.set_num_threads`` in the benchmark process does not govern it); its ``build`` then gets
    #: the backend with the thread count to start them at when the timing names one (``"native@1"``)
    in_process: bool = True


@dataclass(frozen=True)
class Bundle:
    """Cases timed together: their samples interleave in one comparison, so that the ratios
    between them (e.g. a step beside NumPy against the same step alone) see the same machine.
    They share the first case's ``number``, ``repeats``, ``min_time`` and ``settle``."""

    cases: tuple[Case, ...]


def seeded(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape, dtype=F32)


# ---------------------------------------------------------------------- dense algebra


def matmul_case(m: int, k: int, n: int, torch: ModuleType | None, *, trans_a: bool = False,
                trans_b: bool = False, label: str, shape: str) -> Case:
    rng = seeded(1)
    a = normal(rng, *((k, m) if trans_a else (m, k)))
    b = normal(rng, *((n, k) if trans_b else (k, n)))

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.matmul(a, b, trans_a, trans_b)) if torch else None
        return Built(lambda: ops.matmul(a, b, trans_a=trans_a, trans_b=trans_b))

    return Case("matmul", label, shape, build, "GFLOP/s", 2.0 * m * k * n)


def affine_case(batch: int, d_in: int, d_out: int, torch: ModuleType | None) -> Case:
    rng = seeded(2)
    x, W = normal(rng, batch, d_in), normal(rng, d_in, d_out) * F32(0.05)
    b, dout = normal(rng, d_out), normal(rng, batch, d_out)

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.affine_fwd_bwd(x, W, b, dout)) if torch else None

        def run() -> None:
            ops.affine_forward(x, W, b)
            ops.affine_backward(dout, x, W)

        return Built(run)

    return Case("affine", f"affine fwd+bwd {d_in}->{d_out}", f"batch {batch}, {d_in}->{d_out}", build,
                "GFLOP/s", 3 * 2.0 * batch * d_in * d_out)


def softmax_ce_case(n: int, c: int, torch: ModuleType | None) -> Case:
    rng = seeded(3)
    x = normal(rng, n, c) * F32(3)
    t = rng.integers(0, c, size=n).astype(np.int64)

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.softmax_ce_fwd_bwd(x, t)) if torch else None

        def run() -> None:
            _, y = ops.softmax_cross_entropy_forward(x, t)
            ops.softmax_cross_entropy_backward(y, t)

        return Built(run)

    # read x, write y, read y, write dx
    return Case("softmax_ce", f"softmax-CE fwd+bwd {n}x{c}", f"{n}x{c}, int labels", build,
                "GB/s", 16.0 * n * c)


#: the fused loss layers timed in group "loss": name -> (targets, bytes moved per element)
LOSS_LAYERS = {
    "mse": ("float32 values", 20),  # forward reads x, t; backward reads x, t, writes dx
    "l1": ("float32 values", 20),
    "huber": ("float32 values, delta 1", 20),
    "sigmoid_bce": ("0/1 labels (float32)", 20),
    "kl_div": ("distributions (float32)", 24),  # forward reads x, t, writes y; backward reads y, t, writes dx
}


def loss_targets(name: str, rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """float32 targets (N, K) for the loss ``name``: values, 0/1 labels or distributions."""
    if name == "sigmoid_bce":
        return rng.integers(0, 2, size=(n, k)).astype(F32)
    if name == "kl_div":
        t = rng.uniform(size=(n, k))
        return (t / t.sum(axis=1, keepdims=True)).astype(F32)
    return normal(rng, n, k) * F32(3)


def loss_case(name: str, n: int, k: int, torch: ModuleType | None) -> Case:
    """The loss layer ``name`` (``ferronet.layers.LOSSES``): ``forward(x, t)`` then ``backward()``."""
    rng = seeded(7)
    x = normal(rng, n, k) * F32(3)
    t = loss_targets(name, rng, n, k)
    what, bytes_per_element = LOSS_LAYERS[name]

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(torch.loss_fwd_bwd(name, x, t)) if torch else None
        layer = loss_layer(name)()

        def run() -> None:
            layer.forward(x, t)
            layer.backward()

        return Built(run)

    return Case("loss", f"{loss_layer(name).__name__} fwd+bwd {n}x{k}", f"{n}x{k}, {what}", build,
                "GB/s", float(bytes_per_element * n * k))


# ---------------------------------------------------------------------- optimizer steps and activations


def optimizer_case(kind: str, n: int, torch: ModuleType | None) -> Case:
    rng = seeded(4)
    param, grad = normal(rng, n), normal(rng, n) * F32(0.01)
    m, v = np.zeros(n, F32), np.zeros(n, F32)
    bytes_per_param = {"adam": 28, "sgd": 12}[kind]

    def build(backend: str) -> Built | None:
        if backend == "torch":
            if torch is None:
                return None
            fn, variant = (torch.adam_step if kind == "adam" else torch.sgd_step)(param, grad, 1e-3)
            return Built(fn, note=f"torch.optim.{'Adam' if kind == 'adam' else 'SGD'} ({variant})")
        if kind == "adam":
            return Built(lambda: ops.adam_step(param, grad, m, v, 1e-3, 0.9, 0.999, 10))
        return Built(lambda: ops.sgd_step(param, grad, 1e-3))

    name = "Adam" if kind == "adam" else "SGD"
    return Case(kind, f"{name} step {n:.0e}".replace("e+0", "e"), f"{n:,} float32 params", build,
                "GB/s", float(bytes_per_param * n), info={"bytes_per_param": bytes_per_param})


def activation_case(kind: str, n: int, torch: ModuleType | None) -> Case:
    x = normal(seeded(5), n) * F32(4)

    def build(backend: str) -> Built | None:
        if backend == "torch":
            return Built(getattr(torch, kind)(x)) if torch else None
        fn = ops.relu_forward if kind == "relu" else ops.sigmoid_forward
        return Built(lambda: fn(x))

    return Case(kind, f"{kind.capitalize()} fwd {n:.0e}".replace("e+0", "e"), f"{n:,} float32", build,
                "GB/s", 8.0 * n)


def copy_case(n: int) -> Case:
    """The memory-bandwidth reference: ``np.copyto`` of n float32 (read + write counted)."""
    src, dst = normal(seeded(6), n), np.empty(n, F32)

    def build(backend: str) -> Built | None:
        return Built(lambda: np.copyto(dst, src)) if backend == "numpy" else None

    return Case("copy", f"copy (np.copyto) {n:.1e}".replace("e+0", "e"), f"{n:,} float32", build, "GB/s", 8.0 * n)


# ---------------------------------------------------------------------- whole training runs


def training_case(group: str, label: str, network: Network, *, samples: int, batch: int, steps: int,
                  repeats: int, torch: ModuleType | None, use_real: bool, numpy_steps: int | None = None) -> Case:
    """``steps`` Adam steps (lr 0.001, batch ``batch``) of ``network`` on ``samples`` inputs.

    The NumPy backend runs only ``numpy_steps`` of the steps (when given)
    and its time is scaled up to ``steps``: an extrapolation, noted in the
    report.
    """
    x, t, source = epoch_data(samples, network.input_shape, use_real)

    def build(backend: str) -> Built | None:
        if backend == "torch" and torch is None:
            return None
        run = adam_run(network, backend, x, t, batch, torch)
        timed = min(steps, numpy_steps or steps) if backend == "numpy" else steps
        note = None
        if timed < steps:
            note = f"timed {timed} of the {steps} steps, time scaled by {steps / timed:g} (extrapolated)"
        return Built(lambda: run(timed), warmup=lambda: run(min(timed, 3)), note=note, scale=steps / timed)

    return Case(group, label, f"{samples} samples ({source}), batch {batch}, {steps} steps", build, steps=steps,
                number=1, repeats=repeats, info={"data": source})


def epoch_case(sizes: Sizes, torch: ModuleType | None, use_real: bool) -> Case:
    """One epoch of MultiLayerNet (``sizes.net``) over ``sizes.epoch_samples`` flattened images."""
    network = mlp(sizes.net)
    return training_case("mlp_epoch", f"{network.name} epoch (Adam)", network, samples=sizes.epoch_samples,
                         batch=sizes.batch, steps=sizes.epoch_samples // sizes.batch, repeats=sizes.epoch_repeats,
                         torch=torch, use_real=use_real)


# ---------------------------------------------------------------------- data augmentation

#: the typical Compose timed by ``augment_case``: (max shift, degrees, flip p, erasing p, area, aspect)
AUGMENT = (2, 10.0, 0.5, 0.5, (0.02, 0.33), (0.3, 3.3))


def augment_case(n: int, torch: ModuleType | None, use_real: bool) -> Case:
    """n Fashion-MNIST images (n, 1, 28, 28) through ``Compose([RandomShift, RandomRotation,
    RandomHorizontalFlip, RandomErasing])`` (``AUGMENT``), a new generator state each call."""
    x, _, source = epoch_data(n, IMAGE, use_real)
    shift, degrees, flip_p, erase_p, area, aspect = AUGMENT
    compose = Compose([RandomShift(shift), RandomRotation(degrees), RandomHorizontalFlip(flip_p),
                       RandomErasing(erase_p, area, aspect)])

    def build(backend: str) -> Built | None:
        if backend == "torch":
            if torch is None:
                return None
            return Built(torch.augment(x, *AUGMENT), note="torch.rand draws, F.affine_grid + F.grid_sample, "
                                                          "masked_fill_ erasing")
        rng = seeded(12)
        return Built(lambda: compose(x, rng))

    return Case("augment", "augment Compose (shift, rotation, flip, erasing)",
                f"({n}, 1, 28, 28) ({source}); shift {shift}, {degrees:g} deg, flip {flip_p}, erasing {erase_p}",
                build, info={"data": source})


# ---------------------------------------------------------------------- the suite


def suite(sizes: Sizes, torch: ModuleType | None, use_real_data: bool = True,
          threads: int = 1) -> Iterator[Case | Bundle]:
    """Every case in report order (built lazily, so big arrays live one case at a time).

    ``threads`` is the run's thread count, for the cases that start processes of their own.
    """
    yield copy_case(sizes.copy)
    for s in sizes.matmul:
        yield matmul_case(s, s, s, torch, label=f"matmul {s}", shape=f"{s}x{s} @ {s}x{s}")
    b, d, h = sizes.batch, sizes.net[0], sizes.net[1]
    yield matmul_case(b, d, h, torch, label="matmul net fwd", shape=f"x {b}x{d} @ W {d}x{h}")
    yield matmul_case(b, h, d, torch, trans_b=True, label="matmul net dx (trans_b)",
                      shape=f"dout {b}x{h} @ W.T (W {d}x{h})")
    yield matmul_case(d, b, h, torch, trans_a=True, label="matmul net dW (trans_a)",
                      shape=f"x.T @ dout (x {b}x{d}, dout {b}x{h})")
    yield affine_case(b, d, h, torch)
    for n, c in sizes.softmax:
        yield softmax_ce_case(n, c, torch)
    for name in LOSS_LAYERS:
        yield loss_case(name, *sizes.loss, torch)
    for kind in ("adam", "sgd"):
        for n in sizes.optimizer:
            yield optimizer_case(kind, n, torch)
    # the modules below build on this one (imported here: no import cycle)
    from ferronet.bench import (activation_cases, beside_cases, conv_cases, convnet_cases, inference_cases,
                                process_cases, update_cases)

    yield from update_cases.suite(sizes)
    for kind in ("relu", "sigmoid"):
        yield activation_case(kind, sizes.activation, torch)
    yield from activation_cases.suite(sizes, torch)
    yield epoch_case(sizes, torch, use_real_data)
    yield from conv_cases.suite(sizes, torch)
    yield from convnet_cases.suite(sizes, torch, use_real_data)
    yield augment_case(sizes.convnet_batch, torch, use_real_data)
    yield from beside_cases.suite(sizes, torch, use_real_data)
    yield from process_cases.suite(sizes, threads, torch, use_real_data)
    yield from inference_cases.suite(sizes, threads, torch, use_real_data)
