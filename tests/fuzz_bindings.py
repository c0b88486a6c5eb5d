"""Fuzz every native binding against the NumPy reference (run as a script).

``python tests/fuzz_bindings.py [EXAMPLES]`` draws calls of every kernel in
``ferronet.ops.KERNELS`` with unusual arguments: zero and huge dimensions
(huge only beside a zero one, so no input is large), huge or negative window
geometry, odd dtypes and flags.  Each call runs on both backends and must

* never abort the interpreter (the test that runs this script sees an abort
  as a failed child process, not a dead pytest),
* raise only ``Exception`` subclasses (never pyo3's ``PanicException``),
* fail on both backends alike (same exception class; "too large to
  allocate" counts as one class: MemoryError, or ValueError saying so), or
  succeed on both with results of the same shapes and dtypes.

It prints ``fuzz OK`` and exits 0, or prints the first disagreement and exits 1.
"""

from __future__ import annotations

import signal
import sys

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

import ferronet
from ferronet import ops
from ferronet.ops import native, reference

SMALL = st.sampled_from([0, 1, 2, 3, 5])
HUGE = st.sampled_from([2**36, 2**45, 2**62])
# window sizes, strides and pads: small, invalid and absurd (never "medium",
# which would make valid but slow outputs)
GEO = st.one_of(st.sampled_from([0, 1, 2, 3]), st.sampled_from([-1, 2**40, 2**63, 2**70]))
DTYPES = st.sampled_from([np.float32, np.float64, np.float64, np.float32, np.int64, np.float16])
FLAGS = st.sampled_from([True, False, np.True_, 1, 0])
#: the activations with only element-wise arrays: their hyper-parameters (seeds apart)
ACTIVATION_SCALARS = {"relu": 0, "sigmoid": 0, "tanh": 0, "relu6": 0, "softplus": 0, "gelu": 0,
                      "leaky_relu": 1, "swish": 1, "elu": 1, "rrelu": 2}
SEEDS = st.sampled_from([0, 1, 2**64 - 1, 2**64, -1, 1.5])
#: the losses' kernels are NAME_forward and NAME_backward
LOSSES = ("mse", "l1", "huber", "sigmoid_bce", "kl_div")
#: entries of the affine warp's matrices: ordinary, huge (coordinates overflow) and not finite
MATRIX_VALUES = [1.0, 0.0, -0.5, 3e38, 1e308, np.nan, np.inf]
REALS = st.sampled_from([0.1, 0.9, 1, 0.0, -1.0, np.nan, np.inf, "0.1", True, np.float32(0.5), 2**70])


@st.composite
def shapes(draw, ndim: int) -> tuple[int, ...]:
    """A shape with small dimensions, or with huge ones beside a zero (an empty array)."""
    dims = [draw(SMALL) for _ in range(ndim)]
    if ndim and draw(st.booleans()) and draw(st.booleans()):
        zero = draw(st.integers(0, ndim - 1))
        dims[zero] = 0
        for i in range(ndim):
            if i != zero and draw(st.booleans()):
                dims[i] = draw(HUGE)
                if int(np.prod([d for d in dims if d], dtype=object)) * 8 >= 2**62:
                    dims[i] = 1  # NumPy refuses even an empty array whose other dims overflow
    return tuple(dims)


@st.composite
def arrays(draw, ndim: int | None = None, dtype=None) -> np.ndarray:
    ndim = draw(st.integers(0, 4)) if ndim is None else ndim
    dt = draw(DTYPES) if dtype is None else dtype
    shape = draw(shapes(ndim))
    a = np.empty(shape, dtype=dt)
    if a.size:
        values = [0.5, -1.0, 0.0, np.nan, np.inf] if a.dtype.kind == "f" else [0, 1, -1]
        a[...] = draw(st.sampled_from(values))
    return a


def like(draw, a: np.ndarray, same_shape_prob: bool = True) -> np.ndarray:
    """Another array, usually of ``a``'s shape and dtype."""
    if draw(st.booleans()) or draw(st.booleans()):
        return np.full(a.shape, 0.25, dtype=a.dtype) if a.dtype.kind == "f" else np.zeros(a.shape, a.dtype)
    return draw(arrays(a.ndim))


