"""S2O training throughput and sweep concurrency, against the named baselines in the same run.

    python benchmarks/s2o_throughput.py [--arch mlp] [--device cpu] [--epochs 2] [--sweep]

1. Training images/s of one epoch (PGD-10 inner attack) per variant: AT (baseline) vs AT+S2O, TRADES
   vs TRADES+S2O, AT+SAM; S2O's overhead is (images/s of the baseline / images/s with S2O) - 1
   (target < 5 %; s2o README, Measured). mlp/cnn train on MNIST-5k; preact_resnet18/wrn34_10 on random
   CIFAR-shaped images (speed only).
2. With --sweep: wall time of the smoke `variants` sweep on s2o/mnist_at (2 one-cell trials) with 1
   (baseline) vs 2 concurrent trials on a local 2-CPU Ray.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from raylab.context import limit_threads
from raylab.devices import pick_device
from raylab.methods.s2o.config import S2OConfig
from raylab.methods.s2o.data import ImageData, load
from raylab.methods.s2o.train import Cell, build, train_epoch

PAIRS = (("at", "at_s2o"), ("trades", "trades_s2o"), ("at", "at_sam"))


def images(arch: str, n_train: int) -> ImageData:
    if arch in ("mlp", "cnn"):
        return load("mnist5k", "", n_train, 100, 0)
    g = torch.Generator().manual_seed(0)
    x, y = (
        torch.rand(n_train + 100, 3, 32, 32, generator=g),
        torch.randint(0, 10, (n_train + 100,), generator=g),
    )
    return ImageData(x[:n_train], y[:n_train], x[n_train:], y[n_train:])


def images_per_s(variant: str, cfg: S2OConfig, data: ImageData, epochs: int) -> float:
    device = pick_device(cfg.device)
    cell = Cell(variant, 0, 0)
    model, optimizer = build(cell, cfg, data, device)
    generator = torch.Generator().manual_seed(0)
    train_epoch(model, optimizer, cell, cfg, data, generator, device)  # warm-up (allocator, kernels)
    rates = [
        train_epoch(model, optimizer, cell, cfg, data, generator, device)["images_per_s"]
        for _ in range(epochs)
    ]
    return sorted(rates)[len(rates) // 2]


def throughput(args) -> None:
    cfg = S2OConfig(device=args.device)
    cfg.model.arch = args.arch
    data = images(args.arch, args.n_train)
    print(
        f"arch {args.arch}, device {pick_device(args.device)}, {args.n_train} images, "
        f"PGD-{cfg.train.attack_steps}"
    )
    with limit_threads(args.threads):
        rates = {
            v: images_per_s(v, cfg, data, args.epochs) for v in sorted({v for pair in PAIRS for v in pair})
        }
    for base, other in PAIRS:
        overhead = rates[base] / rates[other] - 1
        print(
            f"{other:>11} {rates[other]:9.0f} img/s vs {base:>6} {rates[base]:9.0f} img/s: "
            f"overhead {overhead:+.1%}"
        )


def sweep_wall_time(concurrent: int) -> float:
    from raylab.registry import configs_dir, get_spec
    from raylab.runner import load_run_config
    from raylab.runtime.tune import load_sweep, run_sweep

    spec = get_spec("s2o/mnist_at")
    sweep = load_sweep(configs_dir() / "s2o/sweeps/variants.yaml", smoke=True)
    sweep.max_concurrent_trials = concurrent
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run_sweep(spec, load_run_config(spec, smoke=True), sweep, out)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", default="mlp", help="mlp | cnn | preact_resnet18 | wrn34_10")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    parser.add_argument("--n-train", type=int, default=2000, help="images per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per variant (median)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (a 1-CPU trial has 1)")
    parser.add_argument("--sweep", action="store_true", help="also time the smoke sweep, 1 vs 2 trials")
    args = parser.parse_args()
    throughput(args)
    if args.sweep:
        from raylab.runtime.cluster import ray_session

        with ray_session(num_cpus=2, log_to_driver=False):
            one, two = sweep_wall_time(1), sweep_wall_time(2)
        print(
            f"smoke variants sweep (2 trials): 1 concurrent {one:.1f} s, 2 concurrent {two:.1f} s "
            f"({one / two:.2f}x)"
        )


if __name__ == "__main__":
    main()
