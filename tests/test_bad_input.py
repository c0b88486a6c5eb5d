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
        **activation_calls(dtype),
        "softmax": (x2,),
        "softmax_cross_entropy_forward": (x2, np.array([0, 1, 2, 0])),
        "softmax_cross_entropy_backward": (x2, np.array([0, 1, 2, 0])),
        "kl_div_forward": (x2, x2.copy()),  # 0.5 everywhere: valid probabilities
        "kl_div_backward": (x2, x2.copy()),
        "mse_forward": (x2, x2.copy()),
        "mse_backward": (x2, x2.copy()),
        "l1_forward": (x2, x2.copy()),
        "l1_backward": (x2, x2.copy()),
        "huber_forward": (x2, x2.copy()),
        "huber_backward": (x2, x2.copy()),
        "sigmoid_bce_forward": (x2, x2.copy()),
        "sigmoid_bce_backward": (x2, x2.copy()),
        "sgd_step": (x2.copy(), x2, 0.1),
        "momentum_step": (x2.copy(), x2, x2.copy(), 0.1, 0.9),
        "nesterov_step": (x2.copy(), x2, x2.copy(), 0.1, 0.9),
        "adagrad_step": (x2.copy(), x2, x2.copy(), 0.1),
        "rmsprop_step": (x2.copy(), x2, x2.copy(), 0.1, 0.99),
        "adadelta_step": (x2.copy(), x2, x2.copy(), x2.copy(), 1.0, 0.95, 1e-6),
        "adam_step": (x2.copy(), x2, x2.copy(), x2.copy(), 0.001, 0.9, 0.999, 1),
        "adamw_step": (x2.copy(), x2, x2.copy(), x2.copy(), 0.001, 0.9, 0.999, 0.01, 1),
        "sum_of_squares": (x2,),
        "sum_of_abs": (x2,),
        "l2_grad_step": (x2.copy(), x2, 0.1),
        "l1_grad_step": (x2.copy(), x2, 0.1),
        "scale_step": (x2.copy(), 0.5),
        "max_norm_step": (x2.copy(), 1.0, 1),
        **cnn_calls(dtype),
        **augment_calls(dtype),
    }


def activation_calls(dtype):
    """Valid calls of the activation kernels other than ReLU and sigmoid: x (4, 3), PReLU's alpha (3,)."""
    x2 = arr((4, 3), dtype)
    calls = {f"{name}_{d}": (x2,) if d == "forward" else (x2, x2)
             for name in ("tanh", "relu6", "softplus", "gelu") for d in ("forward", "backward")}
    return {
        **calls,
        "leaky_relu_forward": (x2, 0.01),
        "leaky_relu_backward": (x2, x2, 0.01),
        "swish_forward": (x2, 1.0),
        "swish_backward": (x2, x2, 1.0),
        "elu_forward": (x2, 1.0),
        "elu_backward": (x2, x2, 1.0),
        "rrelu_forward": (x2, 0.125, 1 / 3, 7),
        "rrelu_backward": (x2, x2, 0.125, 1 / 3, 7),
        "prelu_forward": (x2, arr((3,), dtype)),
        "prelu_backward": (x2, x2, arr((3,), dtype)),
    }