@st.composite
def calls(draw):
    """``(kernel name, args)`` for a random kernel."""
    name = draw(st.sampled_from(sorted(ops.KERNELS)))
    a2, a4 = (lambda: draw(arrays(2))), (lambda: draw(arrays(4)))
    if name == "matmul":
        a, b = a2(), a2()
        return name, (a, b, draw(FLAGS), draw(FLAGS))
    if name == "affine_forward":
        x, W = a2(), a2()
        return name, (x, W, draw(arrays(1, x.dtype)))
    if name == "affine_backward":
        x, W = a2(), a2()
        return name, (draw(arrays(2, x.dtype)), x, W, draw(FLAGS))
    if name.rsplit("_", 1)[0] in LOSSES:
        y = a2() if name.startswith("kl_div") else draw(arrays())
        args = [y, like(draw, y)]  # targets usually 0.25: valid probabilities
        if name.startswith("huber"):
            args.append(draw(REALS))  # delta
        if name.endswith("_backward"):
            args.append(draw(REALS))  # dout
        return name, tuple(args)
    activation, _, direction = name.rpartition("_")
    if activation in ACTIVATION_SCALARS:
        x = draw(arrays())
        arrs = (x,) if direction == "forward" else (x, like(draw, x))
        scalars = tuple(draw(REALS) for _ in range(ACTIVATION_SCALARS[activation]))
        seed = (draw(SEEDS),) if activation == "rrelu" else ()
        return name, (*arrs, *scalars, *seed)
    if activation == "prelu":
        x = draw(arrays())
        c = x.shape[1] if x.ndim > 1 and x.shape[1] < 2**30 else draw(SMALL)
        alpha = draw(st.sampled_from([np.full(c, 0.25, x.dtype if x.dtype.kind == "f" else np.float64),
                                      draw(arrays(1))]))
        return name, (x, alpha) if direction == "forward" else (like(draw, x), x, alpha)
    if name == "softmax":
        return name, (draw(arrays(draw(st.integers(0, 3)))),)
    if name.startswith("softmax_cross_entropy"):
        x = a2()
        labels = np.zeros(x.shape[0] if x.shape[0] < 2**30 else 0, dtype=np.int64)
        t = draw(st.sampled_from([labels, like(draw, x)]))
        args = (x, t) if name.endswith("forward") else (x, t, draw(REALS))
        return name, args
    if name in ("sum_of_squares", "sum_of_abs"):
        x = draw(arrays())
        return name, (draw(st.sampled_from([x, [x], [x, like(draw, x)], []])),)
    if name in ("scale_step", "max_norm_step"):
        x = draw(arrays())
        arg = draw(st.sampled_from([x, [x], []]))
        if name == "scale_step":
            return name, (arg, draw(REALS))
        return name, (arg, draw(REALS), draw(st.sampled_from([0, 1, -1, 3, -5, 2**70, 1.0, True])))
    if name.endswith("_step"):
        states = {"sgd_step": 0, "momentum_step": 1, "nesterov_step": 1, "adagrad_step": 1, "rmsprop_step": 1,
                  "adadelta_step": 2, "adam_step": 2, "adamw_step": 2, "l2_grad_step": 0, "l1_grad_step": 0}[name]
        scalars = {"sgd_step": 1, "momentum_step": 2, "nesterov_step": 2, "adagrad_step": 1, "rmsprop_step": 2,
                   "adadelta_step": 3, "adam_step": 3, "adamw_step": 4, "l2_grad_step": 1, "l1_grad_step": 1}[name]
        p = draw(arrays())
        arrs = [p] + [like(draw, p) for _ in range(1 + states)]
        if draw(st.booleans()):
            arrs = [[a] for a in arrs]  # the multi-tensor form
        extra = [draw(REALS) for _ in range(scalars)]
        if name in ("adam_step", "adamw_step"):
            extra.append(draw(st.sampled_from([1, 2, 0, -3, 1.5, 2**70, True])))
        return name, (*arrs, *extra)
    if name == "im2col":
        return name, (a4(), draw(GEO), draw(GEO), draw(GEO), draw(GEO))
    if name == "col2im":
        shape = draw(shapes(4))
        return name, (a2(), shape, draw(GEO), draw(GEO), draw(GEO), draw(GEO))
    if name == "conv_forward":
        x, W = a4(), a4()
        return name, (x, W, draw(arrays(1, x.dtype)), draw(GEO), draw(GEO))
    if name == "conv_backward":
        x, W = a4(), a4()
        return name, (draw(arrays(4, x.dtype)), x, W, draw(GEO), draw(GEO), draw(FLAGS))
    if name in ("max_pool_forward", "avg_pool_forward"):
        return name, (a4(), draw(GEO), draw(GEO), draw(GEO), draw(GEO))
    if name == "max_pool_backward":
        d = a4()
        argmax = np.zeros(d.shape if d.size == 0 or max(d.shape) < 2**30 else (0,), np.int32)
        return name, (d, argmax, draw(shapes(4)))
    if name == "avg_pool_backward":
        return name, (a4(), draw(shapes(4)), draw(GEO), draw(GEO), draw(GEO), draw(GEO))
    if name == "batchnorm_forward":
        x = draw(arrays(draw(st.sampled_from([2, 4, 3]))))
        c = x.shape[1] if x.ndim > 1 and x.shape[1] < 2**30 else 0
        vecs = [np.ones(c, x.dtype) for _ in range(4)]
        return name, (x, *vecs, draw(FLAGS), draw(REALS), draw(REALS))
    if name == "batchnorm_backward":
        x = draw(arrays(draw(st.sampled_from([2, 4]))))
        c = x.shape[1] if x.shape[1] < 2**30 else 0
        return name, (like(draw, x), x, *[np.ones(c, x.dtype) for _ in range(3)])
    if name == "dropout_forward":
        return name, (draw(arrays()), draw(st.sampled_from([0.5, 0.0, 1.0, -0.1, np.nan])), draw(SEEDS), draw(FLAGS))
    if name == "dropout_backward":
        d = draw(arrays())
        return name, (d, np.ones(d.shape, bool), draw(st.sampled_from([0.5, 0.0, 1.0])), draw(FLAGS))
    if name == "affine_warp":
        x = a4()
        n = x.shape[0] if x.shape[0] < 2**30 else draw(SMALL)
        with np.errstate(over="ignore"):  # 1e308 becomes inf in float32
            m = np.full((n, 2, 3), draw(st.sampled_from(MATRIX_VALUES)), x.dtype if x.dtype.kind == "f" else np.float64)
        m = draw(st.sampled_from([m, draw(arrays(3)), draw(arrays(3, x.dtype))]))
        return name, (x, m, draw(REALS))
    if name == "erase_boxes":
        x = a4()
        n = x.shape[0] if x.shape[0] < 2**30 else draw(SMALL)
        boxes = np.full((n, 4), draw(st.sampled_from([0, 2, -1, 2**63 - 1, -(2**63)])), np.int64)
        boxes = draw(st.sampled_from([boxes, boxes.astype(np.int32), draw(arrays(2))]))
        out = draw(st.sampled_from([None, like(draw, x), draw(arrays(4))]))
        return name, (x, boxes, draw(REALS), *(() if out is None else (out,)))
    raise AssertionError(f"no strategy for kernel {name}")


