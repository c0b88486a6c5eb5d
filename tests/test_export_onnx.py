"""ONNX export, verified in ONNX Runtime against ferronet's own predict.

Every exported model runs in onnxruntime's CPU provider on random batches
(and real Fashion-MNIST ones when installed) and must match ``predict``
followed by the same output function: max abs difference <= 1e-5 in
float32 and <= 1e-10 in float64.  The networks, every activation, both
batch normalisation modes, both pooling modes (with padding) and both
dropout forms are covered, in both dtypes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import ferronet
from ferronet.datasets import fashion_mnist_available, load_fashion_mnist
from ferronet.layers import (ACTIVATIONS, Affine, BatchNormalization, Convolution, Dropout, Layer, Pooling, Relu,
                             Tanh)
from ferronet.layers.activations import PReLU
from ferronet.networks import (DeepConvNet, LayerNetwork, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet,
                               TwoLayerNet)
from ferronet.optional import MissingDependencyError

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from ferronet.export import (DEFAULT_OPSET, MIN_OPSET, OnnxRunner, UnsupportedLayerError,  # noqa: E402
                             onnx_model, outputs)

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]
needs_fashion = pytest.mark.skipif(not fashion_mnist_available(), reason="Fashion-MNIST is not installed")


def exported(net: LayerNetwork, tmp_path: Path, **options) -> OnnxRunner:
    """``net`` exported with ``options`` (those of ``ferronet.export.to_onnx``), open in ONNX Runtime."""
    return OnnxRunner(ferronet.export.to_onnx(net, tmp_path / f"{type(net).__name__}.onnx", **options), threads=1)


def max_difference(net: LayerNetwork, runner: OnnxRunner, x: np.ndarray, output: str | None = None) -> float:
    """max |ONNX Runtime's output - output_function(net.predict(x))|, after checking dtype and shape."""
    function = outputs.output_function(net.last_layer, output)
    expected = outputs.apply(function, net.predict(x, batch_size=None))
    got = runner.run(x)
    assert got.dtype == net.dtype and got.shape == expected.shape
    return float(np.max(np.abs(got - expected)))


def random_batch(shape: tuple[int, ...], n: int, dtype, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, *shape)) * scale).astype(dtype)


# ---------------------------------------------------------------------- the book's networks


BOOK_NETWORKS = {
    "TwoLayerNet": (lambda dt: TwoLayerNet(784, 50, 10, dtype=dt, seed=0, weight_init_std="he"), (784,)),
    "MultiLayerNet": (lambda dt: MultiLayerNet(784, [100, 100], 10, dtype=dt, seed=0), (784,)),
    "MultiLayerNetExtend": (lambda dt: MultiLayerNetExtend(784, [100, 100], 10, use_batchnorm=True, use_dropout=True,
                                                           dtype=dt, seed=0), (784,)),
    "SimpleConvNet": (lambda dt: SimpleConvNet(dtype=dt, seed=0, weight_init_std="he"), (1, 28, 28)),
    "DeepConvNet": (lambda dt: DeepConvNet(dtype=dt, seed=0), (1, 28, 28)),
}


def with_moved_statistics(net: LayerNetwork, seed: int = 5, dead: bool = False) -> LayerNetwork:
    """Batch normalisation's running statistics and gamma/beta set away from their initial values;
    ``dead``: the first feature of each never varied (running variance 0: epsilon alone divides)."""
    rng = np.random.default_rng(seed)
    for layer in net.layers.values():
        if isinstance(layer, BatchNormalization):
            layer.running_mean[...] = rng.standard_normal(layer.running_mean.shape) * 0.3
            layer.running_var[...] = rng.uniform(0.2, 2.0, layer.running_var.shape)
            if dead:
                layer.running_var.reshape(-1)[0] = 0.0
            layer.gamma[...] = rng.uniform(0.5, 1.5, layer.gamma.shape)
            layer.beta[...] = rng.standard_normal(layer.beta.shape) * 0.2
    return net


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(BOOK_NETWORKS))
def test_book_network_matches_predict_on_random_batches(name: str, dtype, tmp_path: Path) -> None:
    build, shape = BOOK_NETWORKS[name]
    net = with_moved_statistics(build(dtype))
    runner = exported(net, tmp_path)
    assert runner.sample_shape == shape and runner.dtype == dtype and runner.output_function == "softmax"
    for n in (1, 7, 64):  # the batch dimension is dynamic
        assert max_difference(net, runner, random_batch(shape, n, dtype, seed=n)) <= TOLERANCE[dtype]