def cnn_calls(dtype):
    """Valid calls of the CNN kernels: x (2, 3, 5, 5), 3x3 filters, 2x2 pools."""
    x4 = arr((2, 3, 5, 5), dtype)
    W4 = arr((4, 3, 3, 3), dtype)
    c3 = arr((3,), dtype)
    pooled = arr((2, 3, 2, 2), dtype)
    return {
        "im2col": (x4, 3, 3),
        "col2im": (arr((2 * 3 * 3, 3 * 3 * 3), dtype), (2, 3, 5, 5), 3, 3),
        "conv_forward": (x4, W4, arr((4,), dtype)),
        "conv_backward": (arr((2, 4, 3, 3), dtype), x4, W4),
        "max_pool_forward": (x4, 2, 2),
        "max_pool_backward": (pooled, np.zeros((2, 3, 2, 2), dtype=np.int32), (2, 3, 5, 5)),
        "avg_pool_forward": (x4, 2, 2),
        "avg_pool_backward": (pooled, (2, 3, 5, 5), 2, 2),
        "batchnorm_forward": (x4, c3, c3.copy(), np.zeros(3, dtype), np.ones(3, dtype)),
        "batchnorm_backward": (x4, x4, c3, c3.copy(), c3.copy()),
        "dropout_forward": (x4, 0.5, 1),
        "dropout_backward": (x4, np.ones(x4.shape, dtype=bool), 0.5),
    }


