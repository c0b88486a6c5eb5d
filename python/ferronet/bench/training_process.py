"""One training process of the two-process case: ``python -m ferronet.bench.training_process``.

``bench/process_cases.py`` starts it with the run's thread settings in its
environment (see ``worker.child_env``).  It sets its threads, builds the
network and its data, takes two warm-up steps and prints ``ready``; then
for every line on stdin (the start signal) it trains ``--steps`` Adam steps
and prints ``done <seconds>``.  It exits when stdin closes.
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    from ferronet.bench.training import BY_NAME

    parser = argparse.ArgumentParser(prog="python -m ferronet.bench.training_process", description=__doc__)
    parser.add_argument("--network", choices=sorted(BY_NAME), required=True)
    parser.add_argument("--backend", choices=("native", "numpy", "torch"), required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True, help="Adam steps per start signal")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--random-data", action="store_true", help="uniform random images, not Fashion-MNIST")
    args = parser.parse_args(argv)

    import ferronet
    from ferronet.bench.training import adam_run, epoch_data

    ferronet.set_num_threads(args.threads)
    torch = None
    if args.backend == "torch":
        from ferronet.bench import torch_impl as torch

        torch.set_num_threads(args.threads)
    else:
        ferronet.set_backend(args.backend)
    network = BY_NAME[args.network]
    x, t, _ = epoch_data(args.samples, network.input_shape, not args.random_data)
    run = adam_run(network, args.backend, x, t, args.batch, torch)
    run(2)
    print("ready", flush=True)
    while sys.stdin.readline():
        start = time.perf_counter()
        run(args.steps)
        print(f"done {time.perf_counter() - start:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
