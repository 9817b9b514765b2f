"""Exact B x B couplings and OT-CFM training throughput: ours vs the named baselines.

    python benchmarks/otcfm_couplings.py [--sizes 256 1024 4096] [--repeats 3] [--steps 200]

1. Time per batch of the exact coupling: `scipy.optimize.linear_sum_assignment` (ours) vs POT's
   `ot.emd` on uniform weights (torchcfm's `OTPlanSampler(method="exact")` calls it), and whether
   both give the same permutation (they must: the optimum is unique for continuous draws).
2. Training steps/s of exact-OT CFM on the circle, ours vs torchcfm's
   ExactOptimalTransportConditionalFlowMatcher (same network, batch and optimiser).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import ot
import torch

from raylab.context import limit_threads
from raylab.methods.otcfm import flow
from raylab.methods.otcfm.minibatch import exact_coupling


def time_couplings(size: int, repeats: int, rng: np.random.Generator) -> None:
    lsa, emd, same = [], [], True
    for _ in range(repeats):
        x0, x1 = rng.standard_normal((size, 2)), rng.standard_normal((size, 2))
        start = time.perf_counter()
        sigma = exact_coupling(x0, x1)
        lsa.append(time.perf_counter() - start)
        start = time.perf_counter()
        uniform = np.full(size, 1.0 / size)
        plan = ot.emd(uniform, uniform, ot.dist(x0, x1), numItermax=10_000_000)
        emd.append(time.perf_counter() - start)
        same &= bool(np.array_equal(plan.argmax(axis=1), sigma))
    print(
        f"B = {size:5d}: linear_sum_assignment {np.median(lsa) * 1e3:9.1f} ms | ot.emd "
        f"{np.median(emd) * 1e3:9.1f} ms | emd / lsa {np.median(emd) / np.median(lsa):5.2f} | "
        f"same permutation: {same}"
    )


def training_rate(trainer: str, batch: int, steps: int) -> float:
    torch.manual_seed(0)
    np.random.seed(0)
    rng, generator = np.random.default_rng(0), torch.Generator().manual_seed(0)
    if trainer == "torchcfm":
        from torchcfm.conditional_flow_matching import ExactOptimalTransportConditionalFlowMatcher

        pairs = flow.torchcfm_pairs(ExactOptimalTransportConditionalFlowMatcher(sigma=0.0))
    else:
        pairs = flow.ours_pairs

    def sample_batch():
        return torch.randn(batch, 2, generator=generator), torch.from_numpy(
            flow.sample_target("circle", batch, rng, None)
        ).float()

    return flow.train(flow.VectorField(64), sample_batch, pairs, steps, 1e-3, generator)["steps_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    with limit_threads(1):
        print("exact couplings, one thread (baseline: ot.emd, as torchcfm calls it)")
        rng = np.random.default_rng(0)
        for size in args.sizes:
            time_couplings(size, args.repeats, rng)
        print(f"\nexact-OT CFM training on the circle, {args.steps} steps, 3x64 MLP, one thread")
        for batch in (128, 512):
            ours = training_rate("raylab", batch, args.steps)
            try:
                theirs = training_rate("torchcfm", batch, args.steps)
            except ImportError:
                print(f"B = {batch}: ours {ours:.1f} steps/s (torchcfm not installed)")
                continue
            print(
                f"B = {batch}: ours {ours:.1f} steps/s | torchcfm {theirs:.1f} steps/s | "
                f"ratio {ours / theirs:.2f}"
            )


if __name__ == "__main__":
    main()
