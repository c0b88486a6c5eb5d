"""Chapter 8.3.4: half precision is enough for inference (``half_float_network.py``).

The book's ``DeepConvNet`` trains (here in float32, to be quick), then the
same weights classify the test set in float64 (exactly widened), float32,
and float16 (the book's ``params[key] = params[key].astype(np.float16)``:
float16 weights and activations, float32 sums).  The accuracies agree to
within a few hundredths of a percent; the softmax outputs move by about
float16's resolution (1e-3) at most.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferronet.experiments.base import Experiment, ExperimentRun, Size, Stopwatch
from ferronet.experiments.deep_conv_training import BATCH_SIZE, train_deep_conv_net
from ferronet.functions import softmax
from ferronet.networks import DeepConvNet
from ferronet.plot import plot_precision

PRECISIONS = ("float64", "float32", "float16")


def in_precision(trained: Any, precision: str, seed: int) -> DeepConvNet:
    """A DeepConvNet holding ``trained``'s weights converted to ``precision`` (float16 the book's way)."""
    if precision == "float16":
        network = DeepConvNet(dtype=np.float32, seed=seed)
        for key in network.params:
            network.params[key] = trained.params[key].astype(np.float16)
        return network
    network = DeepConvNet(dtype=np.dtype(precision), seed=seed)
    for key in network.params:
        np.copyto(network.params[key], trained.params[key])  # float32 to float64 is exact
    return network


def run(run: ExperimentRun) -> dict[str, Any]:
    trained = train_deep_conv_net(run)
    network, x_test, t_test = trained.network, trained.x_test, trained.t_test
    run.log(f"trained DeepConvNet in float32 on {trained.train_samples} images ({trained.seconds:.1f} s)")
    probabilities, accuracies = {}, {}
    for precision in PRECISIONS:
        clock = Stopwatch()
        converted = in_precision(network, precision, run.seed)
        scores = converted.predict(x_test.astype(precision), batch_size=BATCH_SIZE)
        probabilities[precision] = softmax(scores.astype(np.float64))  # (N, 10)
        accuracies[precision] = float(np.mean(scores.argmax(axis=1) == t_test))
        run.log(f"{precision}: test accuracy {100 * accuracies[precision]:.2f}% ({clock.seconds()[0]:.1f} s)")
    reference = probabilities["float64"]
    differences = {p: np.abs(probabilities[p] - reference) for p in PRECISIONS[1:]}
    changed = {p: int(np.sum(probabilities[p].argmax(axis=1) != reference.argmax(axis=1))) for p in PRECISIONS[1:]}
    run.save(plot_precision(accuracies, differences, changed=changed,
                            title=f"DeepConvNet on {len(t_test)} test images: the same weights in three "
                                  f"precisions (softmax outputs)"), "accuracy")
    return {"test_acc": accuracies, "test_samples": len(t_test), "changed_predictions": changed,
            "max_probability_difference": {p: d.max() for p, d in differences.items()}}


EXPERIMENT = Experiment(
    name="half-float", chapter="8.3", run=run,
    summary="DeepConvNet's test accuracy in float64, float32 and float16 (the same trained weights)",
    sizes=(Size("epochs", 1, "epochs of training"),
           Size("train_samples", 30000, "training images"),
           Size("test_samples", 10000, "test images classified", scales=False)))