@needs_fashion
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(BOOK_NETWORKS))
def test_book_network_matches_predict_on_fashion_mnist(name: str, dtype, tmp_path: Path) -> None:
    build, shape = BOOK_NETWORKS[name]
    net = with_moved_statistics(build(dtype))
    _, (x_test, _) = load_fashion_mnist(flatten=len(shape) == 1)
    assert max_difference(net, exported(net, tmp_path), x_test[:300].astype(dtype)) <= TOLERANCE[dtype]


@needs_fashion
@pytest.mark.parametrize("dtype", DTYPES)
def test_trained_network_predicts_the_same_classes_on_the_whole_test_set(dtype, tmp_path: Path) -> None:
    """A briefly trained SimpleConvNet: the same class for every one of the 10,000 test images."""
    from ferronet.optimizers import Adam

    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(flatten=False)
    net = SimpleConvNet(dtype=dtype, seed=0, weight_init_std="he", conv_param={"filter_num": 8})
    optimizer, rng = Adam(lr=0.002), np.random.default_rng(0)
    for _ in range(150):
        batch = rng.choice(len(x_train), 100, replace=False)
        optimizer.update(net.params, net.gradient(x_train[batch].astype(dtype), t_train[batch]))
    x_test = x_test.astype(dtype)
    accuracy = net.accuracy(x_test, t_test)
    assert accuracy > 0.75  # trained, if briefly
    runner = exported(net, tmp_path)
    probabilities = runner.run(x_test, batch_size=1000)
    expected = outputs.apply("softmax", net.predict(x_test))
    assert np.max(np.abs(probabilities - expected)) <= TOLERANCE[dtype]
    np.testing.assert_array_equal(probabilities.argmax(axis=1), net.predict(x_test).argmax(axis=1))
    assert np.mean(probabilities.argmax(axis=1) == t_test) == accuracy


@pytest.mark.parametrize("dtype", DTYPES)
def test_raw_scores_match_predict(dtype, tmp_path: Path) -> None:
    """output='identity' exports predict's own scores (what the softmax then compresses)."""
    net = DeepConvNet(dtype=dtype, seed=1)
    runner = exported(net, tmp_path, output="identity")
    x = random_batch((1, 28, 28), 16, dtype)
    scores = net.predict(x)
    assert np.max(np.abs(runner.run(x) - scores)) <= TOLERANCE[dtype] * max(1.0, float(np.max(np.abs(scores))))


def test_dense_network_takes_images_with_input_shape(tmp_path: Path) -> None:
    net = MultiLayerNet(784, [30], 10, dtype=np.float32, seed=0)
    runner = OnnxRunner(net.to_onnx(tmp_path / "mlp.onnx", input_shape=(1, 28, 28)))
    assert runner.sample_shape == (1, 28, 28)
    x = random_batch((1, 28, 28), 5, np.float32)
    assert max_difference(net, runner, x) <= 1e-5


# ---------------------------------------------------------------------- every activation


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_in_dense_and_conv_networks(activation: str, dtype, tmp_path: Path) -> None:
    dense = MultiLayerNet(20, [16, 12], 5, activation=activation, dtype=dtype, seed=0)
    conv = SimpleConvNet((3, 10, 10), {"filter_num": 4, "filter_size": 3, "pad": 1}, 12, 5, activation=activation,
                         dtype=dtype, seed=0, weight_init_std="he")
    for net, shape in ((dense, (20,)), (conv, (3, 10, 10))):
        if activation == "prelu":  # learned slopes, one per unit or channel, all different
            for key in [k for k in net.params if k.startswith("alpha")]:
                net.params[key][...] = np.linspace(-0.5, 0.9, net.params[key].size)
        runner = exported(net, tmp_path)
        x = random_batch(shape, 9, dtype, scale=4.0)  # both signs, past ReLU6's 6 and deep into the tails
        x.reshape(9, -1)[0, :3] = (-40.0, 40.0, 0.0)
        assert max_difference(net, runner, x) <= TOLERANCE[dtype], type(net).__name__


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["elu", "softplus", "gelu", "swish", "leaky_relu", "rrelu", "relu6", "tanh",
                                        "sigmoid", "prelu"])
