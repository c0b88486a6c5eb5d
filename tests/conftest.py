"""Shared fixtures: run backend-independent tests on every available backend."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ferronet

AVAILABLE_BACKENDS = ["numpy"] + (["native"] if ferronet.native_available() else [])

if os.environ.get("FERRONET_REQUIRE_NATIVE") == "1" and not ferronet.native_available():
    raise RuntimeError("FERRONET_REQUIRE_NATIVE=1 but ferronet._native did not load")

requires_native = pytest.mark.skipif(not ferronet.native_available(), reason="native core not built")


@pytest.fixture(params=AVAILABLE_BACKENDS)
def backend(request: pytest.FixtureRequest):
    """Run the test once per available backend, with that backend active."""
    with ferronet.use_backend(request.param):
        yield request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def _synthetic_mnist_dirs(tmp_path_factory: pytest.TempPathFactory):
    from book_mnist import write_synthetic_mnist

    root = tmp_path_factory.mktemp("book-mnist")
    return write_synthetic_mnist(root / "mnist"), root / "data-dir"


@pytest.fixture
def book_mnist(_synthetic_mnist_dirs, monkeypatch: pytest.MonkeyPatch):
    """``load_mnist()`` as the book calls it (no path) reads a small synthetic MNIST (see tests/book_mnist.py)."""
    mnist_dir, data_dir = _synthetic_mnist_dirs
    monkeypatch.setenv("FERRONET_MNIST_DIR", str(mnist_dir))
    monkeypatch.setenv("FERRONET_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FERRONET_OFFLINE", "1")
    return mnist_dir


@pytest.fixture
def book_plt(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """matplotlib.pyplot on the Agg backend for the book's plotting lines, or None without matplotlib.

    ``plt.show()`` saves the current figure as ``figure<N>.png`` in the test's
    directory instead of opening a window.
    """
    try:
        import matplotlib
    except ImportError:
        yield None
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def show() -> None:
        plt.savefig(tmp_path / f"figure{len(list(tmp_path.glob('figure*.png')))}.png")
        plt.close("all")

    monkeypatch.setattr(plt, "show", show)
    yield plt
    plt.close("all")


@pytest.fixture
def tiny_fashion(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Fashion-MNIST look-alike IDX files (120 training / 50 test images, 28x28) found before any real copy.

    The native thread count, which ``train --threads`` changes, is restored afterwards.
    """
    from ferronet.datasets import idx

    rng = np.random.default_rng(0)
    directory = tmp_path / "fashion"
    directory.mkdir()
    for stem, n in (("train", 120), ("t10k", 50)):
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        images = rng.integers(0, 64, (n, 28, 28), dtype=np.uint8)
        images[np.arange(n), 2 * labels + 3, :] = 255  # a class-dependent bright row: learnable
        idx.write_idx(directory / f"{stem}-images-idx3-ubyte.gz", images)
        idx.write_idx(directory / f"{stem}-labels-idx1-ubyte.gz", labels)
    monkeypatch.setenv("FERRONET_FASHION_MNIST_DIR", str(directory))
    monkeypatch.setenv("FERRONET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FERRONET_OFFLINE", "1")
    threads = ferronet.get_num_threads()
    yield directory
    ferronet.set_num_threads(threads)