def augment_calls(dtype):
    """Valid calls of the augmentation kernels: x (2, 3, 5, 5), one matrix or box per image."""
    x4 = arr((2, 3, 5, 5), dtype)
    identity = np.array([[[1, 0, 0], [0, 1, 0]]] * 2, dtype=dtype)
    return {
        "affine_warp": (x4, identity),
        "erase_boxes": (x4, np.array([[1, 1, 3, 3], [0, 0, 2, 5]], dtype=np.int64)),
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
        ("adamw_step", (arr((4,)), arr((4,)), arr((4,)), arr((5,)), 0.1, 0.9, 0.9, 0.1, 1), "(4,)", "(5,)"),
        ("l2_grad_step", (arr((4, 3)), arr((3, 4)), 0.1), "(4, 3)", "(3, 4)"),
        ("l1_grad_step", ([arr((2,)), arr((4, 3))], [arr((2,)), arr((4, 2))], 0.1), "(4, 3)", "(4, 2)"),
        ("max_norm_step", (arr((4, 3)), 1.0, 2), "(4, 3)", "(4, 3)"),
        ("softmax_cross_entropy_forward", (arr((4, 3)), arr((4, 2))), "(4, 3)", "(4, 2)"),
        ("conv_forward", (arr((1, 3, 5, 5)), arr((4, 2, 3, 3)), arr((4,))), "(1, 3, 5, 5)", "(4, 2, 3, 3)"),
        ("conv_backward", (arr((1, 4, 3, 3)), arr((1, 3, 5, 5)), arr((4, 2, 3, 3))), "(1, 3, 5, 5)", "(4, 2, 3, 3)"),
        ("conv_backward", (arr((1, 4, 4, 4)), arr((1, 3, 5, 5)), arr((4, 3, 3, 3))), "(1, 4, 3, 3)", "(1, 4, 4, 4)"),
        ("col2im", (arr((10, 27)), (2, 3, 5, 5), 3, 3), "(18, 27)", "(10, 27)"),
        ("avg_pool_backward", (arr((2, 3, 3, 2)), (2, 3, 5, 5), 2, 2), "(2, 3, 2, 2)", "(2, 3, 3, 2)"),
        ("max_pool_backward", (arr((2, 3, 2, 2)), np.zeros((2, 3, 2, 3), np.int32), (2, 3, 5, 5)),
         "(2, 3, 2, 2)", "(2, 3, 2, 3)"),
        ("batchnorm_forward", (arr((2, 3)), arr((4,)), arr((3,)), arr((3,)), arr((3,))), "(2, 3)", "(4,)"),
        ("batchnorm_forward", (arr((2, 3, 2, 2)), arr((3,)), arr((3,)), arr((2,)), arr((3,))),
         "(2, 3, 2, 2)", "(2,)"),
        ("batchnorm_backward", (arr((2, 4)), arr((2, 3)), arr((3,)), arr((3,)), arr((3,))), "(2, 3)", "(2, 4)"),
        ("batchnorm_backward", (arr((2, 3)), arr((2, 3)), arr((3,)), arr((3,)), arr((1,))), "(2, 3)", "(1,)"),
        ("dropout_backward", (arr((2, 3)), np.ones((3, 2), bool), 0.5), "(2, 3)", "(3, 2)"),
        ("tanh_backward", (arr((2, 3)), arr((3, 2))), "(2, 3)", "(3, 2)"),
        ("gelu_backward", (arr((2, 3)), arr((6,))), "(2, 3)", "(6,)"),
        ("leaky_relu_backward", (arr((2,)), arr((1, 2)), 0.1), "(2,)", "(1, 2)"),
        ("elu_backward", (arr((2, 3)), arr((2, 4)), 1.0), "(2, 3)", "(2, 4)"),
        ("swish_backward", (arr((5,)), arr((4,)), 1.0), "(5,)", "(4,)"),
        ("rrelu_backward", (arr((2, 3)), arr((3, 3)), 0.1, 0.3, 1), "(2, 3)", "(3, 3)"),
        ("prelu_forward", (arr((2, 3, 4, 4)), arr((4,))), "(2, 3, 4, 4)", "(4,)"),
        ("prelu_forward", (arr((5, 2)), arr((5,))), "(5, 2)", "(5,)"),
        ("prelu_backward", (arr((2, 3)), arr((2, 4)), arr((3,))), "(2, 4)", "(3,)"),
        ("prelu_backward", (arr((3, 3)), arr((2, 3)), arr((3,))), "(3, 3)", "(2, 3)"),
        ("mse_forward", (arr((4, 3)), arr((3, 4))), "(4, 3)", "(3, 4)"),
        ("l1_backward", (arr((4, 3)), arr((4, 3, 1))), "(4, 3)", "(4, 3, 1)"),
        ("huber_forward", (arr((4, 1)), arr((4,))), "(4, 1)", "(4,)"),
        ("sigmoid_bce_backward", (arr((2,)), arr((3,))), "(2,)", "(3,)"),
        ("kl_div_forward", (arr((4, 3)), arr((4, 2))), "(4, 3)", "(4, 2)"),
        ("kl_div_backward", (arr((4, 3)), arr((3, 4))), "(4, 3)", "(3, 4)"),
        ("affine_warp", (arr((2, 3, 5, 5)), arr((3, 2, 3))), "(2, 3, 5, 5)", "(3, 2, 3)"),
        ("affine_warp", (arr((2, 3, 5, 5)), arr((2, 3, 2))), "(2, 3, 5, 5)", "(2, 3, 2)"),
        ("erase_boxes", (arr((2, 3, 5, 5)), np.zeros((2, 5), np.int64)), "(2, 3, 5, 5)", "(2, 5)"),
        ("erase_boxes", (arr((2, 3, 5, 5)), np.zeros((1, 4), np.int64)), "(2, 3, 5, 5)", "(1, 4)"),
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


@pytest.mark.parametrize("name", ["sgd_step", "momentum_step", "adam_step", "adamw_step", "l2_grad_step",
                                  "l1_grad_step", "scale_step", "max_norm_step"])
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


# --------------------------------------------------------------------------
# CNN kernels: geometry, index arrays, masks, seeds
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, args, shapes",
    [
        ("im2col", (arr((1, 1, 3, 3)), 5, 5), ["(5, 5)", "(3, 3)", "(1, 1, 3, 3)"]),
        ("im2col", (arr((1, 1, 3, 3)), 6, 2, 1, 1), ["(6, 2)", "(5, 5)", "(1, 1, 3, 3)"]),
        ("col2im", (arr((1, 25)), (1, 1, 3, 3), 5, 5), ["(5, 5)", "(1, 1, 3, 3)"]),
        ("conv_forward", (arr((1, 1, 3, 3)), arr((2, 1, 5, 5)), arr((2,))), ["(5, 5)", "(1, 1, 3, 3)"]),
        ("conv_backward", (arr((1, 2, 1, 1)), arr((1, 1, 3, 3)), arr((2, 1, 5, 5))), ["(5, 5)", "(1, 1, 3, 3)"]),
        ("max_pool_forward", (arr((1, 2, 3, 4)), 4, 2), ["(4, 2)", "(1, 2, 3, 4)"]),
        ("avg_pool_forward", (arr((1, 2, 3, 4)), 2, 5), ["(2, 5)", "(1, 2, 3, 4)"]),
        ("avg_pool_backward", (arr((1, 2, 1, 1)), (1, 2, 3, 4), 2, 5), ["(2, 5)", "(1, 2, 3, 4)"]),
    ],
)
def test_window_larger_than_padded_input(backend, name, args, shapes):
    with pytest.raises(ValueError, match="larger") as info:
        getattr(ops, name)(*args)
    found = shapes_in(str(info.value))
    assert all(s in found for s in shapes), str(info.value)


