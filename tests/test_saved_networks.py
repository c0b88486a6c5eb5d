"""Weight files with the network's description: .npz and safetensors round trips, ferronet.load, the
book's pickles, and safetensors files whose header lies."""

from __future__ import annotations

import copy
import json
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import ferronet
from ferronet.layers import HuberLoss, MSELoss
from ferronet.networks import (NETWORK_CLASSES, DeepConvNet, LayerNetwork, MultiLayerNet, MultiLayerNetExtend,
                               SimpleConvNet, TwoLayerNet)
from ferronet.networks import architecture, param_file, safetensors_file
from ferronet.optional import MissingDependencyError

pytest.importorskip("safetensors")

FORMATS = ["npz", "safetensors"]
SMALL_CONV = {"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1}


def small_deep(dtype=np.float64, seed=0) -> DeepConvNet:
    conv = [{"filter_num": n, "filter_size": 3, "pad": p, "stride": 1} for n, p in
            ((2, 1), (2, 1), (3, 1), (3, 2), (4, 1), (4, 1))]
    return DeepConvNet(input_dim=(1, 12, 12), **{f"conv_param_{i + 1}": c for i, c in enumerate(conv)},
                       hidden_size=6, output_size=4, dtype=dtype, seed=seed)


#: one small network of each class, and its input sample shape
NETWORKS = {
    "TwoLayerNet": (lambda dt: TwoLayerNet(12, 7, 4, dtype=dt, seed=0, activation="prelu"), (12,)),
    "MultiLayerNet": (lambda dt: MultiLayerNet(12, [7, 5], 4, dtype=dt, seed=0, activation="elu"), (12,)),
    "MultiLayerNetExtend": (lambda dt: MultiLayerNetExtend(12, [7, 5], 4, use_batchnorm=True, use_dropout=True,
                                                           dropout_ratio=0.3, dtype=dt, seed=0), (12,)),
    "SimpleConvNet": (lambda dt: SimpleConvNet((2, 8, 8), SMALL_CONV, 6, 4, dtype=dt, seed=0), (2, 8, 8)),
    "DeepConvNet": (lambda dt: small_deep(dt), (1, 12, 12)),
}


def trained(name: str, dtype=np.float64) -> tuple[LayerNetwork, np.ndarray]:
    """The network ``name`` after three SGD steps (batch norm statistics moved away from 0 and 1),
    and a batch of inputs."""
    build, shape = NETWORKS[name]
    net = build(dtype)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, *shape)).astype(dtype)
    t = rng.integers(0, 4, 16)
    for _ in range(3):
        for key, grad in net.gradient(x, t).items():
            net.params[key] -= 0.1 * grad
    return net, x


# ---------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(NETWORKS))
def test_round_trip_through_load_params_and_ferronet_load(name: str, fmt: str, tmp_path: Path) -> None:
    net, x = trained(name)
    path = net.save_params(tmp_path / "weights", format=fmt)
    assert path.name == f"weights.{fmt}"
    expected = net.predict(x)

    again = NETWORKS[name][0](np.float64)  # fresh weights, then the file's
    again.load_params(path)
    np.testing.assert_array_equal(again.predict(x), expected)

    rebuilt = ferronet.load(path)  # from the file alone
    assert type(rebuilt) is type(net) and rebuilt.dtype == net.dtype
    for key, value in {**net.params, **net.persistent_state()}.items():
        np.testing.assert_array_equal({**rebuilt.params, **rebuilt.persistent_state()}[key], value)
    np.testing.assert_array_equal(rebuilt.predict(x), expected)


