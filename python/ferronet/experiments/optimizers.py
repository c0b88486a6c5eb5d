"""Chapter 6.1: how SGD, Momentum, AdaGrad and Adam move.

Two of the book's comparisons:

* the naive one (``optimizer_compare_naive.py``): 30 steps of each optimizer
  on f(x, y) = x**2/20 + y**2 from (-7, 2), with the book's learning rates,
  the parameters plain Python floats.  SGD zigzags across the steep y
  direction and crawls along x; Momentum rolls like a ball; AdaGrad's
  shrinking steps damp the zigzag; Adam combines both;
* the MNIST one (``optimizer_compare_mnist.py``): a five-layer ReLU network
  (784-100-100-100-100-10) trained with each optimizer, at its default
  learning rate, on the same mini-batches of 128; the smoothed training
  loss per iteration shows SGD learning slowest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet.experiments.base import Experiment, ExperimentRun, Size, Stopwatch, epochs_for
from ferronet.networks import MultiLayerNet
from ferronet.optimizers import get_optimizer
from ferronet.plot import book_function, plot_curves, plot_optimizer_paths
from ferronet.trainer import Trainer

#: The book's learning rates for the naive comparison.
NAIVE_LEARNING_RATES = {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "Adam": 0.3}
START = (-7.0, 2.0)
PATH_STEPS = 30
#: The optimizers of the MNIST comparison, each at ferronet's (the book's) default learning rate.
NETWORK_OPTIMIZERS = ("SGD", "Momentum", "AdaGrad", "Adam")
HIDDEN = [100, 100, 100, 100]
BATCH_SIZE = 128
#: The iterations whose losses are averaged for the summary's final loss.
FINAL_WINDOW = 100


def book_gradient(x: float, y: float) -> tuple[float, float]:
    """The gradient of :func:`ferronet.plot.book_function`: (x / 10, 2 y)."""
    return x / 10.0, 2.0 * y


def optimizer_path(optimizer: Any, start: tuple[float, float] = START, steps: int = PATH_STEPS) -> list:
    """The positions [(x, y), ...] (steps + 1 of them, the start first) of ``optimizer`` descending
    the book's function from ``start``, with the parameters as Python floats as in the book."""
    params = {"x": float(start[0]), "y": float(start[1])}
    path = [(params["x"], params["y"])]
    for _ in range(steps):
        gx, gy = book_gradient(params["x"], params["y"])
        optimizer.update(params, {"x": gx, "y": gy})
        path.append((params["x"], params["y"]))
    return path


def run(run: ExperimentRun) -> dict[str, Any]:
    paths = {name: np.array(optimizer_path(get_optimizer(name, lr=lr)))
             for name, lr in NAIVE_LEARNING_RATES.items()}
    run.save(plot_optimizer_paths(paths), "paths")
    naive = {name: {"lr": NAIVE_LEARNING_RATES[name], "final": p[-1], "f": book_function(*p[-1])}
             for name, p in paths.items()}

    data = run.load(images=False)
    iterations = run.size("iterations")
    epochs = epochs_for(iterations, len(data.x_train), BATCH_SIZE)
    losses, trained = {}, {}
    for name in NETWORK_OPTIMIZERS:
        clock = Stopwatch()
        network = MultiLayerNet(784, HIDDEN, 10, dtype=np.float32, seed=run.seed)  # the same start for each
        trainer = Trainer(network, data.x_train, data.t_train, data.x_test, data.t_test, epochs=epochs,
                          mini_batch_size=BATCH_SIZE, optimizer=name, optimizer_param={},
                          evaluate_sample_num_per_epoch=1000, verbose=False, seed=run.seed)
        trainer.fit()
        losses[name] = trainer.train_loss_list
        final_loss = float(np.mean(trainer.train_loss_list[-FINAL_WINDOW:]))
        test_acc = network.accuracy(data.x_test, data.t_test)
        trained[name] = {"lr": trainer.optimizer.lr, "final_loss": final_loss, "test_acc": test_acc}
        run.log(f"{name:9s} {iterations} iterations: loss {final_loss:.3f} (mean of the last {FINAL_WINDOW}), "
                f"test accuracy {100 * test_acc:.2f}% ({clock.seconds()[0]:.1f} s)")
    run.save(plot_curves(losses, xlabel="iteration", ylabel="training loss", ylim=(0, 1.5),
                         title=f"784-100-100-100-100-10 ReLU, batch {BATCH_SIZE}, each optimizer's default lr"),
             "loss")
    return {"naive": naive, "network": trained}


EXPERIMENT = Experiment(
    name="optimizers", chapter="6.1", run=run,
    summary="SGD, Momentum, AdaGrad and Adam: paths on x**2/20 + y**2 and training-loss curves",
    sizes=(Size("iterations", 2000, "training iterations of each optimizer (the book's 2000)"),))