def test_activation_scores_without_output_function(activation: str, dtype, tmp_path: Path) -> None:
    """The activations' own values, not hidden by a softmax: one layer, identity output, extreme inputs."""
    net = MultiLayerNet(6, [6], 6, activation=activation, dtype=dtype, seed=0)
    net.params["W1"][...] = np.eye(6) * 1.0
    net.params["W2"][...] = np.eye(6)
    if activation == "prelu":
        net.params["alpha1"][...] = np.linspace(-0.5, 0.9, 6)
    x = np.array([[-300, -20, -1e-7, 0, 1e-7, 20], [300, 7, 6, 5.9, -6, -0.5]], dtype=dtype)
    runner = exported(net, tmp_path, output="identity")
    np.testing.assert_allclose(runner.run(x), net.predict(x), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def test_swish_with_beta(tmp_path: Path) -> None:
    from ferronet.layers import Swish

    net = Mixed(np.float64)
    net.layers["Tanh1"] = Swish(beta=1.7)
    runner = exported(net, tmp_path, input_shape=(2, 11, 9))
    assert max_difference(net, runner, random_batch((2, 11, 9), 6, np.float64)) <= 1e-10


# ---------------------------------------------------------------------- both modes of every layer


class Mixed(LayerNetwork):
    """Every layer mode in one network: a non-square strided padded convolution, batch norm per channel,
    PReLU per channel, padded average pooling of a non-square window, the book's per-activation batch
    norm on images, padded max pooling, batch norm per feature, both dropout forms."""

    def __init__(self, dtype=np.float64, seed: int = 0) -> None:
        super().__init__(dtype=dtype)
        rng = np.random.default_rng(seed)
        W1 = self.add_weight("W1", (4, 2, 3, 2), "he", rng)  # (FN, C, FH, FW)
        b1 = self.add_param("b1", rng.standard_normal(4) * 0.1)
        self.add_layer("Conv1", Convolution(W1, b1, stride=2, pad=2), W="W1", b="b1")  # (4, 7, 6) for (2, 11, 9)
        g1, be1 = self.add_param("gamma1", np.ones(4)), self.add_param("beta1", np.zeros(4))
        self.add_layer("BatchNorm1", BatchNormalization(g1, be1, per_channel=True), gamma="gamma1", beta="beta1")
        alpha = self.add_param("alpha1", np.linspace(-0.3, 0.6, 4))
        self.add_layer("PReLU1", PReLU(alpha), alpha="alpha1")
        self.add_layer("Pool1", Pooling(3, 2, stride=1, pad=1, mode="avg"))  # (4, 7, 7)
        g2, be2 = self.add_param("gamma2", np.ones(4 * 7 * 7)), self.add_param("beta2", np.zeros(4 * 7 * 7))
        self.add_layer("BatchNorm2", BatchNormalization(g2, be2, per_channel=False), gamma="gamma2", beta="beta2")
        self.add_layer("Pool2", Pooling(2, 2, stride=2, pad=1, mode="max"))  # (4, 4, 4)
        W2 = self.add_weight("W2", (64, 10), "he", rng)
        self.add_layer("Affine1", Affine(W2, self.add_param("b2", np.zeros(10))), W="W2", b="b2")
        g3, be3 = self.add_param("gamma3", np.ones(10)), self.add_param("beta3", np.zeros(10))
        self.add_layer("BatchNorm3", BatchNormalization(g3, be3), gamma="gamma3", beta="beta3")
        self.add_layer("Tanh1", Tanh())
        self.add_layer("Dropout1", Dropout(0.3))  # the book's form: x (1 - 0.3) at inference
        self.add_layer("Dropout2", Dropout(0.4, inverted=True))  # the identity at inference
        W3 = self.add_weight("W3", (10, 3), "he", rng)
        self.add_layer("Affine2", Affine(W3, self.add_param("b3", np.zeros(3))), W="W3", b="b3")


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_layer_mode(dtype, tmp_path: Path) -> None:
    net = with_moved_statistics(Mixed(dtype), dead=True)
    assert net.predict(random_batch((2, 11, 9), 2, dtype)).shape == (2, 3)
    runner = exported(net, tmp_path, input_shape=(2, 11, 9))
    for scale, n in ((1.0, 8), (3.0, 3)):
        assert max_difference(net, runner, random_batch((2, 11, 9), n, dtype, seed=n, scale=scale)) <= TOLERANCE[dtype]
    raw = exported(net, tmp_path, input_shape=(2, 11, 9), output="identity")
    x = random_batch((2, 11, 9), 4, dtype)
    assert np.max(np.abs(raw.run(x) - net.predict(x))) <= TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_of_a_feature_that_never_varied(dtype, tmp_path: Path) -> None:
    """A running variance of 0 scales by 1/sqrt(1e-6) = 1000: the scores grow, and so does float32's
    rounding.  ONNX Runtime's scores then agree with ferronet's to the dtype's precision relative to their
    size (and exactly up to rounding in float64)."""
    net = with_moved_statistics(MultiLayerNetExtend(784, [100, 100], 10, use_batchnorm=True, dtype=dtype, seed=0),
                                dead=True)
    x = np.random.default_rng(0).random((200, 784)).astype(dtype)
    scores = net.predict(x)
    assert np.max(np.abs(scores)) > 100
    got = exported(net, tmp_path, output="identity").run(x)
    assert np.max(np.abs(got - scores)) <= TOLERANCE[dtype] * 0.1 * np.max(np.abs(scores))


class Pools(LayerNetwork):
    """Pooling straight to the output: padded max pooling of all-negative inputs (the padding must not
    win) or padded average pooling (the padding counts as zeros)."""

    def __init__(self, mode: str, dtype=np.float64) -> None:
        super().__init__(dtype=dtype)
        self.add_layer("Pool1", Pooling(3, 3, stride=2, pad=1, mode=mode))
        W = self.add_param("W1", np.eye(2 * 3 * 3))
        self.add_layer("Affine1", Affine(W, self.add_param("b1", np.zeros(18))), W="W1", b="b1")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling_padding_semantics(mode: str, dtype, tmp_path: Path) -> None:
    net = Pools(mode, dtype)
    x = -np.abs(random_batch((2, 5, 5), 3, dtype)) - 1  # every element < -1: a zero of padding would win a max
    runner = exported(net, tmp_path, input_shape=(2, 5, 5), output="identity")
    got = runner.run(x)
    np.testing.assert_allclose(got, net.predict(x), rtol=0, atol=TOLERANCE[dtype])
    if mode == "max":
        assert np.all(got < -1)
    else:  # the corner window covers 4 real elements of 9
        np.testing.assert_allclose(got[:, 0], x[:, 0, :2, :2].sum(axis=(1, 2)) / 9, atol=TOLERANCE[dtype])


# ---------------------------------------------------------------------- output functions


@pytest.mark.parametrize("loss, function, name", [("softmax_ce", "softmax", "probabilities"),
                                                  ("kl_div", "softmax", "probabilities"),
                                                  ("sigmoid_bce", "sigmoid", "probabilities"),
                                                  ("mse", "identity", "outputs"), ("l1", "identity", "outputs"),
                                                  ("huber", "identity", "outputs")])
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_output_follows_the_loss(loss: str, function: str, name: str, dtype, tmp_path: Path) -> None:
    net = MultiLayerNet(8, [6], 4, loss=loss, dtype=dtype, seed=0)
    model = onnx_model(net)
    assert [o.name for o in model.graph.output] == [name]
    assert {p.key: p.value for p in model.metadata_props}["output_function"] == function
    runner = exported(net, tmp_path)
    assert runner.output_function == function
    assert max_difference(net, runner, random_batch((8,), 5, dtype, scale=3)) <= TOLERANCE[dtype]


# ---------------------------------------------------------------------- the model file


def test_model_is_checked_named_and_described(tmp_path: Path) -> None:
    net = SimpleConvNet(dtype=np.float32, seed=0)
    path = net.to_onnx(tmp_path / "simple.onnx")
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.producer_name == "ferronet" and model.producer_version == ferronet.__version__
    assert [o.version for o in model.opset_import if o.domain == ""] == [DEFAULT_OPSET]
    (graph_input,) = model.graph.input
    assert graph_input.name == "input"
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param == "N" and [d.dim_value for d in dims[1:]] == [1, 28, 28]
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["ferronet_version"] == ferronet.__version__ and meta["class"] == "SimpleConvNet"
    assert meta["dtype"] == "float32" and json.loads(meta["input_shape"]) == [1, 28, 28]
    assert json.loads(meta["arguments"])["conv_param"]["filter_num"] == 30
    assert {n.op_type for n in model.graph.node} == {"Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Softmax"}
    assert not list(tmp_path.glob(".*tmp-*"))  # written atomically, nothing left beside it


def test_float64_model_avoids_the_ops_onnx_runtime_lacks_in_double() -> None:
    net = Mixed(np.float64)
    net.layers["Tanh1"] = ACTIVATIONS["elu"]()
    model = onnx_model(net, input_shape=(2, 11, 9))
    ops = {n.op_type for n in model.graph.node}
    assert not ops & {"Conv", "AveragePool", "Elu", "Softplus"}
    assert not ops & {"BatchNormalization", "PRelu", "LeakyRelu"}  # float32 attributes, or kernels at some opsets
    assert {"MatMul", "Slice", "Sum", "MaxPool", "Where"} <= ops
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


@pytest.mark.parametrize("opset", [MIN_OPSET, 15, DEFAULT_OPSET, 19, 21])
@pytest.mark.parametrize("dtype", DTYPES)
def test_opsets(opset: int, dtype, tmp_path: Path) -> None:
    """ONNX Runtime's float64 kernels differ by opset (PRelu and LeakyRelu: 16 to 18 only): every layer
    mode, with each activation that takes another form in float64, at old and new opsets."""
    for activation in ("gelu", "elu", "softplus", "leaky_relu", "rrelu", "relu6"):
        net = with_moved_statistics(Mixed(dtype))
        net.layers["Tanh1"] = ACTIVATIONS[activation]()
        runner = exported(net, tmp_path, input_shape=(2, 11, 9), opset=opset)
        assert max_difference(net, runner, random_batch((2, 11, 9), 4, dtype, scale=2)) <= TOLERANCE[dtype]


def test_a_loaded_network_exports_the_same_model(tmp_path: Path) -> None:
    net = with_moved_statistics(MultiLayerNetExtend(784, [20], 10, use_batchnorm=True, seed=3))
    path = net.save_params(tmp_path / "net.safetensors")
    x = random_batch((784,), 4, np.float64)
    assert max_difference(net, exported(ferronet.load(path), tmp_path), x) <= 1e-10


# ---------------------------------------------------------------------- what cannot be exported


class Doubler(Layer):
    """A layer of the protocol with no converter."""

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        return 2 * x


class WithDoubler(LayerNetwork):
    def __init__(self) -> None:
        super().__init__()
        self.add_layer("Affine1", Affine(self.add_param("W1", np.eye(3)), self.add_param("b1", np.zeros(3))),
                       W="W1", b="b1")
        self.add_layer("Twice", Doubler())


class MyRelu(Relu):
    """A subclass may compute something else: it needs a converter of its own."""


def test_unsupported_layers_are_named(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedLayerError, match=r"layer 'Twice' \(test_export_onnx\.Doubler\) "
                                                    r"cannot be exported to ONNX: ferronet exports Affine, "):
        WithDoubler().to_onnx(tmp_path / "mul.onnx")
    net = MultiLayerNet(3, [2], 2)
    net.layers["Activation_function1"] = MyRelu()
    with pytest.raises(UnsupportedLayerError, match=r"layer 'Activation_function1' \(.*MyRelu\)"):
        net.to_onnx(tmp_path / "relu.onnx")
    assert not list(tmp_path.iterdir())


def test_bad_requests_are_clear_errors(tmp_path: Path) -> None:
    net = MultiLayerNet(4, [3], 2, dtype=np.float32)
    with pytest.raises(ValueError, match=r"opset must be an int from 13 to \d+"):
        net.to_onnx(tmp_path / "a.onnx", opset=12)
    with pytest.raises(ValueError, match="unknown output function 'relu'"):
        ferronet.export.to_onnx(net, tmp_path / "a.onnx", output="relu")
    with pytest.raises(ValueError, match=r"samples of shape \(5,\) do not fit layer 'Affine1' \(Affine\)"):
        net.to_onnx(tmp_path / "a.onnx", input_shape=(5,))
    with pytest.raises(ValueError, match=r"input_shape must be a tuple of positive ints"):
        net.to_onnx(tmp_path / "a.onnx", input_shape=(0,))
    with pytest.raises(ValueError, match=r"Pools does not know the shape of its input samples: pass input_shape"):
        Pools("max").to_onnx(tmp_path / "a.onnx")
    for key in net.params:
        net.params[key] = net.params[key].astype(np.float16)  # the book's half-precision experiment
    with pytest.raises(TypeError, match="W1 holds float16 but the network is float32"):
        net.to_onnx(tmp_path / "a.onnx")
    assert not list(tmp_path.iterdir())


def test_failed_export_keeps_the_previous_file(tmp_path: Path) -> None:
    target = MultiLayerNet(4, [3], 2).to_onnx(tmp_path / "m.onnx")
    before = target.read_bytes()
    with pytest.raises(UnsupportedLayerError):
        WithDoubler().to_onnx(target)
    assert target.read_bytes() == before


def test_missing_onnx_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r"ONNX export needs the 'onnx' package.*"
                                                     r"pip install 'ferronet\[onnx\]'"):
        MultiLayerNet(4, [3], 2).to_onnx(tmp_path / "m.onnx")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingDependencyError, match=r"running ONNX models needs the 'onnxruntime' package"):
        OnnxRunner(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_runner_refuses_what_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"not a protobuf at all")
    with pytest.raises(ValueError, match=r"garbage\.onnx: ONNX Runtime cannot load it"):
        OnnxRunner(path)