GEOMETRY_KERNELS = ["im2col", "col2im", "conv_forward", "conv_backward", "max_pool_forward",
                    "avg_pool_forward", "avg_pool_backward"]


def with_stride_pad(name, stride, pad):
    """The valid call of ``name`` with its stride and pad replaced."""
    return list(all_calls(F64)[name]) + [stride, pad]  # stride and pad come right after the valid arguments


@pytest.mark.parametrize("name", GEOMETRY_KERNELS)
@pytest.mark.parametrize("stride, pad", [(0, 0), (-1, 0), (1, -1)])
def test_bad_stride_or_pad_is_a_value_error(backend, name, stride, pad):
    with pytest.raises(ValueError, match="stride|pad"):
        getattr(ops, name)(*with_stride_pad(name, stride, pad))


@pytest.mark.parametrize("name", GEOMETRY_KERNELS)
def test_non_integer_stride_is_a_type_error(backend, name):
    with pytest.raises(TypeError):
        getattr(ops, name)(*with_stride_pad(name, 1.5, 0))


@pytest.mark.parametrize("name", ["im2col", "conv_forward", "max_pool_forward", "avg_pool_forward",
                                  "batchnorm_forward", "conv_backward"])
def test_cnn_inputs_must_have_the_right_rank(backend, name):
    args = list(all_calls(F64)[name])
    i = 1 if name == "conv_backward" else 0  # x
    args[i] = arr((2, 3, 5))
    with pytest.raises(ValueError, match=r"\(2, 3, 5\)"):
        getattr(ops, name)(*args)


@pytest.mark.parametrize("name", ["max_pool_forward", "avg_pool_forward"])
@pytest.mark.parametrize("pool, pad", [((2, 2), 2), ((3, 2), 2), ((1, 1), 1)])
def test_pool_pad_must_be_smaller_than_the_pool(backend, name, pool, pad):
    with pytest.raises(ValueError, match="pad"):
        getattr(ops, name)(arr((1, 1, 6, 6)), *pool, 1, pad)


def test_avg_pool_backward_pad_must_be_smaller_than_the_pool(backend):
    with pytest.raises(ValueError, match="pad"):
        ops.avg_pool_backward(arr((1, 1, 7, 7)), (1, 1, 6, 6), 2, 2, 1, 2)


def test_pool_on_an_empty_plane(backend):
    with pytest.raises(ValueError):
        ops.max_pool_forward(arr((1, 1, 0, 4)), 2, 2, 2, 1)


def test_conv_bias_shape(backend):
    with pytest.raises(ValueError, match=r"\(4,\)"):
        ops.conv_forward(arr((1, 3, 5, 5)), arr((4, 3, 3, 3)), arr((3,)))


@pytest.mark.parametrize("input_shape", [(2, 3, 5), (2, 3, 5, 5, 1), (2, 3, -5, 5)])
@pytest.mark.parametrize("name", ["col2im", "max_pool_backward", "avg_pool_backward"])
def test_input_shape_must_be_four_non_negative_ints(backend, name, input_shape):
    args = list(all_calls(F64)[name])
    args[2 if name == "max_pool_backward" else 1] = input_shape
    with pytest.raises(ValueError):
        getattr(ops, name)(*args)


