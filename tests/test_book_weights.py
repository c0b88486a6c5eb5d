"""The book's weight files: pickles of a dict of arrays, read by content without running them;
the book's file names and keyword for save_params / load_params."""

from __future__ import annotations

import os
import pickle
import struct
import warnings
import zipfile

import numpy as np
import pytest

from ferronet.book_pickle import UnsafePickleError, read_book_pickle
from ferronet.functions import sigmoid, softmax
from ferronet.networks import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet
from ferronet.networks.param_file import MissingStateWarning


def book_sample_weights(seed=0):
    """Arrays laid out like ch03/sample_weight.pkl: a 784-50-100-10 sigmoid network, float32."""
    gen = np.random.default_rng(seed)
    sizes = [784, 50, 100, 10]
    weights = {}
    for i in range(1, 4):
        weights[f"W{i}"] = (0.1 * gen.standard_normal((sizes[i - 1], sizes[i]))).astype(np.float32)
        weights[f"b{i}"] = (0.1 * gen.standard_normal(sizes[i])).astype(np.float32)
    return weights


def book_predict(network, x):
    """ch03/neuralnet_mnist.py's predict."""
    a1 = np.dot(x, network["W1"]) + network["b1"]
    z1 = sigmoid(a1)
    a2 = np.dot(z1, network["W2"]) + network["b2"]
    z2 = sigmoid(a2)
    return softmax(np.dot(z2, network["W3"]) + network["b3"])


def dump(path, obj, protocol):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    return path


# ---------------------------------------------------------------- a pickle as NumPy 1.x wrote it, by hand


def _unicode(s: str) -> bytes:
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


def _int(n: int) -> bytes:
    return b"K" + bytes([n]) if 0 <= n < 256 else b"J" + struct.pack("<i", n)


def _tuple(items: list[bytes]) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _array(a: np.ndarray, raw: bytes | None = None, shape: tuple[int, ...] | None = None) -> bytes:
    """Opcodes rebuilding ``a`` as NumPy 1.x pickled it: ``_reconstruct(ndarray, (0,), b'b')``, then
    BUILD with ``(1, shape, dtype, False, raw bytes)``.  ``raw`` replaces the opcodes pushing the
    bytes and ``shape`` the shape written (to craft bad files)."""
    order = a.dtype.byteorder if a.dtype.byteorder in "<>|" else "<"
    dtype_state = _tuple([_int(3), _unicode(order), b"N", b"N", b"N", _int(-1), _int(-1), _int(0)])
    dtype = b"cnumpy\ndtype\n" + _unicode(a.dtype.str[1:]) + _int(0) + _int(1) + b"\x87R" + dtype_state + b"b"
    if raw is None:
        data = a.tobytes(order="C")
        raw = b"B" + struct.pack("<I", len(data)) + data  # BINBYTES
    shape_ops = _tuple([_int(n) for n in (a.shape if shape is None else shape)])
    return (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + _int(0) + b"\x85"
            + b"C\x01b" + b"\x87R"  # _reconstruct(ndarray, (0,), b'b')
            + _tuple([_int(1), shape_ops, dtype, b"\x89", raw]) + b"b")  # BUILD


def old_numpy_pickle(arrays: dict[str, np.ndarray]) -> bytes:
    """Protocol 3 as Python 3.5 + NumPy 1.11 wrote ``pickle.dump(params, f)`` in 2016: GLOBAL
    ``numpy.core.multiarray _reconstruct``, ``numpy dtype`` called with ints ('f8', 0, 1)."""
    items = b"".join(_unicode(name) + _array(a) for name, a in arrays.items())
    return b"\x80\x03}(" + items + b"u."  # PROTO 3, EMPTY_DICT, MARK, ..., SETITEMS, STOP


def test_the_hand_made_old_pickle_is_what_numpy_reads():
    weights = book_sample_weights()
    data = old_numpy_pickle(weights)
    assert b"numpy.core.multiarray\n_reconstruct" in data and b"_core" not in data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy 2 warns on the numpy.core path
        real = pickle.loads(data)
    assert real.keys() == weights.keys()
    for k in weights:
        np.testing.assert_array_equal(real[k], weights[k])
        assert real[k].dtype == weights[k].dtype


# ---------------------------------------------------------------- loading the book's pickles


