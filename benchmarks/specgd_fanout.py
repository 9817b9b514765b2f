"""Wall time of the SpecGD lambda x optimiser grid: serial (baseline) vs the Ray task fan-out.

    python benchmarks/specgd_fanout.py [--d 100] [--steps 1500] [--seeds 1]

Prints Ray's start-up and shut-down overhead, both wall times, the speed-up (expect close to the
core count for items of a few seconds) and checks that both paths gave identical trajectories.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import numpy as np

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


from raylab.context import SerialMapper  # noqa: E402
from raylab.methods.specgd.experiment import Cell, run_cell  # noqa: E402
from raylab.runtime.cluster import ray_session  # noqa: E402
from raylab.runtime.parallel import RayMapper  # noqa: E402
from raylab.seeding import derive_seed  # noqa: E402


def grid(d: int, steps: int, seeds: int) -> list[Cell]:
    lrs = {"gd": 0.05, "specgd": 0.01, "muon": 0.01}
    return [
        Cell(derive_seed(0, "problem", s), d, lam, 0, 1e-3, opt, lr, steps)
        for lam in (1.0, 3.0, 5.0, 20.0)
        for opt, lr in lrs.items()
        for s in range(seeds)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    cells = grid(args.d, args.steps, args.seeds)
    print(
        f"grid: {len(cells)} cells (4 lambdas x gd/specgd/muon x {args.seeds} seeds), d={args.d}, "
        f"{args.steps} steps, {os.cpu_count()} CPUs"
    )

    start = time.perf_counter()
    serial = SerialMapper(progress=False).map(run_cell, cells, name="cell")
    serial_s = time.perf_counter() - start

    start = time.perf_counter()
    session = contextlib.ExitStack()  # the runtime's session: a private local Ray, stopped by close()
    session.enter_context(ray_session(log_to_driver=False))
    init_s = time.perf_counter() - start
    start = time.perf_counter()
    parallel = RayMapper(progress=False).map(run_cell, cells, name="cell")
    ray_s = time.perf_counter() - start
    start = time.perf_counter()
    session.close()
    shutdown_s = time.perf_counter() - start

    identical = all(np.array_equal(a[k], b[k]) for a, b in zip(serial, parallel) for k in a)
    print(f"ray start-up:             {init_s:7.2f} s   (shutdown {shutdown_s:.2f} s)")
    print(f"serial (baseline):        {serial_s:7.2f} s   ({serial_s / len(cells):.2f} s per cell)")
    print(f"ray tasks:                {ray_s:7.2f} s")
    print(f"speed-up (fan-out only):  {serial_s / ray_s:7.2f}x")
    print(f"speed-up (incl. start-up):{serial_s / (ray_s + init_s):7.2f}x")
    print(f"identical trajectories:   {identical}")


if __name__ == "__main__":
    main()