@pytest.mark.parametrize("fmt", FORMATS)
def test_batch_norm_statistics_are_saved(fmt: str, tmp_path: Path) -> None:
    net, x = trained("MultiLayerNetExtend")
    state = net.persistent_state()
    assert set(state) == {"BatchNorm1.running_mean", "BatchNorm1.running_var",
                          "BatchNorm2.running_mean", "BatchNorm2.running_var"}
    assert not np.allclose(state["BatchNorm1.running_var"], 1)  # trained: not the initial statistics
    rebuilt = ferronet.load(net.save_params(tmp_path / "bn", format=fmt))
    for key, value in state.items():
        np.testing.assert_array_equal(rebuilt.persistent_state()[key], value)


def test_safetensors_tensors_are_named_as_in_params(tmp_path: Path) -> None:
    net, _ = trained("MultiLayerNetExtend", np.float32)
    path = net.save_params(tmp_path / "net.safetensors")  # the extension chooses the format
    header = safetensors_file.read_header(path)
    assert set(header.tensors) == {*net.params, *net.persistent_state()}
    assert all(entry.dtype == np.float32 for entry in header.tensors.values())
    assert header.metadata["class"] == "MultiLayerNetExtend" and header.metadata["dtype"] == "float32"
    arguments = json.loads(header.metadata["arguments"])
    assert arguments["hidden_size_list"] == [7, 5] and arguments["use_batchnorm"] is True
    from safetensors.numpy import load_file  # any safetensors reader sees the same tensors

    loaded = load_file(str(path))
    for key, value in net.params.items():
        np.testing.assert_array_equal(loaded[key], value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_format_is_read_from_the_content_not_the_name(fmt: str, tmp_path: Path) -> None:
    net, x = trained("TwoLayerNet")
    path = net.save_params(tmp_path / "params.pkl", format=fmt)  # the book's name, either format
    assert path.name == "params.pkl"
    assert param_file.detect_format(path) == fmt
    np.testing.assert_array_equal(ferronet.load(path).predict(x), net.predict(x))


def test_float32_file_loads_into_float64_network(tmp_path: Path) -> None:
    net, x = trained("SimpleConvNet", np.float32)
    path = net.save_params(tmp_path / "p.safetensors")
    wide = SimpleConvNet((2, 8, 8), SMALL_CONV, 6, 4, dtype=np.float64)
    wide.load_params(path)
    np.testing.assert_allclose(wide.predict(x), net.predict(x), rtol=1e-5, atol=1e-6)


def test_book_pickle_round_trip_and_no_description(tmp_path: Path) -> None:
    """The book's ``pickle.dump(params)`` files load into a network; ferronet.load needs a description."""
    net, x = trained("SimpleConvNet")
    path = tmp_path / "params.pkl"
    with open(path, "wb") as fh:
        pickle.dump({k: v.copy() for k, v in net.params.items()}, fh)
    again = SimpleConvNet((2, 8, 8), SMALL_CONV, 6, 4)
    again.load_params(path)
    np.testing.assert_array_equal(again.predict(x), net.predict(x))
    with pytest.raises(ValueError, match=r"params\.pkl: holds no description of a network.*load_params"):
        ferronet.load(path)


def test_safetensors_header_that_starts_like_a_pickle(tmp_path: Path) -> None:
    """A 640-byte header's length starts with the bytes of a protocol-2 pickle: still safetensors."""
    net = TwoLayerNet(3, 2, 2, seed=0)

    def header(pad: str) -> dict:
        tensors, offset = {"__metadata__": {"pad": pad}}, 0
        for key, value in net.params.items():
            tensors[key] = {"dtype": "F64", "shape": list(value.shape), "data_offsets": [offset, offset + value.nbytes]}
            offset += value.nbytes
        return tensors

    pad = " " * (640 - len(json.dumps(header(""))))
    data = safetensors_bytes(header(pad), b"".join(v.tobytes() for v in net.params.values()))
    assert data[:2] == b"\x80\x02"  # what a protocol-2 pickle starts with
    path = tmp_path / "looks-like-pickle.bin"
    path.write_bytes(data)
    assert param_file.detect_format(path) == "safetensors"
    fresh = TwoLayerNet(3, 2, 2, seed=1)
    fresh.load_params(path)
    for key, value in net.params.items():
        np.testing.assert_array_equal(fresh.params[key], value)


# ---------------------------------------------------------------------- the recorded arguments


def test_every_network_records_its_arguments_with_defaults() -> None:
    assert set(NETWORK_CLASSES) == {"TwoLayerNet", "MultiLayerNet", "MultiLayerNetExtend", "SimpleConvNet",
                                    "DeepConvNet"}
    hidden = [7, 5]
    net = MultiLayerNet(12, hidden, 4, seed=0)
    hidden.append(99)  # the caller's list changes later: the record does not
    args = net.init_arguments
    assert args["hidden_size_list"] == [7, 5] and args["activation"] == "relu" and args["dtype"] is np.float64
    conv = SimpleConvNet().init_arguments
    assert conv["conv_param"] == {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}
    assert DeepConvNet(seed=1).init_arguments["conv_param_4"]["pad"] == 2
    assert copy.deepcopy(net).init_arguments == args  # copies keep the record


def test_sample_shape() -> None:
    assert TwoLayerNet(12, 3, 2).sample_shape() == (12,)
    assert SimpleConvNet().sample_shape() == (1, 28, 28)
    assert small_deep().sample_shape() == (1, 12, 12)


def test_loss_layer_instances_are_described(tmp_path: Path) -> None:
    net = MultiLayerNet(4, [3], 2, loss=HuberLoss(delta=0.25), seed=0)
    assert json.loads(net.metadata()["arguments"])["loss"] == {"loss_layer": "huber", "arguments": {"delta": 0.25}}
    rebuilt = ferronet.load(net.save_params(tmp_path / "huber"))
    assert isinstance(rebuilt.last_layer, HuberLoss) and rebuilt.last_layer.delta == 0.25
    assert isinstance(ferronet.load(MultiLayerNet(4, [3], 2, loss=MSELoss()).save_params(tmp_path / "m"))
                      .last_layer, MSELoss)


class Custom(MultiLayerNet):
    """A subclass nobody registered."""


class OddLoss(MSELoss):
    pass


class Hooked(MultiLayerNet):
    """A network with an argument JSON cannot hold."""

    def __init__(self, input_size: int, hidden_size_list: list[int], output_size: int, hook=None) -> None:
        super().__init__(input_size, hidden_size_list, output_size, seed=0)
        self.hook = hook


@pytest.mark.parametrize("fmt", FORMATS)
def test_networks_that_cannot_be_described_save_weights_and_say_why(fmt: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(NETWORK_CLASSES, "Hooked", Hooked)
    cases = {
        "unregistered": (Custom(4, [3], 2, seed=0), r"unknown network class 'Custom'.*register_network adds others"),
        "odd loss": (MultiLayerNet(4, [3], 2, loss=OddLoss(), seed=0),
                     r".* was saved without its constructor arguments \(argument 'loss' is a OddLoss, not one of the loss"),
        "object": (Hooked(4, [3], 2, hook=print),
                   r".* was saved without its constructor arguments \(argument 'hook' is a builtin_function_or_method"),
    }
    assert "is not registered" in Custom(4, [3], 2).metadata()["arguments_missing"]
    for what, (net, message) in cases.items():
        path = net.save_params(tmp_path / what.replace(" ", "_"), format=fmt)
        with pytest.raises(ValueError, match=rf"{path.name}: {message}"):
            ferronet.load(path)
        MultiLayerNet(4, [3], 2).load_params(path)  # the weights are there


def test_registering_a_class_makes_it_loadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(NETWORK_CLASSES, "Custom", Custom)
    net = Custom(4, [3], 2, seed=0)
    assert type(ferronet.load(net.save_params(tmp_path / "custom"))) is Custom
    with pytest.raises(ValueError, match="different network class is already registered as 'MultiLayerNet'"):
        architecture.register_network(type("MultiLayerNet", (LayerNetwork,), {}))


def _rewrite_npz_metadata(path: Path, change) -> None:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(members["ferronet.json"])
    change(meta)
    members["ferronet.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update({"class": "os.system"}), r"unknown network class 'os\.system'; ferronet can rebuild"),
    (lambda m: m.update({"arguments": json.dumps({"input_size": 4, "bogus": 1})}),
     r"cannot rebuild MultiLayerNet from its saved arguments:.*bogus"),
    (lambda m: m.update({"arguments": json.dumps({"input_size": 4, "hidden_size_list": [3], "output_size": 2,
                                                  "activation": "nope"})}),
     r"cannot rebuild MultiLayerNet.*unknown activation 'nope'"),
    (lambda m: m.update({"arguments": "{not json"}), r"the arguments of MultiLayerNet are not valid JSON"),
    (lambda m: m.update({"arguments": "[1, 2]"}), r"the arguments of MultiLayerNet must be a JSON object, got list"),
    (lambda m: m.update({"format": "other"}), r"holds no description of a network"),
    (lambda m: m.update({"class": 3}), r"the network description must be a JSON object of strings"),
])
def test_bad_descriptions_are_errors_naming_the_file(change, message: str, tmp_path: Path) -> None:
    path = MultiLayerNet(4, [3], 2, seed=0).save_params(tmp_path / "net.npz")
    _rewrite_npz_metadata(path, change)
    with pytest.raises(ValueError, match=rf"net\.npz: {message}"):
        ferronet.load(path)


def test_a_plain_npz_has_no_description(tmp_path: Path) -> None:
    net = TwoLayerNet(3, 2, 2)
    path = tmp_path / "plain.npz"
    np.savez(path, **net.params)
    TwoLayerNet(3, 2, 2).load_params(path)
    with pytest.raises(ValueError, match="plain.npz: holds no description"):
        ferronet.load(path)


def test_choose_format() -> None:
    assert param_file.choose_format("a.safetensors") == "safetensors"
    assert param_file.choose_format("a.SAFETENSORS") == "safetensors"
    assert param_file.choose_format("a.pkl") == "npz" and param_file.choose_format(None) == "npz"
    assert param_file.choose_format("a.npz", "SafeTensors") == "safetensors"
    with pytest.raises(ValueError, match=r"unknown weight file format 'h5'; choose one of \['npz', 'safetensors'\]"):
        TwoLayerNet(3, 2, 2).save_params("x", format="h5")


def test_missing_safetensors_package_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = TwoLayerNet(3, 2, 2).save_params(tmp_path / "w.safetensors")
    monkeypatch.setitem(sys.modules, "safetensors", None)  # import safetensors now fails
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'ferronet\[safetensors\]'"):
        TwoLayerNet(3, 2, 2).save_params(tmp_path / "v.safetensors")
    with pytest.raises(MissingDependencyError, match=r"pip install 'ferronet\[safetensors\]'"):
        TwoLayerNet(3, 2, 2).load_params(path)
    assert not (tmp_path / "v.safetensors").exists()


# ---------------------------------------------------------------------- safetensors headers that lie


def safetensors_bytes(header: dict, data: bytes, length: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


GOOD = {"W": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 32]}}