@pytest.mark.parametrize("protocol", [2, 3, 4, "old-numpy"])
def test_ch03_sample_network_loads_the_books_pickle(tmp_path, protocol, backend):
    weights = book_sample_weights()
    path = tmp_path / "sample_weight.pkl"
    if protocol == "old-numpy":
        path.write_bytes(old_numpy_pickle(weights))
    else:
        dump(path, weights, protocol)
    net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid")
    net.load_params(path)
    for k in weights:
        np.testing.assert_array_equal(net.params[k], weights[k].astype(np.float64))
        assert net.params[k].dtype == np.float64
    x = np.random.default_rng(1).random((20, 784), dtype=np.float32)
    np.testing.assert_allclose(softmax(net.predict(x)), book_predict(weights, x), rtol=1e-5, atol=1e-7)
    # and the book's own code path reads the same dict
    loaded = read_book_pickle(path)
    assert loaded.keys() == weights.keys()
    assert all(loaded[k].dtype == np.float32 and loaded[k].flags.writeable for k in loaded)


@pytest.mark.parametrize("protocol", [0, 1, 5])
def test_other_pickle_protocols_load_too(tmp_path, protocol):
    arrays = {"a": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "b": np.arange(4, dtype=">i4"),
              "c": np.float64(2.5), "d": np.zeros((0, 3), np.float32)}
    loaded = read_book_pickle(dump(tmp_path / "p.pkl", arrays, protocol))
    for k, v in arrays.items():
        np.testing.assert_array_equal(loaded[k], v)
        assert loaded[k].dtype == np.asarray(v).dtype and loaded[k].shape == np.shape(v)


def test_file_name_keyword_and_float64_pickles_into_a_float32_net(tmp_path):
    weights = {k: v.astype(np.float64) for k, v in book_sample_weights(3).items()}
    path = dump(tmp_path / "w.pkl", weights, 2)
    net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid", dtype=np.float32)
    net.load_params(file_name=str(path))
    np.testing.assert_allclose(net.params["W2"], weights["W2"], rtol=1e-6)
    assert net.params["W2"].dtype == np.float32


@pytest.mark.parametrize("make", [
    lambda: SimpleConvNet(seed=3),
    lambda: DeepConvNet(seed=3),
], ids=["SimpleConvNet", "DeepConvNet"])
def test_conv_nets_load_their_books_params_dict(tmp_path, make):
    source, target = make(), make()
    for k in target.params:
        target.params[k][...] = 0
    book_params = {k: np.array(v) for k, v in source.params.items()}  # what the book's save_params pickles
    target.load_params(dump(tmp_path / "params.pkl", book_params, 3))
    x = np.random.default_rng(0).random((5, 1, 28, 28))
    np.testing.assert_allclose(target.predict(x), source.predict(x), rtol=1e-12)


def test_batchnorm_state_is_kept_and_reported_when_the_pickle_lacks_it(tmp_path):
    net = MultiLayerNetExtend(6, [5, 4], 3, use_batchnorm=True, seed=0)
    net.loss(np.random.default_rng(0).random((8, 6)), np.arange(8) % 3, train_flg=True)  # move the statistics
    state_before = {k: v.copy() for k, v in net.persistent_state().items()}
    source = MultiLayerNetExtend(6, [5, 4], 3, use_batchnorm=True, seed=1)
    path = dump(tmp_path / "bn.pkl", dict(source.params), 4)
    with pytest.warns(MissingStateWarning, match="BatchNorm1.running_mean"):
        net.load_params(path)
    for k in source.params:
        np.testing.assert_array_equal(net.params[k], source.params[k])
    for k, v in net.persistent_state().items():
        np.testing.assert_array_equal(v, state_before[k])  # kept, not reset

    # a pickle that has the statistics (under ferronet's names) loads them, silently
    full = {**source.params, **{k: v + 1 for k, v in source.persistent_state().items()}}
    net.load_params(dump(tmp_path / "bn_full.pkl", full, 4))
    for k, v in net.persistent_state().items():
        np.testing.assert_array_equal(v, full[k])


# ---------------------------------------------------------------- mismatches and damage