@pytest.mark.parametrize("input_shape", [(3, 3, 5, 5), (2, 4, 5, 5)])
def test_max_pool_backward_input_shape_matches_dout(backend, input_shape):
    dout, argmax, _ = all_calls(F64)["max_pool_backward"]
    with pytest.raises(ValueError, match=r"\(2, 3, 2, 2\)"):
        ops.max_pool_backward(dout, argmax, input_shape)


@pytest.mark.parametrize("bad", [-1, 25, 2**31 - 1])
def test_argmax_out_of_range(backend, bad):
    dout, argmax, shape = all_calls(F64)["max_pool_backward"]
    argmax = argmax.copy()
    argmax[1, 2, 0, 1] = bad
    with pytest.raises(ValueError, match="out of range"):
        ops.max_pool_backward(dout, argmax, shape)


@pytest.mark.parametrize("dtype", [np.int64, np.uint32, np.float64])
def test_argmax_must_be_int32(backend, dtype):
    dout, argmax, shape = all_calls(F64)["max_pool_backward"]
    with pytest.raises(TypeError, match="int32"):
        ops.max_pool_backward(dout, argmax.astype(dtype), shape)


@pytest.mark.parametrize("dtype", [np.float64, np.uint8, np.int32])
def test_dropout_mask_must_be_bool(backend, dtype):
    dout, mask, ratio = all_calls(F64)["dropout_backward"]
    with pytest.raises(TypeError, match="bool"):
        ops.dropout_backward(dout, mask.astype(dtype), ratio)


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5, float("nan")])
@pytest.mark.parametrize("name", ["dropout_forward", "dropout_backward"])
def test_dropout_ratio_out_of_range(backend, name, ratio):
    args = list(all_calls(F64)[name])
    args[-1 if name == "dropout_backward" else 1] = ratio
    with pytest.raises(ValueError, match="dropout_ratio"):
        getattr(ops, name)(*args)


@pytest.mark.parametrize("seed", [-1, 2**64])
def test_dropout_seed_out_of_range(backend, seed):
    with pytest.raises(ValueError, match="seed"):
        ops.dropout_forward(arr((2, 3)), 0.5, seed)


def test_dropout_seed_must_be_an_int(backend):
    with pytest.raises(TypeError):
        ops.dropout_forward(arr((2, 3)), 0.5, 1.5)
    ops.dropout_forward(arr((2, 3)), 0.5, 2**64 - 1)  # the largest seed is fine


def test_batchnorm_running_stats_are_written_in_place(backend):
    x, gamma, beta, rm, rv = all_calls(F64)["batchnorm_forward"]
    with pytest.raises(ValueError, match="contiguous"):
        ops.batchnorm_forward(x, gamma, beta, np.zeros(6)[::2], rv)
    frozen = rv.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ops.batchnorm_forward(x, gamma, beta, rm, frozen)
    ops.batchnorm_forward(x, gamma, beta, rm, frozen, train=False)  # eval mode does not write


@pytest.mark.parametrize("name", ["batchnorm_forward", "batchnorm_backward"])
def test_batchnorm_needs_a_sample(backend, name):
    args = list(all_calls(F64)[name])
    args[0] = arr((0, 3))
    if name == "batchnorm_backward":
        args[1] = arr((0, 3))
    with pytest.raises(ValueError):
        getattr(ops, name)(*args)


def test_cnn_empty_batch_is_fine(backend):
    assert ops.conv_forward(arr((0, 3, 5, 5)), arr((4, 3, 3, 3)), arr((4,))).shape == (0, 4, 3, 3)
    out, argmax = ops.max_pool_forward(arr((0, 3, 4, 4)), 2, 2)
    assert out.shape == argmax.shape == (0, 3, 2, 2)
    assert ops.im2col(arr((0, 3, 5, 5)), 3, 3).shape == (0, 27)


