"""Bad input to any ferronet.ops function raises a clear Python exception,
identically on both backends; nothing aborts or returns garbage."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ferronet import ops

F32, F64 = np.float32, np.float64


def arr(shape, dtype=F64, fill=0.5):
    return np.full(shape, fill, dtype=dtype)


# (kernel name, args builder taking a dtype) for every kernel
def all_calls(dtype):
    x2 = arr((4, 3), dtype)
    return {
        "matmul": (x2, arr((3, 2), dtype)),
        "affine_forward": (x2, arr((3, 2), dtype), arr((2,), dtype)),
        "affine_backward": (arr((4, 2), dtype), x2, arr((3, 2), dtype)),
        "relu_forward": (x2,),
        "relu_backward": (x2, x2),
        "sigmoid_forward": (x2,),
        "sigmoid_backward": (x2, x2),
        "softmax": (x2,),
        "softmax_cross_entropy_forward": (x2, np.array([0, 1, 2, 0])),
        "softmax_cross_entropy_backward": (x2, np.array([0, 1, 2, 0])),
        "sgd_step": (x2.copy(), x2, 0.1),
        "momentum_step": (x2.copy(), x2, x2.copy(), 0.1, 0.9),
        "nesterov_step": (x2.copy(), x2, x2.copy(), 0.1, 0.9),
        "adagrad_step": (x2.copy(), x2, x2.copy(), 0.1),
        "rmsprop_step": (x2.copy(), x2, x2.copy(), 0.1, 0.99),
        "adadelta_step": (x2.copy(), x2, x2.copy(), x2.copy(), 1.0, 0.95, 1e-6),
        "adam_step": (x2.copy(), x2, x2.copy(), x2.copy(), 0.001, 0.9, 0.999, 1),
    }


def test_every_kernel_is_covered():
    assert set(all_calls(F64)) == set(ops.KERNELS)


@pytest.mark.parametrize("name", sorted(all_calls(F64)))
@pytest.mark.parametrize("bad_dtype", [np.int64, np.int32, np.float16, np.uint8])
def test_wrong_dtype_is_a_type_error(backend, name, bad_dtype):
    args = list(all_calls(F64)[name])
    args[0] = args[0].astype(bad_dtype)  # first array argument
    with pytest.raises(TypeError, match="float32|float64"):
        getattr(ops, name)(*args)


def second_float_array(args) -> int | None:
    for i, a in enumerate(args[1:], start=1):
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            return i
    return None


MIXABLE = sorted(name for name, args in all_calls(F64).items() if second_float_array(args))


@pytest.mark.parametrize("name", MIXABLE)
def test_mixed_precision_is_a_type_error(backend, name):
    args = list(all_calls(F64)[name])
    i = second_float_array(args)
    args[i] = args[i].astype(F32)
    with pytest.raises(TypeError, match="float32"):
        getattr(ops, name)(*args)


@pytest.mark.parametrize("name", ["relu_forward", "softmax", "matmul"])
def test_lists_are_rejected(backend, name):
    args = list(all_calls(F64)[name])
    args[0] = args[0].tolist()
    with pytest.raises(TypeError, match="ndarray"):
        getattr(ops, name)(*args)


def shapes_in(message: str) -> list[str]:
    return re.findall(r"\([0-9, ]*\)", message)


@pytest.mark.parametrize(
    "name, args, first, second",
    [
        ("matmul", (arr((4, 3)), arr((2, 5))), "(4, 3)", "(2, 5)"),
        ("affine_forward", (arr((4, 3)), arr((5, 2)), arr((2,))), "(4, 3)", "(5, 2)"),
        ("affine_backward", (arr((4, 9)), arr((4, 3)), arr((3, 2))), "(4, 2)", "(4, 9)"),
        ("relu_backward", (arr((4, 3)), arr((3, 4))), "(4, 3)", "(3, 4)"),
        ("sigmoid_backward", (arr((2,)), arr((3,))), "(2,)", "(3,)"),
        ("sgd_step", (arr((4, 3)), arr((4, 4)), 0.1), "(4, 3)", "(4, 4)"),
        ("adam_step", (arr((4,)), arr((4,)), arr((4,)), arr((5,)), 0.1, 0.9, 0.9, 1), "(4,)", "(5,)"),
        ("softmax_cross_entropy_forward", (arr((4, 3)), arr((4, 2))), "(4, 3)", "(4, 2)"),
    ],
)
def test_mismatched_shapes_name_both(backend, name, args, first, second):
    with pytest.raises(ValueError) as info:
        getattr(ops, name)(*args)
    found = shapes_in(str(info.value))
    assert first in found and second in found, str(info.value)


def test_affine_bias_shape(backend):
    with pytest.raises(ValueError, match=r"\(3,\)"):
        ops.affine_forward(arr((4, 3)), arr((3, 2)), arr((3,)))


def test_non_contiguous_inputs_are_handled(backend, rng):
    base = rng.standard_normal((6, 10))
    x = base[:, ::2]  # (6, 5), not contiguous
    assert not x.flags.c_contiguous
    np.testing.assert_allclose(ops.relu_forward(x), np.maximum(x, 0))
    np.testing.assert_allclose(ops.softmax(x.T), ops.softmax(np.ascontiguousarray(x.T)), rtol=1e-12)
    p = np.zeros(5)
    ops.sgd_step(p, base[0, ::2], 1.0)  # non-contiguous gradient is fine
    np.testing.assert_allclose(p, -base[0, ::2])


@pytest.mark.parametrize("name", ["sgd_step", "momentum_step", "adam_step"])
def test_in_place_arrays_must_be_contiguous_and_writeable(backend, name):
    args = list(all_calls(F64)[name])
    strided = np.zeros((4, 6))[:, ::2]
    with pytest.raises(ValueError, match="contiguous"):
        getattr(ops, name)(strided, *args[1:])
    frozen = args[0].copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        getattr(ops, name)(frozen, *args[1:])
    if len(args) > 3 and isinstance(args[2], np.ndarray):
        state = args[2].copy()
        state.flags.writeable = False
        with pytest.raises(ValueError, match="read-only"):
            getattr(ops, name)(args[0], args[1], state, *args[3:])


def test_matmul_out_is_checked(backend):
    a, b = arr((4, 3)), arr((3, 2))
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        ops.matmul(a, b, out=arr((2, 4)))
    with pytest.raises(TypeError):
        ops.matmul(a, b, out=arr((4, 2), F32))
    with pytest.raises(ValueError, match="contiguous"):
        ops.matmul(a, b, out=np.zeros((2, 4)).T)


@pytest.mark.parametrize("labels", [[0, 1, 3, 0], [-1, 0, 0, 0], [0, 1, 2, 255]])
@pytest.mark.parametrize("name", ["softmax_cross_entropy_forward", "softmax_cross_entropy_backward"])
def test_labels_out_of_range(backend, name, labels):
    with pytest.raises(ValueError, match="out of range"):
        getattr(ops, name)(arr((4, 3)), np.array(labels))


def test_labels_shape_and_dtype(backend):
    with pytest.raises(ValueError, match=r"\(4,\)"):
        ops.softmax_cross_entropy_forward(arr((4, 3)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integer"):
        ops.softmax_cross_entropy_forward(arr((4, 3)), np.array([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(TypeError):
        ops.softmax_cross_entropy_forward(arr((4, 3)), np.zeros((4, 3), dtype=F32))


def test_adam_step_count_must_be_positive(backend):
    args = list(all_calls(F64)["adam_step"])
    args[-1] = 0
    with pytest.raises(ValueError, match="t must be >= 1"):
        ops.adam_step(*args)


def test_wrong_rank(backend):
    with pytest.raises(ValueError, match="2-d"):
        ops.matmul(arr((4,)), arr((4, 2)))
    with pytest.raises(ValueError, match="2-d"):
        ops.affine_forward(arr((2, 2, 2)), arr((2, 2)), arr((2,)))
    with pytest.raises(ValueError, match="1-d or 2-d"):
        ops.softmax(arr((2, 2, 2)))


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_empty_logits(backend, shape):
    onehot = np.zeros(shape)
    with pytest.raises(ValueError, match="at least one row and one class"):
        ops.softmax_cross_entropy_forward(np.zeros(shape), onehot)


def test_empty_dimensions_are_fine(backend):
    assert ops.matmul(arr((0, 3)), arr((3, 2))).shape == (0, 2)
    np.testing.assert_array_equal(ops.matmul(arr((2, 0)), arr((0, 3))), np.zeros((2, 3)))
    dx, dW, db = ops.affine_backward(arr((0, 2)), arr((0, 3)), arr((3, 2)))
    assert dx.shape == (0, 3)
    np.testing.assert_array_equal(dW, np.zeros((3, 2)))
    np.testing.assert_array_equal(db, np.zeros(2))