def test_shape_and_name_mismatches_name_the_file(tmp_path):
    net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid")
    before = {k: v.copy() for k, v in net.params.items()}
    weights = book_sample_weights()
    wrong_shape = dict(weights, W2=np.zeros((50, 99), np.float32))
    path = dump(tmp_path / "shape.pkl", wrong_shape, 3)
    with pytest.raises(ValueError, match=r"shape\.pkl.*'W2'.*\(50, 99\)"):
        net.load_params(path)
    missing = {k: v for k, v in weights.items() if k != "b3"}
    with pytest.raises(ValueError, match=r"missing\.pkl.*missing \['b3'\]"):
        net.load_params(dump(tmp_path / "missing.pkl", missing, 3))
    extra = dict(weights, W4=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"extra\.pkl.*unexpected \['W4'\]"):
        net.load_params(dump(tmp_path / "extra.pkl", extra, 3))
    for k in before:  # nothing was changed by any refused file
        np.testing.assert_array_equal(net.params[k], before[k])


@pytest.mark.parametrize("content, message", [
    (lambda: [np.zeros(2)], "holds a list"),
    (lambda: {"W1": "text"}, "'W1' holds str"),
    (lambda: {1: np.zeros(2)}, "key of type int"),
    (lambda: {"W1": np.array([1, "a"], dtype=object)}, "numbers only"),
    (lambda: {"W1": np.zeros(2, dtype=[("a", "f8"), ("b", "i4")])}, "numbers only|structured"),
    (lambda: {"W1": np.zeros(2, dtype=np.complex128)}, "numbers only"),
    (lambda: {"W1": np.array(["ab"])}, "numbers only"),
], ids=["list", "str-value", "int-key", "object-array", "structured", "complex", "unicode"])
def test_what_is_not_a_dict_of_number_arrays_is_refused(tmp_path, content, message):
    path = dump(tmp_path / "odd.pkl", content(), 4)
    with pytest.raises(ValueError, match=rf"odd\.pkl.*({message})"):
        read_book_pickle(path)