def test_non_contiguous_cnn_inputs_are_handled(backend, rng):
    base = rng.standard_normal((2, 5, 6, 3))
    x = base.transpose(0, 3, 1, 2)  # (2, 3, 5, 6), not contiguous
    W = rng.standard_normal((3, 3, 2, 2)).transpose(1, 0, 2, 3)  # (3, 3, 2, 2), not contiguous
    b = rng.standard_normal(6)[::2]
    xc, Wc, bc = (np.ascontiguousarray(a) for a in (x, W, b))
    np.testing.assert_allclose(ops.conv_forward(x, W, b, 2, 1), ops.conv_forward(xc, Wc, bc, 2, 1), rtol=1e-12)
    np.testing.assert_array_equal(ops.im2col(x, 3, 2, 1, 1), ops.im2col(xc, 3, 2, 1, 1))
    for got, want in zip(ops.max_pool_forward(x, 2, 2), ops.max_pool_forward(xc, 2, 2)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ops.dropout_forward(x, 0.5, 3)[1], ops.dropout_forward(xc, 0.5, 3)[1])


# --------------------------------------------------------------------------
# Activations: hyper-parameters and PReLU's slopes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, args, match", [
    ("leaky_relu_forward", (arr((2, 3)), -0.1), "alpha must be >= 0"),
    ("leaky_relu_backward", (arr((2, 3)), arr((2, 3)), -1.0), "alpha must be >= 0"),
    ("elu_forward", (arr((2, 3)), 0.0), "alpha must be > 0"),
    ("elu_backward", (arr((2, 3)), arr((2, 3)), -1.0), "alpha must be > 0"),
    ("rrelu_forward", (arr((2, 3)), 0.5, 0.25, 1), "lower must be <= upper"),
    ("rrelu_backward", (arr((2, 3)), arr((2, 3)), 0.5, 0.25, 1), "lower must be <= upper"),
    ("rrelu_forward", (arr((2, 3)), -0.1, 0.25, 1), "lower must be >= 0"),
    ("rrelu_forward", (arr((2, 3)), 0.1, 0.25, -1), "seed"),
    ("rrelu_forward", (arr((2, 3)), 0.1, 0.25, 2**64), "seed"),
    ("swish_forward", (arr((2, 3)), float("nan")), "beta must be finite"),
    ("swish_backward", (arr((2, 3)), arr((2, 3)), float("inf")), "beta must be finite"),
    ("leaky_relu_forward", (arr((2, 3)), float("inf")), "alpha must be finite"),
    ("rrelu_forward", (arr((2, 3)), 0.1, float("nan"), 1), "upper must be finite"),
])
def test_activation_hyper_parameters_out_of_range(backend, name, args, match):
    with pytest.raises(ValueError, match=match):
        getattr(ops, name)(*args)


@pytest.mark.parametrize("name, args", [
    ("leaky_relu_forward", (arr((2, 3)), "0.1")),
    ("elu_forward", (arr((2, 3)), True)),
    ("swish_backward", (arr((2, 3)), arr((2, 3)), None)),
    ("rrelu_forward", (arr((2, 3)), 0.1, [0.3], 1)),
    ("rrelu_forward", (arr((2, 3)), 0.1, 0.3, 1.5)),
    ("rrelu_backward", (arr((2, 3)), arr((2, 3)), 0.1, 0.3, "1")),
])
def test_activation_hyper_parameters_of_the_wrong_type(backend, name, args):
    with pytest.raises(TypeError):
        getattr(ops, name)(*args)


