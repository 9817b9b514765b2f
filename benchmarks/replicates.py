"""Replicates as a batch dimension: replicate-updates per second of R replicates trained as one
vectorised model against the same R replicates trained one after another, in one run, per loop.

    python benchmarks/replicates.py                 # R = 1, 4, 8, 16 on one thread (a fan-out item)
    python benchmarks/replicates.py --replicates 1 8 --steps 20

Loops: PAR's TD3+BC (half the replicates with PAR, gate off) at the bandit's shape (2-D state and
action, hidden 32 and 256) and Pendulum's (3-D state, 1-D action, hidden 256), batch 256.
Both columns count replicate-updates per second (R x steps / seconds), the best of `--repeats`
measurements (this box's speed drifts by tens of percent within a minute); "one by one" is a
one-replicate model, what R runs one after another achieve; ratio = batched / one by one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raylab.context import limit_threads  # noqa: E402
from raylab.methods.par.config import TD3BCConfig  # noqa: E402
from raylab.methods.par.replacer import ProximalActionReplacer  # noqa: E402
from raylab.methods.par.td3bc import TD3BC  # noqa: E402

LOOPS = {  # name: (state dim, action dim, hidden)
    "par td3bc bandit h32": (2, 2, 32),
    "par td3bc bandit h256": (2, 2, 256),
    "par td3bc pendulum h256": (3, 1, 256),
}
BATCH, DATA = 256, 10_000


def td3bc_rate(shape: tuple[int, int, int], replicates: int, steps: int) -> float:
    """Replicate-updates per second of one TD3BC holding `replicates` replicates."""
    obs_dim, act_dim, hidden = shape
    seeds = list(range(replicates))
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    replacers = [ProximalActionReplacer(0, steps, 0.5, 0.5, gate="off") if s % 2 else None for s in seeds]
    learner = TD3BC(obs_dim, act_dim, 1.0, TD3BCConfig(hidden=hidden), seeds, generators, replacers)
    g = torch.Generator().manual_seed(0)
    data = {
        "observations": torch.randn(DATA, obs_dim, generator=g),
        "actions": torch.rand(DATA, act_dim, generator=g) * 2 - 1,
        "rewards": torch.randn(DATA, generator=g),
        "next_observations": torch.randn(DATA, obs_dim, generator=g),
        "terminals": torch.zeros(DATA),
    }

    def step(t: int) -> None:
        rows = [torch.randint(DATA, (BATCH,), generator=gen) for gen in generators]
        learner.update({k: torch.stack([v[r] for r in rows]) for k, v in data.items()}, t)

    for t in range(4):  # warm-up: allocator, Adam state, the replacers' pools
        step(t)
    start = time.perf_counter()
    for t in range(4, 4 + steps):
        step(t)
    return replicates * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replicates", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--steps", type=int, default=40, help="timed updates per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per figure (the best counts)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, 1 thread, batch {BATCH}; replicate-updates per second")
    print(f"{'loop':<26}{'R':>4}{'batched':>10}{'one by one':>12}{'ratio':>8}")
    with limit_threads(1):
        for name, shape in LOOPS.items():
            alone = max(td3bc_rate(shape, 1, args.steps) for _ in range(args.repeats))
            for r in args.replicates:
                batched = max(td3bc_rate(shape, r, args.steps) for _ in range(args.repeats))
                print(f"{name:<26}{r:>4}{batched:>10.0f}{alone:>12.0f}{batched / alone:>8.2f}")


if __name__ == "__main__":
    main()
