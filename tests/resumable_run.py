"""A small training run with everything a checkpoint must carry, for the resume tests.

Imported by the tests (``build_trainer``, ``results``) and run as a child
process that the kill test stops with SIGKILL::

    python resumable_run.py OUT --checkpoint PATH [--resume PATH] [--seed S | --global-seed S]
                            [--epochs E] [--hang-at ITER]

The run: ``MultiLayerNetExtend`` with batch normalisation (running
statistics) and dropout (random masks), Adam (moments and a step counter)
with gradient clipping, a step-decay schedule, a validation split, early
stopping (patient enough not to stop), a noise augmentation drawing from
the Trainer's generator.  ``--seed S`` seeds the network and the Trainer
privately; ``--global-seed S`` calls ``np.random.seed(S)`` and gives no
seed, as the book's scripts do.  ``--hang-at ITER`` prints ``HANG`` and
sleeps before the step that would make iteration ITER+1 (for the parent
to kill it).  At the end it writes ``OUT.npz`` (the weights, the last
checkpoint's weights, the book's lists) and ``OUT.json`` (the history
without its seconds, and the final test accuracy).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from ferronet.networks import MultiLayerNetExtend
from ferronet.training.network_state import snapshot
from ferronet.schedules import StepDecay
from ferronet.trainer import Trainer

N_TRAIN, N_TEST, DIM, CLASSES = 120, 40, 6, 3
BATCH = 16  # 90 training samples after the split: 6 steps per epoch


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Three overlapping float32 blobs in 6 dimensions: (x_train, t_train, x_test, t_test)."""
    gen = np.random.default_rng(2024)
    t = gen.integers(0, CLASSES, N_TRAIN + N_TEST).astype(np.uint8)
    x = (gen.standard_normal((N_TRAIN + N_TEST, DIM)) + 1.5 * np.eye(CLASSES, DIM)[t]).astype(np.float32)
    return x[:N_TRAIN], t[:N_TRAIN], x[N_TRAIN:], t[N_TRAIN:]


def noise(x_batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The augmentation: Gaussian noise of std 0.1 drawn from the Trainer's generator, in place."""
    x_batch += 0.1 * rng.standard_normal(x_batch.shape).astype(x_batch.dtype)
    return x_batch


def build_trainer(seed: int | None, epochs: float = 5, checkpoint=None, resume=None, **kw) -> Trainer:
    """The run (see the module's docstring); seed None draws from NumPy's global generator."""
    x, t, xt, tt = data()
    net = MultiLayerNetExtend(DIM, [12, 12], CLASSES, use_dropout=True, dropout_ration=0.2, use_batchnorm=True,
                              dtype=np.float32, seed=seed)
    kw.setdefault("verbose", False)
    kw.setdefault("early_stopping", {"patience": 50})
    return Trainer(net, x, t, xt, tt, epochs=epochs, mini_batch_size=BATCH, optimizer="adam",
                   optimizer_param={"lr": 0.02}, seed=seed, lr_schedule=StepDecay(2, 0.5), clip_norm=5.0,
                   validation_split=0.25, augment=noise, checkpoint=checkpoint, resume=resume, **kw)


def results(trainer: Trainer) -> dict:
    """What must be identical between an interrupted and an uninterrupted run."""
    history = {k: v for k, v in trainer.history.items() if k != "seconds"}  # times differ, nothing else
    return {"arrays": snapshot(trainer.network), "train_loss_list": list(trainer.train_loss_list),
            "train_acc_list": list(trainer.train_acc_list), "test_acc_list": list(trainer.test_acc_list),
            "history": history, "final_test_acc": trainer.final_test_acc,
            "validation_indices": trainer.validation_indices.tolist(), "current_iter": trainer.current_iter}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--resume")
    p.add_argument("--seed", type=int)
    p.add_argument("--global-seed", type=int)
    p.add_argument("--epochs", type=float, default=5)
    p.add_argument("--hang-at", type=int)
    args = p.parse_args(argv)
    if args.global_seed is not None:
        np.random.seed(args.global_seed)
    trainer = build_trainer(args.seed, args.epochs, checkpoint=args.checkpoint, resume=args.resume)
    if args.hang_at is not None:
        step = trainer.network.loss_and_gradient

        def hanging(x, t):
            if trainer.current_iter == args.hang_at:
                print("HANG", flush=True)
                time.sleep(600)
            return step(x, t)

        trainer.network.loss_and_gradient = hanging
    trainer.train()
    found = results(trainer)
    from ferronet.networks.param_file import METADATA_MEMBER
    from ferronet.training.checkpoint import checkpoint_paths

    # the arrays (the description member records the constructor arguments: a resumed run's seed differs)
    with np.load(checkpoint_paths(args.checkpoint).last, allow_pickle=False) as last:
        last_arrays = {f"last/{k}": last[k] for k in last.files if k != METADATA_MEMBER}
    np.savez(f"{args.out}.npz", **{f"net/{k}": v for k, v in found.pop("arrays").items()}, **last_arrays)
    with open(f"{args.out}.json", "w") as fh:
        json.dump(found, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
