"""Chapter 6.3: batch normalisation (``batch_norm_test.py``).

A five-layer ReLU network (784-100-100-100-100-100-10) learns 1000 training
images by SGD (lr 0.01, batch 100) from 16 initial weight scales, from
std 1 down to 1e-4, once with batch normalisation after every hidden
Affine layer and once without.  With it the training accuracy climbs
faster at almost every scale, and the network learns even where the plain
one, its activations exploding or vanishing, does not learn at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet.experiments.base import Experiment, ExperimentRun, Size, Stopwatch
from ferronet.networks import MultiLayerNetExtend
from ferronet.plot import plot_curve_panels, plot_curves
from ferronet.trainer import Trainer

HIDDEN = [100, 100, 100, 100, 100]
BATCH_SIZE, LEARNING_RATE = 100, 0.01
LABELS = {True: "with batch norm", False: "without"}
STYLES = {LABELS[True]: {"color": "#1f77b4"}, LABELS[False]: {"color": "#2ca02c", "linestyle": "--"}}


def weight_scales(count: int) -> np.ndarray:
    """The book's initial weight stds: ``count`` of them, log-spaced from 1 down to 1e-4."""
    return np.logspace(0, -4, num=count)


def train_accuracy_curve(run: ExperimentRun, weight_std: float, batchnorm: bool) -> tuple[list[float], float]:
    """The training accuracy before training and after each epoch, and the final test accuracy."""
    data = run.load(images=False)
    n = run.size("train_samples")
    x, t = data.x_train[:n], data.t_train[:n]
    network = MultiLayerNetExtend(784, HIDDEN, 10, weight_init_std=float(weight_std), use_batchnorm=batchnorm,
                                  dtype=np.float32, seed=run.seed)
    start = network.accuracy(x, t)
    trainer = Trainer(network, x, t, data.x_test, data.t_test, epochs=run.size("epochs"),
                      mini_batch_size=BATCH_SIZE, optimizer="SGD", optimizer_param={"lr": LEARNING_RATE},
                      evaluate_sample_num_per_epoch=n, verbose=False, seed=run.seed)
    trainer.fit()
    return [start, *trainer.train_acc_list], network.accuracy(data.x_test, data.t_test)


def run(run: ExperimentRun) -> dict[str, Any]:
    panels, results = {}, []
    for i, w in enumerate(weight_scales(run.size("weight_scales")), start=1):
        clock = Stopwatch()
        curves, tests = {}, {}
        for batchnorm in (True, False):
            curves[LABELS[batchnorm]], tests[batchnorm] = train_accuracy_curve(run, w, batchnorm)
        panels[f"{i}: W std {w:.1e}"] = curves
        results.append({"weight_std": w, "train_acc_batchnorm": curves[LABELS[True]][-1],
                        "train_acc_plain": curves[LABELS[False]][-1],
                        "test_acc_batchnorm": tests[True], "test_acc_plain": tests[False]})
        run.log(f"W std {w:.1e}: training accuracy {100 * curves[LABELS[True]][-1]:.1f}% with batch norm, "
                f"{100 * curves[LABELS[False]][-1]:.1f}% without ({clock.seconds()[0]:.1f} s)")
    epochs, n = run.size("epochs"), run.size("train_samples")
    run.save(plot_curve_panels(panels, ylim=(0, 1), ylabel="train accuracy", styles=STYLES,
                               title=f"training accuracy on {n} images per initial weight std "
                                     f"(SGD lr {LEARNING_RATE}, {epochs} epochs)"), "accuracy")
    scales = [r["weight_std"] for r in results]
    final = {LABELS[True]: [r["train_acc_batchnorm"] for r in results],
             LABELS[False]: [r["train_acc_plain"] for r in results]}
    run.save(plot_curves(final, x=scales, xscale="log", smooth=False, xlabel="initial weight std",
                         ylabel=f"train accuracy after {epochs} epochs", ylim=(0, 1), styles=STYLES,
                         title="final training accuracy per initial weight std"), "final-accuracy")
    return {"weight_scales": results,
            "batchnorm_better": sum(r["train_acc_batchnorm"] > r["train_acc_plain"] for r in results)}


EXPERIMENT = Experiment(
    name="batchnorm", chapter="6.3", run=run,
    summary="training accuracy with and without batch normalisation from 16 initial weight scales",
    sizes=(Size("epochs", 20, "epochs of each run (the book's 20)"),
           Size("train_samples", 1000, "training images (the book's 1000)"),
           Size("weight_scales", 16, "initial weight stds, log-spaced from 1 to 1e-4 (the book's 16)")))