@pytest.mark.parametrize("dtype", DTYPES)
def test_scikit_learn_estimators_export_what_they_predict(dtype, tmp_path: Path) -> None:
    """Each estimator's ONNX model takes network_input(X) and gives predict_proba (classifiers, in
    classes_'s order) or the predictions (the regressor)."""
    pytest.importorskip("sklearn")
    from ferronet.sklearn import ConvNetClassifier, MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.random((60, 64))
    labels = np.array(["coat", "shirt", "bag"])[rng.integers(0, 3, 60)]
    name = np.dtype(dtype).name
    for est in (MLPClassifier(hidden_layer_sizes=(16,), epochs=2, dtype=name, random_state=0),
                ConvNetClassifier(epochs=1, dtype=name, random_state=0)):
        est.fit(X, labels)
        runner = OnnxRunner(est.to_onnx(tmp_path / f"{type(est).__name__}.onnx"))
        got = runner.run(est.network_input(X))
        assert got.dtype == dtype
        assert np.max(np.abs(got - est.predict_proba(X))) <= TOLERANCE[dtype]
        assert np.array_equal(est.classes_[np.argmax(got, axis=1)], est.predict(X))
    reg = MLPRegressor(hidden_layer_sizes=(8,), epochs=2, dtype=name, random_state=0).fit(X, rng.random((60, 2)))
    got = OnnxRunner(reg.to_onnx(tmp_path / "regressor.onnx")).run(reg.network_input(X))
    assert np.max(np.abs(got - reg.predict(X))) <= TOLERANCE[dtype] * 10
