"""Chapter 6.5: a random search of the learning rate and weight decay (``hyperparameter_optimization.py``).

A seven-layer ReLU network (784-100x6-10) trains by SGD on 400 images and
is scored on 100 held-out validation images (20% of 500; the test set is
never looked at).  Each trial draws the learning rate from 10^U(-6, -2)
and the weight decay from 10^U(-8, -4), log-uniformly.  As in the book,
the good trials sit in a band of learning rates (about 1e-3 to 1e-2),
while the weight decay matters much less.  This is a plain loop over
trials, as the book writes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet.experiments.base import Experiment, ExperimentRun, Size, Stopwatch
from ferronet.networks import MultiLayerNet
from ferronet.plot import plot_curve_panels, plot_search_results
from ferronet.trainer import Trainer
from ferronet.utils import shuffle_dataset

HIDDEN = [100] * 6
BATCH_SIZE = 100
VALIDATION_RATE = 0.2
#: log10 ranges the trials draw from (the book's)
LR_RANGE, WEIGHT_DECAY_RANGE = (-6.0, -2.0), (-8.0, -4.0)
#: how many of the best trials get a panel of learning curves (the book's 20)
PANELS = 20
STYLES = {"validation": {"color": "#1f77b4"}, "train": {"color": "#7f7f7f", "linestyle": "--"}}


def sample_trial(rng: np.random.Generator) -> tuple[float, float]:
    """``(lr, weight_decay)``, each log-uniform in its range (the weight decay drawn first, as in the book)."""
    weight_decay = 10 ** rng.uniform(*WEIGHT_DECAY_RANGE)
    lr = 10 ** rng.uniform(*LR_RANGE)
    return float(lr), float(weight_decay)


def run(run: ExperimentRun) -> dict[str, Any]:
    data = run.load(images=False)
    n = run.size("train_samples")
    x, t = shuffle_dataset(data.x_train[:n], data.t_train[:n], rng=run.seed)
    n_val = int(n * VALIDATION_RATE)
    x_val, t_val, x_train, t_train = x[:n_val], t[:n_val], x[n_val:], t[n_val:]
    rng = np.random.default_rng(run.seed)
    epochs, trials = run.size("epochs"), run.size("trials")
    results, curves = [], []
    clock = Stopwatch()
    for i in range(trials):
        lr, weight_decay = sample_trial(rng)
        network = MultiLayerNet(784, HIDDEN, 10, weight_decay_lambda=weight_decay, dtype=np.float32,
                                seed=run.seed + i)
        # the validation set stands where the test set would: the search never sees the test set
        trainer = Trainer(network, x_train, t_train, x_val, t_val, epochs=epochs, mini_batch_size=BATCH_SIZE,
                          optimizer="SGD", optimizer_param={"lr": lr}, verbose=False, seed=run.seed + i)
        trainer.fit()
        results.append({"trial": i + 1, "lr": lr, "weight_decay": weight_decay,
                        "val_acc": trainer.test_acc_list[-1], "train_acc": trainer.train_acc_list[-1]})
        curves.append({"validation": trainer.test_acc_list, "train": trainer.train_acc_list})
        if (i + 1) % 10 == 0 or i + 1 == trials:
            best = max(r["val_acc"] for r in results)
            run.log(f"{i + 1}/{trials} trials, best validation accuracy {100 * best:.1f}% "
                    f"({clock.seconds()[0]:.1f} s)")
    order = sorted(range(trials), key=lambda k: -results[k]["val_acc"])
    panels = {f"best {rank}: val {100 * results[k]['val_acc']:.0f}%\nlr {results[k]['lr']:.1e}, "
              f"wd {results[k]['weight_decay']:.1e}": curves[k]
              for rank, k in enumerate(order[:PANELS], start=1)}
    run.save(plot_curve_panels(panels, x=np.arange(1, epochs + 1), columns=5, ylim=(0, 1), styles=STYLES,
                               title=f"the best {len(panels)} of {trials} trials ({len(x_train)} training, "
                                     f"{n_val} validation images, {epochs} epochs)"), "best-trials")
    run.save(plot_search_results(results, title=f"{trials} trials: validation accuracy by learning rate "
                                               f"and weight decay"), "search")
    ranked = [results[k] for k in order]
    good = ranked[:max(1, trials // 10)]
    return {"trials": ranked,
            "best_tenth_lr_range": [min(r["lr"] for r in good), max(r["lr"] for r in good)],
            "best_tenth_weight_decay_range": [min(r["weight_decay"] for r in good),
                                              max(r["weight_decay"] for r in good)]}


EXPERIMENT = Experiment(
    name="hyperparameters", chapter="6.5", run=run,
    summary="random search of learning rate and weight decay on a validation set, the book's plain loop",
    sizes=(Size("trials", 100, "trials (the book's 100)"),
           Size("epochs", 50, "epochs per trial (the book's 50)"),
           Size("train_samples", 500, "images, 20% of them held out for validation (the book's 500)",
                scales=False)))
