"""``ferronet export`` and ``ferronet predict``: what they print and write, and one-line errors for bad input."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ferronet
from ferronet.cli import main
from ferronet.datasets import fashion_mnist_available
from ferronet.datasets.idx import write_idx
from ferronet.networks import MultiLayerNet, SimpleConvNet

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

needs_fashion = pytest.mark.skipif(not fashion_mnist_available(), reason="Fashion-MNIST is not installed")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small trained-looking SimpleConvNet saved as .npz and exported, images in several formats, labels."""
    root = tmp_path_factory.mktemp("cli")
    net = SimpleConvNet(conv_param={"filter_num": 4}, hidden_size=20, dtype=np.float32, seed=0, weight_init_std="he")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 28, 28)).astype(np.uint8)
    labels = net.predict(images.reshape(30, 1, 28, 28).astype(np.float32) / 255).argmax(axis=1).astype(np.uint8)
    labels[:6] = (labels[:6] + 1) % 10  # 24 of 30 right
    paths = {"weights": net.save_params(root / "net.npz"), "onnx": net.to_onnx(root / "net.onnx"),
             "idx": write_idx(root / "images-idx3-ubyte.gz", images),
             "idx_labels": write_idx(root / "labels-idx1-ubyte", labels)}
    for name, array in {"nchw": images.reshape(30, 1, 28, 28), "flat_float": images.reshape(30, 784) / 255.0,
                        "labels": labels, "short_labels": labels[:7], "wrong_shape": images[:, :10, :10],
                        "int64": images.astype(np.int64), "nan": np.full((2, 784), np.nan, np.float32),
                        "label_floats": labels.astype(np.float32) + 0.5}.items():
        np.save(root / f"{name}.npy", array)
        paths[name] = root / f"{name}.npy"
    truncated = root / "truncated.npy"
    truncated.write_bytes(paths["nchw"].read_bytes()[:-50])
    paths["truncated"] = truncated
    (root / "garbage.bin").write_bytes(b"definitely not a weight file")
    paths["garbage"] = root / "garbage.bin"
    return paths


@pytest.fixture(autouse=True)
def _threads_restored():
    """``--threads`` sets ferronet's thread count for the process: put it back after each command."""
    threads = ferronet.get_num_threads()
    yield
    ferronet.set_num_threads(threads)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------- export


