"""Quality per second on the same TSP-500 instances: gap to LKH-3 against wall time
per instance, for plain FI, FI + 2-opt/Or-opt, best of K untrained shifts, guided search, and both with
per-sample local search, on 1 and 2 Ray actors; LKH-3 (elkai, one run) timed as the reference;
OR-Tools routing with guided local search (optional extra `raylab[ortools]`, serial) at fixed time budgets.

    python benchmarks/tsp_frontier.py [--instances 16] [--family field] [--amplitude 0.1]
        [--ortools-seconds 0.1 1 5] [--out DIR]

Prints one row per (solver, actors): gap (%), seconds per instance (wall time of the whole set /
instances) and samples per second (constructions, each with its local search in the + LS rows), and
writes frontier.png. OR-Tools tours are scored in float Euclidean length, like every other row.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from raylab.methods.tsp_mdf import guided  # noqa: E402
from raylab.methods.tsp_mdf.families import Family  # noqa: E402
from raylab.methods.tsp_mdf.heuristics import tour_length  # noqa: E402
from raylab.methods.tsp_mdf.lkh import lkh_tour  # noqa: E402
from raylab.reporting.plots import new_figure, save_figure  # noqa: E402
from raylab.runtime.cluster import ray_session  # noqa: E402
from raylab.runtime.parallel import RayMapper  # noqa: E402


def solvers(family: Family, seed: int) -> dict:
    """name -> (constructions per instance, fn(map_fn, coords) returning per-instance lengths)."""

    def untrained(k, local_search=False):
        return k, lambda m, c: guided.untrained(m, c, family, k, "farthest", seed, 1, 32, local_search).min(1)

    def steered(k, local_search=False):
        return k, lambda m, c: guided.cem(m, c, family, k, 4, "farthest", seed, 1, 1, 0.5, local_search).min(
            1
        )

    return {
        "FI": untrained(1),
        "FI + LS": untrained(1, True),
        **{f"best of {k}": untrained(k) for k in (8, 32, 128)},
        "guided 32": steered(32),
        **{f"best of {k} + LS": untrained(k, True) for k in (8, 32)},
        "guided 32 + LS": steered(32, True),
    }


def ortools_rows(coords: list, gap, budgets: list[float]) -> list:
    """One row per time budget: OR-Tools guided local search run serially on every instance."""
    from raylab.methods.tsp_mdf.ortools_baseline import ortools_tour

    ortools_tour(coords[0][:20], budgets[0])  # warm-up: the solver library loaded
    rows = []
    for seconds in budgets:
        began = time.perf_counter()
        lengths = [tour_length(c, ortools_tour(c, seconds)) for c in coords]
        elapsed = (time.perf_counter() - began) / len(coords)
        rows.append((f"OR-Tools GLS {seconds:g} s", 1, gap(lengths), elapsed, 0))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coords", default="data/tsp/test-500-coords.npy")
    parser.add_argument("--refs", default="data/tsp/test-500-ref-lkh.npy")
    parser.add_argument("--instances", type=int, default=16)
    parser.add_argument("--family", default="field")
    parser.add_argument("--amplitude", type=float, default=0.1)
    parser.add_argument("--ortools-seconds", type=float, nargs="*", default=[0.1, 1.0, 5.0])
    parser.add_argument("--out", default="runs/benchmarks/tsp_frontier")
    args = parser.parse_args()
    coords = [np.ascontiguousarray(c) for c in np.load(args.coords)[: args.instances]]
    refs = np.load(args.refs)[: args.instances]
    gap = lambda lengths: float(np.mean(100 * (np.asarray(lengths) / refs - 1)))  # noqa: E731
    rows = []
    if importlib.util.find_spec("elkai") is not None:
        began = time.perf_counter()
        lkh = [tour_length(c, lkh_tour(c)) for c in coords]
        rows.append(("LKH-3 (1 run, serial)", 1, gap(lkh), (time.perf_counter() - began) / len(coords), 0))
    if importlib.util.find_spec("ortools") is None:
        print('OR-Tools rows skipped: they need `pip install -e ".[ortools]"`')
    elif args.ortools_seconds:
        rows += ortools_rows(coords, gap, args.ortools_seconds)
    with contextlib.ExitStack() as session:
        session.enter_context(ray_session(log_to_driver=False))
        for actors in (1, 2):
            mapper = RayMapper(backend="actors", num_actors=actors, progress=False)

            def map_fn(f, items, shared, mapper=mapper):
                return mapper.map(f, items, name="frontier", shared=shared)

            table = solvers(Family(args.family, args.amplitude), seed=0)
            table["FI + LS"][1](map_fn, coords[:2])  # warm-up: actors started, numba compiled
            for name, (k, solve) in table.items():
                began = time.perf_counter()
                lengths = solve(map_fn, coords)
                rows.append((name, actors, gap(lengths), (time.perf_counter() - began) / len(coords), k))
            mapper.close()
    print(f"{'solver':<24} actors   gap %   s / instance   samples / s (construction [+ local search])")
    for name, actors, g, seconds, k in rows:
        print(f"{name:<24} {actors:>6} {g:7.2f} {seconds:12.4f}   {k / seconds if k else float('nan'):10.0f}")
    fig, axes = new_figure()
    for actors, marker in ((1, "o"), (2, "s")):
        picked = [r for r in rows if r[1] == actors]
        axes[0][0].scatter(
            [r[3] for r in picked], [r[2] for r in picked], marker=marker, label=f"{actors} actor(s)"
        )
        for name, _, g, seconds, _ in picked:
            axes[0][0].annotate(name, (seconds, g), fontsize=6)
    axes[0][0].set_xscale("log")
    axes[0][0].set_xlabel("wall seconds per instance")
    axes[0][0].set_ylabel("gap to LKH-3 reference (%)")
    axes[0][0].legend(fontsize=7)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    save_figure(fig, Path(args.out) / "frontier.png")
    print(f"figure: {Path(args.out) / 'frontier.png'}")


if __name__ == "__main__":
    main()