def outcome(fn, args):
    """("ok", result structure, "") or ("raised", exception class, repr); other BaseExceptions escape."""
    try:
        with np.errstate(all="ignore"):
            result = fn(*args)
    except Exception as exc:  # noqa: BLE001 - the class is what is compared
        kind = "MemoryError" if isinstance(exc, MemoryError) else type(exc).__name__
        return ("raised", kind, repr(exc)[:200])
    return ("ok", structure(result), "")


def too_large(result) -> bool:
    """A refusal to allocate: MemoryError, or a ValueError saying the size is impossible."""
    kind, text = result[1], result[2].lower()
    return kind in ("MemoryError", "OverflowError") or (
        kind == "ValueError" and any(w in text for w in ("too large", "too big", "allocate", "maximum possible", "maximum allowed")))


def agree(got, want) -> bool:
    """Same outcome class; "too large to allocate" is one class whichever exception says it."""
    return got[:2] == want[:2] or (got[0] == want[0] == "raised" and too_large(got) and too_large(want))


def structure(result):
    if isinstance(result, tuple):
        return tuple(structure(r) for r in result)
    if isinstance(result, np.ndarray):
        return (result.shape, str(result.dtype))
    return type(result).__name__


class Hung(BaseException):
    """A call that took far too long (raised from SIGALRM, which the native
    kernels honour between chunks like Ctrl-C)."""


def _alarm(signum, frame):
    raise Hung()


def check(name, args):
    # in-place kernels get their own copies per backend
    def fresh():
        return [([a.copy() for a in x] if isinstance(x, list) else x.copy() if isinstance(x, np.ndarray) else x)
                for x in args]

    shapes_ = [[getattr(a, "shape", a) for a in x] if isinstance(x, list) else getattr(x, "shape", x) for x in args]
    results = {}
    for backend, module in (("native", native), ("numpy", reference)):
        signal.alarm(CALL_SECONDS)
        try:
            results[backend] = outcome(getattr(module, name), fresh())
        except Hung:
            raise AssertionError(f"{name}{shapes_}: the {backend} call ran over {CALL_SECONDS} s") from None
        finally:
            signal.alarm(0)
    got, want = results["native"], results["numpy"]
    if not agree(got, want):
        raise AssertionError(f"{name}{shapes_}: native {got} but numpy {want}")


#: the longest any one call may take (they all take milliseconds)
CALL_SECONDS = 10


def main(examples: int, seed: int | None = None) -> int:
    """Run ``examples`` calls; derandomized (the same calls every run) unless a ``seed`` is given."""
    ferronet.set_num_threads(2)
    signal.signal(signal.SIGALRM, _alarm)

    @settings(max_examples=examples, deadline=None, derandomize=seed is None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(calls())
    def fuzz(call):
        check(*call)

    if seed is not None:
        fuzz = hypothesis_seed(seed)(fuzz)
    fuzz()
    print("fuzz OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000,
                  int(sys.argv[2]) if len(sys.argv) > 2 else None))