def test_export_writes_a_checked_model(files: dict[str, Path], tmp_path: Path, capsys) -> None:
    target = tmp_path / "out.onnx"
    code, out, err = run(["export", files["weights"], "--onnx", target], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (f"exported SimpleConvNet (float32) to {target}: input 'input' (N, 1, 28, 28), output "
                        f"'probabilities' (N, 10) = softmax of the scores; opset 17")
    difference = float(lines[1].split("max difference ")[1].split()[0])
    assert lines[1].startswith("checked in ONNX Runtime") and difference <= 1e-5
    assert target.read_bytes() == files["onnx"].read_bytes()  # the same model as net.to_onnx


def test_export_options(files: dict[str, Path], tmp_path: Path, capsys) -> None:
    code, out, _ = run(["export", files["weights"], "--onnx", tmp_path / "d.onnx", "--dtype", "float64",
                        "--opset", "13", "--output", "identity"], capsys)
    assert code == 0
    assert "SimpleConvNet (float64)" in out and "'outputs' (N, 10) = identity" in out and "opset 13" in out
    runner = ferronet.export.OnnxRunner(tmp_path / "d.onnx")
    assert runner.dtype == np.float64 and runner.output_function == "identity"


def test_export_with_model_for_the_books_pickle(tmp_path: Path, capsys) -> None:
    """A file without a description (the book's pickle) needs --model: ferronet train's network of that name."""
    from ferronet.cli.train import MLP_HIDDEN

    net = MultiLayerNet(784, list(MLP_HIDDEN), 10, dtype=np.float32, seed=1)
    book = tmp_path / "params.pkl"
    with open(book, "wb") as fh:
        pickle.dump(dict(net.params), fh)
    code, _, err = run(["export", book, "--onnx", tmp_path / "m.onnx"], capsys)
    assert code == 1 and "params.pkl: holds no description of a network" in err
    code, out, err = run(["export", book, "--model", "mlp", "--onnx", tmp_path / "m.onnx"], capsys)
    assert code == 0, err
    assert "MultiLayerNet (float32)" in out and "input 'input' (N, 784)" in out


# ---------------------------------------------------------------------- predict


@pytest.mark.parametrize("data", ["nchw", "flat_float", "idx"])
@pytest.mark.parametrize("onnx", [False, True])
def test_predict_images_with_labels(data: str, onnx: bool, files: dict[str, Path], tmp_path: Path, capsys) -> None:
    out_path = tmp_path / "predictions.npy"
    labels = files["idx_labels" if data == "idx" else "labels"]
    argv = ["predict", files["onnx" if onnx else "weights"], "--data", files[data], "--labels", labels,
            "--out", out_path, "--batch-size", "7"]
    code, out, err = run(argv + (["--onnx"] if onnx else []), capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert (" in ONNX Runtime" in lines[0]) == onnx and "30 images from" in lines[0]
    assert lines[1] == "accuracy 80.00% (24 of 30 images)"
    assert lines[2] == f"wrote the predictions to {out_path}"
    predictions = np.load(out_path)
    assert predictions.dtype == np.int64 and predictions.shape == (30,)
    assert np.sum(predictions == np.load(files["labels"])) == 24


def test_predict_writes_csv(files: dict[str, Path], tmp_path: Path, capsys) -> None:
    out_path = tmp_path / "p.csv"
    assert run(["predict", files["weights"], "--data", files["nchw"], "--out", out_path], capsys)[0] == 0
    lines = out_path.read_text().splitlines()
    assert lines[0] == "index,prediction" and len(lines) == 31
    npy = tmp_path / "p.npy"
    run(["predict", files["weights"], "--data", files["nchw"], "--out", npy], capsys)
    assert [int(line.split(",")[1]) for line in lines[1:]] == np.load(npy).tolist()


@pytest.mark.parametrize("loss, header, score", [("sigmoid_bce", "index,label_0,label_1,label_2", "label accuracy"),
                                                 ("mse", "index,output_0,output_1,output_2", "R²")])
def test_predict_multilabel_and_regression(loss: str, header: str, score: str, tmp_path: Path, capsys) -> None:
    net = MultiLayerNet(784, [8], 3, loss=loss, seed=0)
    weights = net.save_params(tmp_path / "net.safetensors")
    x = np.random.default_rng(1).random((12, 784))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", np.random.default_rng(2).integers(0, 2, (12, 3)).astype(np.float64))
    for onnx in (False, True):
        model = net.to_onnx(tmp_path / "net.onnx") if onnx else weights
        argv = ["predict", model, "--data", tmp_path / "x.npy", "--labels", tmp_path / "t.npy", "--out",
                tmp_path / "p.csv"] + (["--onnx"] if onnx else [])
        code, out, err = run(argv, capsys)
        assert code == 0, err
        assert out.splitlines()[1].startswith(score)
        lines = (tmp_path / "p.csv").read_text().splitlines()
        assert lines[0] == header and len(lines) == 13
        values = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
        expected = net.predict(x)
        if loss == "mse":
            np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-9)
        else:
            np.testing.assert_array_equal(values, (expected > 0).astype(int))


@needs_fashion
def test_predict_fashion_mnist_native_and_onnx_agree(files: dict[str, Path], tmp_path: Path, capsys) -> None:
    results = {}
    for onnx in (False, True):
        out_path = tmp_path / f"p{onnx}.npy"
        argv = ["predict", files["onnx" if onnx else "weights"], "--data", "fashion-mnist", "--out", out_path,
                "--threads", "1"] + (["--onnx"] if onnx else [])
        code, out, err = run(argv, capsys)
        assert code == 0, err
        assert "10000 images from the fashion-mnist test set" in out and "accuracy" in out
        results[onnx] = (out.splitlines()[1], np.load(out_path))
    assert results[False][0] == results[True][0]
    np.testing.assert_array_equal(results[False][1], results[True][1])


# ---------------------------------------------------------------------- bad input: one line, never a traceback


BAD = [
    (["predict", "{weights}", "--data", "{wrong_shape}"],
     r"wrong_shape\.npy: images of shape \(30, 10, 10\) do not fit the network's input \(1, 28, 28\)"),
    (["predict", "{weights}", "--data", "{int64}"], r"int64\.npy: images must be uint8 \(0 to 255\) or floats"),
    (["predict", "{weights}", "--data", "{nan}"], r"nan\.npy: the images hold NaN or infinite values"),
    (["predict", "{weights}", "--data", "{truncated}"], r"truncated\.npy: the header promises 23520 bytes"),
    (["predict", "{weights}", "--data", "{garbage}"], r"garbage\.bin: neither a \.npy file nor an IDX file"),
    (["predict", "{weights}", "--data", "{dir}/absent.npy"], r"absent\.npy: no such file"),
    (["predict", "{weights}", "--data", "{nchw}", "--labels", "{short_labels}"],
     r"short_labels\.npy: 7 labels for 30 images"),
    (["predict", "{weights}", "--data", "{nchw}", "--labels", "{label_floats}"], r"labels must be class numbers"),
    (["predict", "{garbage}", "--data", "{nchw}"], r"garbage\.bin: neither ferronet's \.npz"),
    (["predict", "{dir}/absent.npz", "--data", "{nchw}"], r"absent\.npz: no such file"),
    (["predict", "{dir}", "--data", "{nchw}"], r": is a directory, not a file"),
    (["predict", "{onnx}", "--data", "{nchw}"], r"net\.onnx: neither .* \(an ONNX model\? add --onnx\)"),
    (["predict", "{weights}", "--onnx", "--data", "{nchw}"],
     r"net\.npz: ONNX Runtime cannot load it .* \(it is a weight file, format npz: drop --onnx\)"),
    (["predict", "{onnx}", "--onnx", "--model", "mlp", "--data", "{nchw}"], r"--model and --dtype describe weight"),
    (["predict", "{weights}", "--model", "mlp", "--data", "{nchw}"],
     r"net\.npz: parameter 'W1': the file has shape \(4, 1, 5, 5\), the network has shape \(784, 100\)"),
    (["predict", "{weights}", "--data", "{nchw}", "--out", "{dir}/no/such/p.npy"], r"cannot write there"),
    (["export", "{weights}", "--onnx", "{dir}/no/such/m.onnx"], r"cannot write there, no such directory"),
    (["export", "{garbage}", "--onnx", "{dir}/g.onnx"], r"garbage\.bin: neither ferronet's \.npz"),
    (["export", "{weights}", "--onnx", "{dir}/g.onnx", "--opset", "9"], r"opset must be an int from 13"),
    (["export", "{weights}", "--onnx", "{dir}/g.onnx", "--input-shape", "3,3"],
     r"samples of shape \(3, 3\) do not fit layer 'Conv1'"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_bad_input_is_one_line(argv: list[str], message: str, files: dict[str, Path], capsys) -> None:
    names = {**{k: str(v) for k, v in files.items()}, "dir": str(files["weights"].parent)}
    code, out, err = run([a.format(**names) for a in argv], capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"ferronet {argv[0]}: "), err
    assert __import__("re").search(message, err), err


@pytest.mark.parametrize("argv, message", [
    (["predict", "x.npz"], "the following arguments are required: --data"),
    (["predict", "x.npz", "--data", "y.npy", "--batch-size", "0"], "argument --batch-size: must be at least 1"),
    (["predict", "x.npz", "--data", "y.npy", "--batch-size", "ten"], "expected a whole number, got 'ten'"),
    (["predict", "x.npz", "--data", "y.npy", "--out", "p.txt"], "written as .npy or .csv"),
    (["predict", "x.npz", "--data", "y.npy", "--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["export", "x.npz"], "the following arguments are required: --onnx"),
    (["export", "x.npz", "--onnx", "m.onnx", "--input-shape", "a,b"], "expected a sample shape like 1,28,28"),
])
def test_wrong_arguments_are_usage_errors(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_command_prints_no_traceback(files: dict[str, Path]) -> None:
    """As a newcomer runs it: a real process, a bad file."""
    root = Path(ferronet.__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "ferronet", "predict", str(files["weights"]), "--data",
                           str(files["truncated"])], capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("ferronet predict: ") and proc.stderr.count("\n") == 1
