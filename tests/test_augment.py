"""ferronet.augment: exact identities of the warp, seeding, Compose, shapes and
dtypes, bad arguments, and training with augmentation (on every backend)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import ferronet
from ferronet import ops
from ferronet.augment import (Compose, RandomBrightnessContrast, RandomCrop, RandomErasing, RandomHorizontalFlip,
                              RandomRotation, RandomScale, RandomShift, matrices)

DTYPES = [np.float32, np.float64]


def images(shape=(6, 2, 9, 9), dtype=np.float64, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape).astype(dtype)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.view(f"u{a.itemsize}"),
                                                                        b.view(f"u{b.itemsize}"))


def warp(x: np.ndarray, maps: np.ndarray, fill: float = 0.0) -> np.ndarray:
    return ops.affine_warp(x, matrices.affine_rows(maps, x.dtype), fill)


# ---------------------------------------------------------------- exact identities of the warp


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_identity_matrix_returns_the_input(backend, dtype):
    x = images(dtype=dtype)
    x[0, 0, 1, :4] = [np.nan, np.inf, -np.inf, -0.0]
    assert same_bits(warp(x, matrices.identity(len(x)), fill=3.0), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dy, dx", [(0, 1), (2, -3), (-4, 0), (9, 9), (-1, -1)])
def test_integer_shifts_move_pixels_exactly(backend, dtype, dy, dx):
    """A shift by (dy, dx) is a crop of the image padded with the fill."""
    x, p = images(dtype=dtype), 9
    n, _, h, w = x.shape
    got = warp(x, matrices.shifts(np.full(n, float(dx)), np.full(n, float(dy))), fill=-2.0)
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-2.0)
    assert same_bits(got, padded[:, :, p - dy:p - dy + h, p - dx:p - dx + w])


def test_a_crop_with_padding_is_a_shift(backend):
    x = images()
    assert same_bits(RandomCrop(3, fill=0.5)(x, seed=4), RandomShift(3, fill=0.5)(x, seed=4))


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_flip_twice_is_the_identity(backend, dtype):
    x = images((5, 3, 4, 7), dtype)
    flip = RandomHorizontalFlip(p=1.0)
    once = flip(x, seed=0)
    assert same_bits(once, np.ascontiguousarray(x[..., ::-1]))
    assert same_bits(flip(once, seed=1), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [6, 7])
def test_quarter_turns_of_square_images_match_rot90(backend, dtype, size):
    """Pixel centres at integers and turns about ((W-1)/2, (H-1)/2): a quarter turn maps the grid onto itself."""
    x = images((3, 2, size, size), dtype)
    for degrees, k in [(90, 1), (-90, -1), (180, 2), (270, 3)]:
        assert same_bits(RandomRotation((degrees, degrees))(x, seed=0), np.ascontiguousarray(np.rot90(x, k, (2, 3))))
    # an angle a rounding away from 90 degrees samples a rounding away from the pixels
    nearly = warp(x, matrices.rotations(np.full(3, 90.0 + 1e-12), size, size))
    np.testing.assert_allclose(nearly, np.rot90(x, 1, (2, 3)), rtol=1e-9, atol=1e-9)


def test_rotations_and_scalings_keep_the_centre_pixel_of_an_odd_image(backend):
    x = images((4, 1, 9, 9))
    for aug in (RandomRotation(180), RandomScale((0.5, 2.0))):
        np.testing.assert_allclose(aug(x, seed=2)[:, :, 4, 4], x[:, :, 4, 4], rtol=1e-12, atol=1e-12)


def test_scaling_by_two_samples_halfway_between_pixels(backend):
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    zoomed = RandomScale((2.0, 2.0))(x, seed=0)
    # output (i, j) samples ((j - 1.5) / 2 + 1.5, (i - 1.5) / 2 + 1.5): pixel (1, 1) reads (1.25, 1.25)
    assert zoomed[0, 0, 1, 1] == pytest.approx(1.25 * 4 + 1.25)


# ---------------------------------------------------------------- seeding and backends


def every_transform():
    return [RandomShift(2), RandomCrop(2), RandomRotation(20), RandomScale(), RandomHorizontalFlip(),
            RandomBrightnessContrast(clip=(0, 1)), RandomErasing(p=0.8),
            Compose([RandomShift(2), RandomRotation(10), RandomHorizontalFlip(), RandomErasing()])]


@pytest.mark.parametrize("aug", every_transform(), ids=lambda a: type(a).__name__)
def test_seeding_reproduces_and_the_backends_agree(aug):
    x = images((8, 1, 12, 12), np.float32)
    with ferronet.use_backend("numpy"):
        want = aug(x, seed=5)
    for backend in ([] if not ferronet.native_available() else ["native"]) + ["numpy"]:
        with ferronet.use_backend(backend):
            assert same_bits(aug(x, seed=5), want), backend
            assert same_bits(aug(x, np.random.default_rng(5)), want), backend
    assert not same_bits(aug(x, seed=6), want)


def test_without_a_seed_numpys_global_generator_is_used(backend):
    x, aug = images(), RandomRotation(30)
    np.random.seed(3)
    first = aug(x)
    np.random.seed(3)
    assert same_bits(aug(x), first)


def test_transforms_draw_from_the_generator_they_are_given(backend):
    x = images()
    rng = np.random.default_rng(9)
    a = RandomShift(3)(x, rng)
    b = RandomShift(3)(x, rng)  # the generator moved on
    assert not same_bits(a, b)
    rng = np.random.default_rng(9)
    assert same_bits(RandomShift(3)(x, rng), a)


# ---------------------------------------------------------------- Compose


def test_compose_applies_transforms_in_order(backend):
    x = images((3, 1, 6, 6))
    turn, flip = RandomRotation((90, 90)), RandomHorizontalFlip(p=1.0)
    assert same_bits(Compose([turn, flip])(x, seed=0), np.ascontiguousarray(np.rot90(x, 1, (2, 3))[..., ::-1]))
    assert same_bits(Compose([flip, turn])(x, seed=0), np.ascontiguousarray(np.rot90(x[..., ::-1], 1, (2, 3))))


def test_compose_draws_in_order_like_one_call_after_another(backend):
    """Shifts, flips and erasing are exact, so the fused warp equals one transform after another."""
    x = images((10, 2, 8, 8))
    steps = [RandomShift(3), RandomHorizontalFlip(), RandomErasing(p=0.7, value=-1.0), RandomCrop(1),
             RandomHorizontalFlip(), RandomBrightnessContrast()]
    rng = np.random.default_rng(11)
    one_by_one = x
    for step in steps:
        one_by_one = step(one_by_one, rng)
    assert same_bits(Compose(steps)(x, seed=11), one_by_one)


def test_consecutive_geometric_transforms_resample_once(backend):
    x = images((4, 1, 10, 10))
    there_and_back = Compose([RandomRotation((30, 30)), RandomShift(0), RandomRotation((-30, -30))])
    np.testing.assert_allclose(there_and_back(x, seed=0), x, rtol=1e-12, atol=1e-12)
    twice = RandomRotation((-30, -30))(RandomRotation((30, 30))(x, seed=0), seed=0)
    assert np.abs(twice - x).max() > 0.1  # resampled twice: blurred, corners lost


def test_compose_does_not_fuse_across_a_change_of_fill(backend):
    x = images((5, 1, 7, 7))
    steps = [RandomShift(2, fill=1.0), RandomShift(2, fill=0.0)]
    rng = np.random.default_rng(2)
    want = steps[1](steps[0](x, rng), rng)
    assert same_bits(Compose(steps)(x, seed=2), want)


def test_compose_takes_plain_functions_and_nests(backend):
    x = images((4, 1, 5, 5))
    x_before = x.copy()

    def negate(batch, rng):
        batch *= -1  # plain functions may work in place on what they are given
        return batch

    aug = Compose([RandomHorizontalFlip(p=1.0), negate, Compose([negate, RandomHorizontalFlip(p=1.0)])])
    assert same_bits(aug(x, seed=0), x)
    assert same_bits(x, x_before)
    assert same_bits(Compose([negate])(x, seed=0), -x)
    assert "negate" in repr(aug)
    with pytest.raises(ValueError, match="shape and dtype"):
        Compose([lambda b, rng: b[:2]])(x, seed=0)
    with pytest.raises(ValueError, match="float32"):
        Compose([lambda b, rng: b.astype(np.float32)])(x, seed=0)
    with pytest.raises(TypeError):
        Compose([RandomShift(1), "flip"])


def test_an_empty_compose_copies(backend):
    x = images()
    out = Compose([])(x, seed=0)
    assert same_bits(out, x) and not np.shares_memory(out, x)


# ---------------------------------------------------------------- shapes, dtypes, the input


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("aug", every_transform(), ids=lambda a: type(a).__name__)
def test_shape_and_dtype_are_kept_and_the_input_is_untouched(backend, aug, dtype):
    x = images((7, 3, 10, 11), dtype)
    x_before = x.copy()
    out = aug(x, seed=1)
    assert out.shape == x.shape and out.dtype == dtype
    assert not np.shares_memory(out, x)
    assert same_bits(x, x_before)
    assert aug(x[:0], seed=1).shape == (0, 3, 10, 11)


@pytest.mark.parametrize("aug", every_transform(), ids=lambda a: type(a).__name__)
def test_flat_batches_with_an_image_shape(backend, aug):
    x = images((6, 2, 5, 5), np.float32)
    aug.image_shape = (2, 5, 5)
    flat = aug(x.reshape(6, -1), seed=3)
    assert flat.shape == (6, 50) and flat.dtype == np.float32
    assert same_bits(flat.reshape(x.shape), aug(x, seed=3))


def test_non_contiguous_batches(backend):
    base = images((6, 9, 9, 2))
    x = base.transpose(0, 3, 1, 2)  # (6, 2, 9, 9), not contiguous
    aug = Compose([RandomRotation(20), RandomErasing(p=1.0), RandomBrightnessContrast()])
    assert same_bits(aug(x, seed=0), aug(np.ascontiguousarray(x), seed=0))


# ---------------------------------------------------------------- erasing, brightness and contrast


def test_erasing_sets_one_rectangle_per_chosen_image(backend):
    x = images((200, 2, 16, 16)) + 1.0  # no zeros of its own
    out = RandomErasing(p=0.5, area=(0.05, 0.2), value=0.0)(x, seed=0)
    erased = out == 0
    assert (erased[:, 0] == erased[:, 1]).all()  # every channel alike
    counts = erased[:, 0].sum(axis=(1, 2))
    chosen = counts > 0
    assert 70 < chosen.sum() < 130
    for mask in erased[chosen, 0]:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert mask.sum() == len(rows) * len(cols)  # a filled rectangle
        assert np.ptp(rows) + 1 == len(rows) and np.ptp(cols) + 1 == len(cols)
    assert 0.03 * 256 < counts[chosen].mean() < 0.25 * 256
    assert same_bits(out[~chosen], x[~chosen])
    assert same_bits(RandomErasing(p=0.0)(x, seed=0), x)


def test_brightness_and_contrast(backend):
    x = images((50, 1, 6, 6))
    brighter = RandomBrightnessContrast(brightness=0.3, contrast=0.0)(x, seed=0)
    shift = (brighter - x).reshape(50, -1)
    np.testing.assert_allclose(shift, shift[:, :1].repeat(36, axis=1), atol=1e-12)  # one offset per image
    assert np.abs(shift[:, 0]).max() <= 0.3 and shift[:, 0].std() > 0.05
    contrasted = RandomBrightnessContrast(brightness=0.0, contrast=0.5)(x, seed=0)
    np.testing.assert_allclose(contrasted.mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)), atol=1e-12)
    clipped = RandomBrightnessContrast(brightness=(0.8, 0.9), clip=(0.0, 1.0))(x, seed=0)
    assert clipped.max() == 1.0 and clipped.min() >= 0.0


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("aug", every_transform(), ids=lambda a: type(a).__name__)
def test_bad_batches(backend, aug):
    with pytest.raises(TypeError, match="float32 or float64"):
        aug(np.zeros((2, 1, 4, 4), np.uint8), seed=0)
    with pytest.raises(TypeError, match="ndarray"):
        aug([[0.5] * 4] * 2, seed=0)
    with pytest.raises(ValueError, match=r"\(2, 4, 4\).*image_shape"):
        aug(np.zeros((2, 4, 4)), seed=0)
    with pytest.raises(ValueError, match=r"\(2, 16\)"):
        aug(np.zeros((2, 16)), seed=0)
    with pytest.raises(TypeError, match="Generator"):
        aug(np.zeros((2, 1, 4, 4)), 0)
    with pytest.raises(TypeError, match="not both"):
        aug(np.zeros((2, 1, 4, 4)), np.random.default_rng(0), seed=0)


def test_flat_batches_must_match_the_image_shape():
    aug = RandomShift(1, image_shape=(1, 4, 4))
    with pytest.raises(ValueError, match=r"\(2, 15\).*\(1, 4, 4\)"):
        aug(np.zeros((2, 15)), seed=0)
    assert RandomShift(1, image_shape=(4, 4)).image_shape == (1, 4, 4)
    for bad in [(0, 4, 4), (4,), "28x28"]:
        with pytest.raises(ValueError):
            RandomShift(1, image_shape=bad)


@pytest.mark.parametrize("make, error", [
    (lambda: RandomShift(-1), ValueError),
    (lambda: RandomShift(1.5), TypeError),
    (lambda: RandomShift((1, 2, 3)), ValueError),
    (lambda: RandomShift(2, fill=float("nan")), ValueError),
    (lambda: RandomRotation(float("nan")), ValueError),
    (lambda: RandomRotation(-5), ValueError),
    (lambda: RandomRotation((10, -10)), ValueError),
    (lambda: RandomRotation("15"), TypeError),
    (lambda: RandomRotation(15, fill=float("inf")), ValueError),
    (lambda: RandomScale((0.0, 1.0)), ValueError),
    (lambda: RandomScale(1.1), ValueError),
    (lambda: RandomScale((1.0, float("inf"))), ValueError),
    (lambda: RandomHorizontalFlip(1.5), ValueError),
    (lambda: RandomHorizontalFlip(float("nan")), ValueError),
    (lambda: RandomHorizontalFlip(True), TypeError),
    (lambda: RandomErasing(p=-0.1), ValueError),
    (lambda: RandomErasing(area=(0.1, 1.5)), ValueError),
    (lambda: RandomErasing(aspect=(0.0, 2.0)), ValueError),
    (lambda: RandomErasing(value=float("nan")), ValueError),
    (lambda: RandomBrightnessContrast(contrast=1.5), ValueError),
    (lambda: RandomBrightnessContrast(brightness=float("nan")), ValueError),
    (lambda: RandomBrightnessContrast(clip=(1.0, 0.0)), ValueError),
])
def test_bad_parameters(make, error):
    with pytest.raises(error):
        make()


# ---------------------------------------------------------------- training with augmentation


def small_data(n=40):
    gen = np.random.default_rng(0)
    x = gen.random((n, 1, 8, 8)).astype(np.float32)
    t = (x[:, 0, :4].mean(axis=(1, 2)) > x[:, 0, 4:].mean(axis=(1, 2))).astype(np.int64)
    return x, t


def small_net():
    from ferronet.networks import SimpleConvNet

    return SimpleConvNet(input_dim=(1, 8, 8), conv_param={"filter_num": 4, "filter_size": 3, "pad": 1, "stride": 1},
                         hidden_size=8, output_size=2, dtype=np.float32, seed=0)


AUGMENT = Compose([RandomShift(1), RandomRotation(10), RandomHorizontalFlip(), RandomErasing(p=0.3)])


def test_the_augment_protocol_in_a_training_loop(backend):
    """The protocol by hand: what a trainer does each step, reproducible from its generator."""
    from ferronet.optimizers import Adam

    x, t = small_data()
    runs = []
    for _ in range(2):
        net, opt, rng = small_net(), Adam(lr=0.01), np.random.default_rng(0)
        losses = []
        for _ in range(4):
            idx = rng.permutation(len(x))[:10]
            batch = AUGMENT(x[idx], rng)
            grads = net.gradient(batch, t[idx])
            opt.update(net.params, grads)
            losses.append(float(net.loss(batch, t[idx])))
        runs.append(losses)
    assert runs[0] == runs[1] and np.isfinite(runs[0]).all()


@pytest.mark.skipif("augment" not in inspect.signature(__import__("ferronet.trainer").trainer.Trainer).parameters,
                    reason="this Trainer has no augment= yet")
def test_trainer_with_augment(backend):
    from ferronet.trainer import Trainer

    x, t = small_data()
    runs = []
    for aug in (AUGMENT, AUGMENT, None):
        trainer = Trainer(small_net(), x, t, x, t, epochs=2, mini_batch_size=10, optimizer="Adam",
                          optimizer_param={"lr": 0.01}, verbose=False, seed=0, augment=aug)
        trainer.train()
        runs.append(trainer.train_loss_list)
    assert runs[0] == runs[1] != runs[2]