def test_damaged_pickles_name_the_file(tmp_path):
    good = pickle.dumps(book_sample_weights(), protocol=3)
    cases = {
        "truncated.pkl": good[: len(good) // 2],
        "trailing.pkl": good + b"junk",
        "garbage.pkl": b"\x80\x03" + np.random.default_rng(0).bytes(64),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=name.replace(".", r"\.")):
            MultiLayerNet(784, [50, 100], 10, activation="sigmoid").load_params(tmp_path / name)


def test_an_array_header_is_never_trusted(tmp_path):
    # shape (10**6, 10**6) with 8 bytes of data: refused before anything of that size is allocated
    lie = b"\x80\x03}(" + _unicode("W1") + _array(np.zeros(1), shape=(10**6, 10**6)) + b"u."
    (tmp_path / "lie.pkl").write_bytes(lie)
    with pytest.raises(ValueError, match=r"lie\.pkl.*\(1000000, 1000000\).*8 bytes"):
        read_book_pickle(tmp_path / "lie.pkl")
    negative = b"\x80\x03}(" + _unicode("W1") + _array(np.zeros(1), shape=(-1,)) + b"u."
    (tmp_path / "negative.pkl").write_bytes(negative)
    with pytest.raises(ValueError, match=r"negative\.pkl.*shape"):
        read_book_pickle(tmp_path / "negative.pkl")


def test_one_byte_string_shared_by_many_arrays_is_not_multiplied(tmp_path):
    # 800 kB of bytes stored once (BINPUT 1) and reused (BINGET 1) by 50 arrays: 40 MB if obeyed
    a = np.zeros(100_000)
    data = a.tobytes()
    first = _array(a, raw=b"B" + struct.pack("<I", len(data)) + data + b"q\x01")
    rest = b"".join(_unicode(f"W{i}") + _array(a, raw=b"h\x01") for i in range(1, 50))
    (tmp_path / "shared.pkl").write_bytes(b"\x80\x03}(" + _unicode("W0") + first + rest + b"u.")
    assert (tmp_path / "shared.pkl").stat().st_size < 2 * len(data)
    with pytest.raises(ValueError, match=r"shared\.pkl.*more data than the file holds"):
        read_book_pickle(tmp_path / "shared.pkl")
    few = b"".join(_unicode(f"W{i}") + _array(a, raw=b"h\x01") for i in range(1, 2))
    (tmp_path / "two.pkl").write_bytes(b"\x80\x03}(" + _unicode("W0") + first + few + b"u.")
    assert len(read_book_pickle(tmp_path / "two.pkl")) == 2  # within twice the file's size: fine


def test_neither_npz_nor_pickle(tmp_path):
    net = MultiLayerNet(4, [3], 2)
    (tmp_path / "text.pkl").write_text("W1 = 0\n")
    with pytest.raises(ValueError, match=r"text\.pkl.*neither"):
        net.load_params(tmp_path / "text.pkl")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.npz.*empty"):
        net.load_params(tmp_path / "empty.npz")
    with pytest.raises(FileNotFoundError):
        net.load_params(tmp_path / "absent.pkl")


# ---------------------------------------------------------------- pickles that would run code


class RunsACommand:
    """Unpickling this with pickle.load runs a shell command (``touch marker``)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class CallsEval:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (eval, (f"open({self.marker!r}, 'w').close()",))


@pytest.mark.parametrize("where", ["value", "key", "top", "array-data"])
@pytest.mark.parametrize("payload", [RunsACommand, CallsEval], ids=["os.system", "eval"])
@pytest.mark.parametrize("protocol", [2, 4])
def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path, where, payload, protocol):
    marker = tmp_path / "ran"
    evil = payload(marker)
    weights = book_sample_weights()
    if where == "value":
        obj = dict(weights, W1=evil)
    elif where == "key":
        obj = {**weights, evil: np.zeros(2)}
    elif where == "top":
        obj = evil
    else:  # a reduce hidden in an array's state, where the raw bytes go
        class EvilArray:
            def __reduce__(self):
                reconstruct = np.zeros(1).__reduce__()[0]  # NumPy's _reconstruct
                return (reconstruct, (np.ndarray, (0,), b"b"), (1, (1,), np.dtype("f8"), False, evil))
        obj = dict(weights, W1=EvilArray())
    path = dump(tmp_path / "evil.pkl", obj, protocol)

    net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid")
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(UnsafePickleError, match=r"evil\.pkl.*refused to load the global (posix|os|nt)\.system|"
                                                r"evil\.pkl.*refused to load the global (__builtin__|builtins)\.eval"):
        net.load_params(path)
    with pytest.raises(UnsafePickleError):
        read_book_pickle(path)
    assert not marker.exists()  # the command never ran
    for k in before:
        np.testing.assert_array_equal(net.params[k], before[k])

    if where == "value" and payload is RunsACommand and protocol == 2:
        pickle.loads(path.read_bytes())  # the payload is live: the plain pickle module runs it
        assert marker.exists()


def test_refused_globals_are_refused_whatever_they_are(tmp_path):
    for module, name in [("subprocess", "Popen"), ("numpy", "load"), ("numpy.core.multiarray", "fromstring"),
                         ("builtins", "getattr"), ("copyreg", "_reconstructor"), ("numpy", "frombuffer")]:
        data = b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n)R."
        (tmp_path / "g.pkl").write_bytes(data)
        with pytest.raises(UnsafePickleError, match=rf"g\.pkl.*{module}\.{name}"):
            read_book_pickle(tmp_path / "g.pkl")


# ---------------------------------------------------------------- file names and the book's keyword


def test_book_names_keep_their_extension_and_hold_npz(tmp_path):
    net = MultiLayerNet(4, [3], 2, seed=0)
    for name, written in [("params.pkl", "params.pkl"), ("weights.v2", "weights.v2"), ("plain", "plain.npz"),
                          ("p.npz", "p.npz")]:
        path = net.save_params(tmp_path / name)
        assert path == tmp_path / written and zipfile.is_zipfile(path)
    other = MultiLayerNet(4, [3], 2, seed=1)
    other.load_params(tmp_path / "params.pkl")  # an .npz archive under the book's name, found by content
    other.load_params(tmp_path / "plain")  # .npz appended, as when saving
    np.testing.assert_array_equal(other.params["W1"], net.params["W1"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.npz", "params.pkl", "plain.npz", "weights.v2"]


def test_file_name_keyword(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    net = MultiLayerNet(4, [3], 2, seed=0)
    assert net.save_params(file_name="book.pkl").name == "book.pkl"
    assert zipfile.is_zipfile(tmp_path / "book.pkl")
    other = MultiLayerNet(4, [3], 2, seed=1)
    other.load_params(file_name="book.pkl")
    np.testing.assert_array_equal(other.params["W2"], net.params["W2"])
    net.save_params()
    assert (tmp_path / "params.npz").exists()  # the default name
    with pytest.raises(TypeError, match="not both"):
        net.save_params("a.npz", file_name="b.npz")
    with pytest.raises(TypeError, match="not both"):
        net.load_params("a.npz", file_name="b.npz")
