"""Chapter 6.2: what the initial weights' scale does to the activations and to learning.

* Activation histograms (``weight_init_activation_histogram.py``): 1000
  random inputs of 100 values through five layers of 100 units.  With
  sigmoid, std 1 pushes the activations to 0 and 1 (vanishing gradients),
  std 0.01 squeezes them around 0.5 (every unit alike), Xavier (std
  sqrt(1/n)) keeps them spread.  With ReLU, std 0.01 lets them die out
  towards 0, Xavier shrinks them layer after layer, He (std sqrt(2/n))
  keeps the same spread in every layer.
* Learning (``weight_init_compare.py``): a five-layer ReLU network
  (784-100-100-100-100-10) trained by SGD (lr 0.01, batch 128) from std
  0.01, Xavier and He: std 0.01 does not learn at all, He learns fastest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet.experiments.base import Experiment, ExperimentRun, Size, Stopwatch, epochs_for
from ferronet.networks import MultiLayerNet
from ferronet.plot import activations_by_layer, plot_activation_histograms, plot_curves
from ferronet.trainer import Trainer

#: (row label, activation, weight_init_std) of the histograms, the book's cases.
HISTOGRAM_CASES = (
    ("sigmoid, std 1", "sigmoid", 1.0),
    ("sigmoid, std 0.01", "sigmoid", 0.01),
    ("sigmoid, Xavier", "sigmoid", "xavier"),
    ("ReLU, std 0.01", "relu", 0.01),
    ("ReLU, Xavier", "relu", "xavier"),
    ("ReLU, He", "relu", "he"),
)
NODES, HISTOGRAM_LAYERS = 100, 5
#: The histograms' range per activation: sigmoid's (0, 1); ReLU's values reach further.
RANGES = {"sigmoid": (0.0, 1.0), "relu": (0.0, 2.5)}
#: The learning comparison: label -> weight_init_std.
LEARNING_CASES = {"std 0.01": 0.01, "Xavier": "xavier", "He": "he"}
HIDDEN = [100, 100, 100, 100]
BATCH_SIZE, LEARNING_RATE = 128, 0.01
FINAL_WINDOW = 100


def layer_activations(activation: str, weight_init_std: float | str, inputs: np.ndarray, seed: int,
                      layers: int = HISTOGRAM_LAYERS) -> dict[str, np.ndarray]:
    """{'layer 1': (N, NODES), ...}: the hidden activations of a ``layers``-deep network of NODES units."""
    network = MultiLayerNet(inputs.shape[1], [NODES] * layers, 10, activation=activation,
                            weight_init_std=weight_init_std, seed=seed)
    outputs = activations_by_layer(network, inputs)
    return {f"layer {i}": a for i, a in enumerate(outputs.values(), start=1)}


def run(run: ExperimentRun) -> dict[str, Any]:
    inputs = np.random.default_rng(run.seed).standard_normal((run.size("samples"), NODES))  # (N, 100)
    rows = {label: layer_activations(act, std, inputs, run.seed) for label, act, std in HISTOGRAM_CASES}
    ranges = {label: RANGES[act] for label, act, _ in HISTOGRAM_CASES}
    run.save(plot_activation_histograms(rows, value_range=ranges, drop_zeros=True,
                                        title=f"activations of {HISTOGRAM_LAYERS} layers of {NODES} units "
                                              f"({len(inputs)} random inputs)"), "activations")
    spread = {label: {layer: {"std": a.std(), "zero": np.mean(a == 0), "saturated": np.mean((a < 0.01) | (a > 0.99))}
                      for layer, a in layers.items()} for label, layers in rows.items()}

    data = run.load(images=False)
    iterations = run.size("iterations")
    losses, trained = {}, {}
    for label, std in LEARNING_CASES.items():
        clock = Stopwatch()
        network = MultiLayerNet(784, HIDDEN, 10, weight_init_std=std, dtype=np.float32, seed=run.seed)
        trainer = Trainer(network, data.x_train, data.t_train, data.x_test, data.t_test,
                          epochs=epochs_for(iterations, len(data.x_train), BATCH_SIZE), mini_batch_size=BATCH_SIZE,
                          optimizer="SGD", optimizer_param={"lr": LEARNING_RATE},
                          evaluate_sample_num_per_epoch=1000, verbose=False, seed=run.seed)
        trainer.fit()
        losses[label] = trainer.train_loss_list
        final_loss = float(np.mean(trainer.train_loss_list[-FINAL_WINDOW:]))
        test_acc = network.accuracy(data.x_test, data.t_test)
        trained[label] = {"weight_init_std": std, "final_loss": final_loss, "test_acc": test_acc}
        run.log(f"{label:8s}: loss {final_loss:.3f}, test accuracy {100 * test_acc:.2f}% "
                f"({clock.seconds()[0]:.1f} s)")
    run.save(plot_curves(losses, xlabel="iteration", ylabel="training loss", ylim=(0, 2.5),
                         title=f"784-100-100-100-100-10 ReLU, SGD lr {LEARNING_RATE}, batch {BATCH_SIZE}"), "loss")
    return {"activations": spread, "learning": trained}


EXPERIMENT = Experiment(
    name="weight-init", chapter="6.2", run=run,
    summary="activation histograms per layer (sigmoid, ReLU) and learning from std 0.01 / Xavier / He",
    sizes=(Size("samples", 1000, "random inputs of the activation histograms (the book's 1000)"),
           Size("iterations", 2000, "SGD iterations of each learning run (the book's 2000)")))