@pytest.mark.parametrize("content, message", [
    (safetensors_bytes(GOOD, bytes(32), length=10**12), None),  # not recognised as safetensors at all
    (safetensors_bytes({"W": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 40]}}, bytes(40)),
     r"shape \(2, 2\) of F64 needs 32 bytes, its data_offsets \[0, 40\] span 40"),
    (safetensors_bytes({"W": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 32]}}, bytes(16)),
     r"the tensors hold 32 bytes but the file has 16"),
    (safetensors_bytes({"W": {"dtype": "F64", "shape": [2**40, 2**40], "data_offsets": [0, 32]}}, bytes(32)),
     r"needs \d+ bytes"),
    (safetensors_bytes({"W": {"dtype": "F64", "shape": [2, -2], "data_offsets": [0, 32]}}, bytes(32)),
     r"shape must be a list of at most 32 non-negative ints"),
    (safetensors_bytes({"W": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)),
     r"dtype 'BF16' is not one NumPy holds"),
    (safetensors_bytes({"W": {"dtype": "F64", "shape": [2], "data_offsets": [8, 24]}}, bytes(24)),
     r"starts at byte 8 of the data and leaves a gap"),
    (safetensors_bytes({"a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
                        "b": {"dtype": "F64", "shape": [2], "data_offsets": [8, 24]}}, bytes(24)),
     r"overlaps the one before"),
    (safetensors_bytes({"W": {"dtype": "F64", "shape": [2], "data_offsets": [16, 0]}}, bytes(16)),
     r"data_offsets must be \[begin, end\]"),
    (safetensors_bytes({"W": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16], "x": 1}}, bytes(16)),
     r"expected dtype, shape and data_offsets"),
    (safetensors_bytes({"__metadata__": {"a": 1}}, b""), r"__metadata__ must map strings to strings"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1, \"a\": 2}", r"a key is repeated"),
    (b"\x08\x00\x00\x00\x00\x00\x00\x00{not js}", r"not valid JSON"),
    (b"\x04\x00\x00\x00\x00\x00\x00\x00{\xff\xfe}", r"not valid JSON"),
])
def test_lying_headers_are_refused_before_reading(content: bytes, message: str | None, tmp_path: Path) -> None:
    path = tmp_path / "lies.safetensors"
    path.write_bytes(content)
    net = MultiLayerNet(2, [], 2)
    before = {k: v.copy() for k, v in net.params.items()}
    if message is None:
        with pytest.raises(ValueError, match=r"lies\.safetensors: neither"):
            net.load_params(path)
        with pytest.raises(ValueError, match=r"lies\.safetensors: the safetensors header claims"):
            safetensors_file.read_header(path)
    else:
        with pytest.raises(ValueError, match=rf"lies\.safetensors: not a valid safetensors file: .*{message}"):
            net.load_params(path)
    for key, value in before.items():
        np.testing.assert_array_equal(net.params[key], value)