@pytest.mark.parametrize("name", ["prelu_forward", "prelu_backward"])
@pytest.mark.parametrize("x_shape", [(), (5,)])
def test_prelu_needs_a_channel_axis(backend, name, x_shape):
    x = arr(x_shape)
    args = (x, arr((1,))) if name == "prelu_forward" else (x, x, arr((1,)))
    with pytest.raises(ValueError, match=r"\(N, C, \.\.\.\)"):
        getattr(ops, name)(*args)


def test_prelu_alpha_must_be_an_array_of_the_dtype(backend):
    with pytest.raises(TypeError, match="ndarray"):
        ops.prelu_forward(arr((2, 3)), 0.25)
    with pytest.raises(TypeError, match="float32"):
        ops.prelu_backward(arr((2, 3)), arr((2, 3)), arr((3,), F32))


def test_empty_activations_are_fine(backend):
    x = arr((0, 3))
    for name, args in activation_calls(F64).items():
        args = tuple(x if isinstance(a, np.ndarray) and a.shape == (4, 3) else a for a in args)
        result = getattr(ops, name)(*args)
        first = result[0] if isinstance(result, tuple) else result
        assert first.shape == (0, 3), name
    np.testing.assert_array_equal(ops.prelu_backward(x, x, arr((3,)))[1], np.zeros(3))
# Losses: delta, targets that must be probabilities, empty inputs
# --------------------------------------------------------------------------

ELEMENTWISE_LOSSES = ["mse_forward", "mse_backward", "l1_forward", "l1_backward", "huber_forward",
                      "huber_backward", "sigmoid_bce_forward", "sigmoid_bce_backward"]


