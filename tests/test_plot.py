"""ferronet.plot: each figure function returns a Figure with the expected axes and titles and saves a PNG;
without matplotlib, a clear error; without a display, the Agg backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ferronet
from ferronet import plot
from ferronet.datasets import FASHION_CLASS_NAMES
from ferronet.networks import MultiLayerNet

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def plt():
    """matplotlib.pyplot (the test is skipped without matplotlib); every figure is closed afterwards."""
    pytest.importorskip("matplotlib")
    pyplot = plot.pyplot()
    yield pyplot
    pyplot.close("all")


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert not [p for p in path.parent.iterdir() if ".tmp-" in p.name]  # the atomic write left no temporary file


def titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes if ax.get_visible()]


HISTORY = {"epoch": [1, 2, 3], "train_loss": [0.9, 0.5, 0.4], "train_acc": [0.7, 0.8, 0.85],
           "val_loss": [0.8, 0.6, 0.55], "val_acc": [0.72, 0.78, 0.8], "test_acc": [0.7, 0.77, 0.79],
           "lr": [0.001] * 3, "seconds": [1.0] * 3}


def test_training_curves_have_a_loss_and_an_accuracy_panel(plt, tmp_path: Path) -> None:
    steps = np.linspace(2.3, 0.4, 90) + 0.05 * np.random.default_rng(0).random(90)
    fig = plot.plot_training_curves(HISTORY, steps, title="mlp", path=tmp_path / "curves.png")
    assert titles(fig) == ["loss", "accuracy"] and fig._suptitle.get_text() == "mlp"
    loss_ax, acc_ax = fig.axes
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["train (every batch)", "validation"]
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["train", "validation", "test"]
    raw, smooth = loss_ax.get_lines()[:2]  # the raw batch losses faint behind, the smoothed curve on top
    assert raw.get_alpha() < 0.5 and len(raw.get_xdata()) == len(smooth.get_xdata()) == 90
    np.testing.assert_allclose(smooth.get_ydata(), ferronet.utils.smooth_curve(steps))
    assert smooth.get_xdata()[-1] == pytest.approx(3.0)  # batches on the epoch axis
    assert_png(tmp_path / "curves.png")


def test_training_curves_without_validation_or_batch_losses(plt) -> None:
    history = {k: v for k, v in HISTORY.items() if not k.startswith("val")}
    fig = plot.plot_training_curves(history)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["train (epoch mean)"]
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["train", "test"]
    with pytest.raises(ValueError, match="no finished epoch"):
        plot.plot_training_curves({"epoch": [], "train_loss": []})


def test_smoothing_keeps_short_curves_and_uses_the_books_window_on_long_ones() -> None:
    assert plot.smoothed([1.0, 3.0, 2.0]).tolist() == [1.0, 3.0, 2.0]
    epochs = np.random.default_rng(2).random(30)  # 30 epochs' accuracies: every point as it is
    np.testing.assert_array_equal(plot.smoothed(epochs), epochs)
    np.testing.assert_array_equal(plot.smoothed(np.arange(31.0)), ferronet.utils.smooth_curve(np.arange(31.0), 9))
    long = np.random.default_rng(1).random(200)
    np.testing.assert_array_equal(plot.smoothed(long), ferronet.utils.smooth_curve(long, window=11))


def test_curves_and_panels(plt, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    fig = plot.plot_curves({"SGD": rng.random(50), "Adam": rng.random(50)}, title="loss", ylim=(0, 1),
                           path=tmp_path / "c.png")
    assert titles(fig) == ["loss"] and fig.axes[0].get_ylim() == (0, 1)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["SGD", "Adam"]
    assert_png(tmp_path / "c.png")
    panels = {f"scale {i}": {"with": rng.random(5), "without": rng.random(5)} for i in range(5)}
    fig = plot.plot_curve_panels(panels, columns=3, styles={"without": {"linestyle": "--"}}, title="grid",
                                 path=tmp_path / "p.png")
    assert titles(fig) == list(panels) and fig._suptitle.get_text() == "grid"
    assert len(fig.axes) == 6 and not fig.axes[5].get_visible()  # 5 panels in a 2x3 grid
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["with", "without"]  # one legend for all
    assert {line.get_linestyle() for ax in fig.axes[:5] for line in ax.get_lines()
            if line.get_label() == "without"} == {"--"}
    assert fig.axes[2].get_xlabel() == "epoch"  # column 3's lowest panel is in the first row
    assert_png(tmp_path / "p.png")
    with pytest.raises(ValueError, match="x has 3 values"):
        plot.plot_curves({"a": [1, 2]}, x=[1, 2, 3])


def test_misclassified_grid_titles_true_and_predicted_classes(plt, tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((30, 1, 28, 28))
    t = np.arange(30) % 10
    predicted = t.copy()
    predicted[[2, 5, 7]] = [3, 0, 9]
    fig = plot.plot_misclassified(x, t, predicted, class_names=FASHION_CLASS_NAMES, path=tmp_path / "m.png")
    shown = [ax for ax in fig.axes if ax.get_images()]
    assert len(shown) == 3
    assert [ax.get_title() for ax in shown] == ["true: Pullover", "true: Sandal", "true: Sneaker"]
    assert [ax.texts[0].get_text() for ax in shown] == ["pred: Dress", "pred: T-shirt/top", "pred: Ankle boot"]
    assert "the first 3 of 3 misclassified images (of 30)" in fig._suptitle.get_text()
    assert_png(tmp_path / "m.png")
    flat = plot.plot_misclassified(x.reshape(30, 784), t, np.eye(10)[predicted], max_images=2)  # scores, no names
    assert [ax.get_title() for ax in flat.axes if ax.get_images()] == ["true: 2", "true: 5"]
    none = plot.plot_misclassified(x, t, t)
    assert "no misclassified images" in none.axes[0].texts[0].get_text()
    with pytest.raises(ValueError, match="grey images"):
        plot.plot_misclassified(np.zeros((3, 10)), [0, 1, 2], [0, 1, 2])


def test_filters_before_and_after(plt, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    before, after = rng.standard_normal((30, 1, 5, 5)), rng.standard_normal((30, 1, 5, 5))
    fig = plot.plot_filters(before, after, columns=6, path=tmp_path / "f.png")
    assert [sub._suptitle.get_text() for sub in fig.subfigs] == ["before training", "after training"]
    images = [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]
    assert len(images) == 60
    np.testing.assert_array_equal(images[0], before[0, 0])
    np.testing.assert_array_equal(images[30], after[0, 0])
    assert_png(tmp_path / "f.png")
    assert len(plot.plot_filters(before).subfigs) == 1
    with pytest.raises(ValueError, match="different numbers of filters"):
        plot.plot_filters(before, after[:10])


def test_activation_histograms_one_row_per_case(plt, tmp_path: Path) -> None:
    net = MultiLayerNet(20, [8, 8, 8], 3, seed=0)
    acts = plot.activations_by_layer(net, np.random.default_rng(0).standard_normal((50, 20)))
    assert list(acts) == ["Activation_function1", "Activation_function2", "Activation_function3"]
    assert all(a.shape == (50, 8) and a.min() >= 0 for a in acts.values())
    fig = plot.plot_activation_histograms({"He": acts, "again": acts}, value_range={"He": (0, 2), "again": None},
                                          drop_zeros=True, path=tmp_path / "a.png")
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title().startswith("Activation_function1 (std ") and "% zero" in fig.axes[0].get_title()
    assert fig.axes[0].get_ylabel() == "He" and fig.axes[3].get_ylabel() == "again"
    a1 = acts["Activation_function1"]  # bars: shares of all 400 values, the zeros left out
    assert sum(p.get_height() for p in fig.axes[0].patches) * a1.size == pytest.approx(
        np.count_nonzero((a1 > 0) & (a1 <= 2)))
    assert_png(tmp_path / "a.png")
    single = plot.plot_activation_histograms({"layer 1": np.random.default_rng(1).random((10, 10))})
    assert len(single.axes) == 1 and "zero" not in single.axes[0].get_title()


def test_confusion_matrix_counts_and_figure(plt, tmp_path: Path) -> None:
    t = np.array([0, 0, 1, 2, 2, 2])
    y = np.array([0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(plot.confusion_matrix(t, y), [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(plot.confusion_matrix(np.eye(3)[t], y, 4)[:3, :3], [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    fig = plot.plot_confusion_matrix(t, y, class_names=["a", "b", "c"], title="test", path=tmp_path / "cm.png")
    ax = fig.axes[0]
    assert ax.get_title() == "test: 66.67% right (6 images)"
    assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]
    assert sorted(int(text.get_text()) for text in ax.texts) == sorted([1, 1, 0, 0, 1, 0, 1, 0, 2])
    assert_png(tmp_path / "cm.png")
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        plot.confusion_matrix([0, 2], [0, 1], 2)


def test_optimizer_paths(plt, tmp_path: Path) -> None:
    path = np.array([[-7.0, 2.0], [-5.0, 1.0], [0.0, 0.0]])
    fig = plot.plot_optimizer_paths({"SGD": path, "Adam": path[:2]}, path=tmp_path / "o.png")
    assert titles(fig) == ["SGD: 2 steps, f = 0", "Adam: 1 steps, f = 2.25"]
    assert "x²/20 + y²" in fig._suptitle.get_text()
    assert plot.book_function(-7.0, 2.0) == pytest.approx(49 / 20 + 4)
    assert_png(tmp_path / "o.png")


def test_precision_and_search_figures(plt, tmp_path: Path) -> None:
    fig = plot.plot_precision({"float64": 0.9, "float16": 0.899}, {"float16": np.array([0.0, 1e-4, 1e-3])},
                              changed={"float16": 1}, path=tmp_path / "h.png")
    assert titles(fig) == ["accuracy per precision", "how far the outputs move from float64"]
    assert [t.get_text() for t in fig.axes[0].texts] == ["90.00%", "89.90%"]
    assert fig.axes[1].get_legend().get_texts()[0].get_text() == "float16: max 0.001, 1 prediction changed"
    assert_png(tmp_path / "h.png")
    trials = [{"lr": 10.0 ** -i, "weight_decay": 10.0 ** -(i + 3), "val_acc": 0.1 * i} for i in range(1, 7)]
    fig = plot.plot_search_results(trials, best=3, path=tmp_path / "s.png")
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log" and ax.get_xlabel() == "learning rate"
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3"]  # the best three, ringed and numbered
    assert ax.texts[0].xy == (1e-6, 1e-9)
    assert_png(tmp_path / "s.png")


def test_save_figure_replaces_a_file_atomically(plt, tmp_path: Path) -> None:
    target = tmp_path / "figure.png"
    target.write_bytes(b"old")
    fig = plot.plot_curves({"a": [1.0, 2.0, 3.0]})
    assert plot.save_figure(fig, target) == target
    assert_png(target)

    class Broken:
        def savefig(self, *args, **kwargs):
            raise RuntimeError("drawing failed")

    with pytest.raises(RuntimeError):
        plot.save_figure(Broken(), target)
    assert_png(target)  # the good file is still there


def test_without_matplotlib_drawing_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(plot.PlotDependencyError, match=r"pip install 'ferronet\[plot\]'"):
        plot.plot_curves({"a": [1.0, 2.0]})
    with pytest.raises(ImportError):
        plot.require_plotting()


def test_no_display_means_the_agg_backend() -> None:
    pytest.importorskip("matplotlib")
    root = Path(ferronet.__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    env["PYTHONPATH"] = str(root)
    code = "import ferronet.plot as p; import matplotlib; p.pyplot(); print(matplotlib.get_backend())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().lower() == "agg"


def test_plotting_available_follows_the_import(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert plot.plotting_available() is False