def test_safetensors_names_and_shapes_must_match(tmp_path: Path) -> None:
    small = MultiLayerNet(4, [3], 2, seed=0).save_params(tmp_path / "small.safetensors")
    with pytest.raises(ValueError, match=r"small\.safetensors: parameter 'W1': the file has shape \(4, 3\), "
                                         r"the network has shape \(5, 3\)"):
        MultiLayerNet(5, [3], 2).load_params(small)
    with pytest.raises(ValueError, match=r"small\.safetensors: does not match this network: missing \['W3', 'b3'\]"):
        MultiLayerNet(4, [3, 3], 2).load_params(small)
    flags = tmp_path / "bool.safetensors"
    flags.write_bytes(safetensors_bytes({"W1": {"dtype": "BOOL", "shape": [4, 3], "data_offsets": [0, 12]},
                                         "b1": {"dtype": "F64", "shape": [3], "data_offsets": [12, 36]},
                                         "W2": {"dtype": "F64", "shape": [3, 2], "data_offsets": [36, 84]},
                                         "b2": {"dtype": "F64", "shape": [2], "data_offsets": [84, 100]}},
                                        bytes(100)))
    with pytest.raises(ValueError, match=r"parameter 'W1': the file holds bool, not real numbers"):
        MultiLayerNet(4, [3], 2).load_params(flags)


def test_truncated_safetensors_is_refused(tmp_path: Path) -> None:
    path = MultiLayerNet(4, [3], 2, seed=0).save_params(tmp_path / "t.safetensors")
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match=r"t\.safetensors: not a valid safetensors file: the tensors hold"):
        MultiLayerNet(4, [3], 2).load_params(path)