@pytest.mark.parametrize("delta", [0, -1.0, float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("name", ["huber_forward", "huber_backward"])
def test_huber_delta_must_be_positive_and_finite(backend, name, delta):
    with pytest.raises(ValueError, match="delta"):
        getattr(ops, name)(arr((4, 3)), arr((4, 3)), delta)


@pytest.mark.parametrize("delta", ["1", True, None, np.ones(1)])
@pytest.mark.parametrize("name", ["huber_forward", "huber_backward"])
def test_huber_delta_must_be_a_real_number(backend, name, delta):
    with pytest.raises(TypeError):
        getattr(ops, name)(arr((4, 3)), arr((4, 3)), delta)


@pytest.mark.parametrize("bad", [-0.5, 1.5, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["sigmoid_bce_forward", "sigmoid_bce_backward", "kl_div_forward", "kl_div_backward"])
def test_targets_must_be_probabilities(backend, name, bad):
    t = arr((4, 3))
    t[2, 1] = bad
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        getattr(ops, name)(arr((4, 3)), t)


@pytest.mark.parametrize("name", ["mse_forward", "sigmoid_bce_forward", "kl_div_forward"])
def test_loss_targets_are_not_cast(backend, name):
    """Integer or other-precision targets are a TypeError: the loss layers convert them, the kernels do not."""
    for t in (np.ones((4, 3), np.int64), np.ones((4, 3), np.float32), [[0.5] * 3] * 4):
        with pytest.raises(TypeError):
            getattr(ops, name)(arr((4, 3)), t)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
@pytest.mark.parametrize("name", ELEMENTWISE_LOSSES)
def test_elementwise_losses_need_an_element(backend, name, shape):
    with pytest.raises(ValueError, match="at least one element"):
        getattr(ops, name)(np.zeros(shape), np.zeros(shape))


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
@pytest.mark.parametrize("name", ["kl_div_forward", "kl_div_backward"])
def test_kl_div_needs_a_row_and_a_class(backend, name, shape):
    with pytest.raises(ValueError, match="at least one row and one class"):
        getattr(ops, name)(np.zeros(shape), np.zeros(shape))


@pytest.mark.parametrize("name", ["kl_div_forward", "kl_div_backward"])
def test_kl_div_takes_matrices(backend, name):
    with pytest.raises(ValueError, match="2-d"):
        getattr(ops, name)(arr((3,)), arr((3,)))


# --------------------------------------------------------------------------
# Augmentation: images, matrices, boxes, fill values
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["affine_warp", "erase_boxes"])
@pytest.mark.parametrize("shape", [(2, 5, 5), (2, 3, 5, 5, 1), (25,)])
def test_augmentation_takes_nchw_images(backend, name, shape):
    args = list(all_calls(F64)[name])
    args[0] = arr(shape)
    with pytest.raises(ValueError, match="4-d"):
        getattr(ops, name)(*args)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_warp_matrices_must_be_finite(backend, bad):
    x, m = all_calls(F64)["affine_warp"]
    m = m.copy()
    m[1, 0, 2] = bad
    with pytest.raises(ValueError, match="matrices must be finite.*image 1"):
        ops.affine_warp(x, m)


@pytest.mark.parametrize("name, keyword", [("affine_warp", "fill"), ("erase_boxes", "value")])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_fill_values_must_be_finite(backend, name, keyword, bad):
    with pytest.raises(ValueError, match=f"{keyword} must be finite"):
        getattr(ops, name)(*all_calls(F64)[name], bad)


@pytest.mark.parametrize("name", ["affine_warp", "erase_boxes"])
@pytest.mark.parametrize("bad", ["0", None, True, np.zeros(1)])
def test_fill_values_must_be_real_numbers(backend, name, bad):
    with pytest.raises(TypeError):
        getattr(ops, name)(*all_calls(F64)[name], bad)


@pytest.mark.parametrize("boxes", [np.zeros((2, 4), np.int32), np.zeros((2, 4)), np.zeros((2, 4), np.uint64),
                                   [[1, 1, 3, 3], [0, 0, 2, 5]]])
def test_erase_boxes_must_be_int64(backend, boxes):
    with pytest.raises(TypeError, match="int64"):
        ops.erase_boxes(arr((2, 3, 5, 5)), boxes)


def test_warp_matrices_are_not_cast(backend):
    x = arr((2, 3, 5, 5))
    with pytest.raises(TypeError, match="ndarray"):
        ops.affine_warp(x, [[[1, 0, 0], [0, 1, 0]]] * 2)
    with pytest.raises(TypeError, match="float32 or float64"):
        ops.affine_warp(x, np.zeros((2, 2, 3), np.int64))


def test_erase_boxes_out_is_checked(backend):
    x, boxes = all_calls(F64)["erase_boxes"]
    x = x.copy()
    with pytest.raises(ValueError, match="overlaps"):
        ops.erase_boxes(x, boxes, 0.0, x[:, :1])
    with pytest.raises(ValueError, match=r"\(2, 3, 5, 4\).*\(2, 3, 5, 5\)"):
        ops.erase_boxes(x, boxes, 0.0, arr((2, 3, 5, 4)))
    with pytest.raises(TypeError, match="float32"):
        ops.erase_boxes(x, boxes, 0.0, arr((2, 3, 5, 5), F32))
    with pytest.raises(ValueError, match="contiguous"):
        ops.erase_boxes(x, boxes, 0.0, np.zeros((2, 3, 5, 10))[..., ::2])
    frozen = x.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ops.erase_boxes(frozen, boxes, 0.0, frozen)  # in place
    with pytest.raises(ValueError, match="read-only"):
        ops.erase_boxes(x, boxes, 0.0, frozen)
    assert ops.erase_boxes(frozen, boxes, 0.0).flags.writeable  # reading a read-only array is fine


@pytest.mark.parametrize("shape", [(0, 3, 5, 5), (2, 0, 5, 5), (2, 3, 0, 5), (2, 3, 5, 0)])
def test_empty_augmentation_batches_are_fine(backend, shape):
    n = shape[0]
    out = ops.affine_warp(arr(shape), np.zeros((n, 2, 3)))
    assert out.shape == shape and out.dtype == F64
    assert ops.erase_boxes(arr(shape), np.zeros((n, 4), np.int64)).shape == shape
