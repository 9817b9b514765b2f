"""Farthest-insertion speed: the numba heuristic vs a plain numpy implementation of the same
algorithm (baseline, in this run), at N = 500 / 1000 / 10000, beside the O(n^2) floor (the distances
every build computes, and nothing else; target: a build within 2x of it); then best-of-K
sampling with 1 and 2 Ray actors against the serial path (targets: >= 10x over numpy,
<= 1 s per TSP-10000 build, 2 actors <= 0.65x the serial wall time, start-up and JIT warm-up
excluded).

    python benchmarks/tsp_heuristics.py [--data data/tsp] [--instances 8] [--samples 64]
                                        [--chunk 16]

Random uniform instances are used where a Fu et al. file is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from pathlib import Path

import numpy as np
from numba import njit

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


from raylab.context import SerialMapper  # noqa: E402
from raylab.methods.tsp_mdf.heuristics import insertion_tour  # noqa: E402
from raylab.methods.tsp_mdf.sampling import best_of_k, random_shift_model  # noqa: E402
from raylab.runtime.cluster import ray_session  # noqa: E402
from raylab.runtime.parallel import RayMapper  # noqa: E402


def numpy_farthest_insertion(coords: np.ndarray) -> np.ndarray:
    """The same algorithm (Kool's run_insertion, farthest) in numpy: one vectorised step per node."""
    n = len(coords)
    farthest = np.concatenate(
        [np.sqrt(((coords[i : i + 512, None] - coords[None]) ** 2).sum(-1)).max(1) for i in range(0, n, 512)]
    )  # D.max(1), in row blocks
    start = int(np.argmax(farthest))
    tour, in_tour = [start], np.zeros(n, dtype=bool)
    in_tour[start] = True
    to_tour = np.linalg.norm(coords - coords[start], axis=1)
    for _ in range(n - 1):
        node = int(np.argmax(np.where(in_tour, -1.0, to_tour)))
        if len(tour) < 2:
            tour.append(node)
        else:
            here = coords[tour]
            after = np.roll(here, -1, axis=0)
            cost = (
                np.linalg.norm(here - coords[node], axis=1)
                + np.linalg.norm(after - coords[node], axis=1)
                - np.linalg.norm(here - after, axis=1)
            )
            tour.insert(int(np.argmin(cost)) + 1, node)
        in_tour[node] = True
        to_tour = np.minimum(to_tour, np.linalg.norm(coords - coords[node], axis=1))
    return np.array(tour)


def instances(data: Path, n: int, count: int) -> np.ndarray:
    path = data / f"test-{n}-coords.npy"
    return np.load(path)[:count] if path.exists() else np.random.default_rng(n).random((count, n, 2))


@njit(cache=True)
def quadratic_floor(coords: np.ndarray) -> float:
    """The work no farthest-insertion build avoids, done once with nothing else: one distance per tour
    position per step (the cheapest-position scan, n^2 / 2 square roots) and one squared distance per
    node per step (keeping distances to the tour, n^2). The build's time over this one is its overhead."""
    n, x, y = coords.shape[0], coords[:, 0].copy(), coords[:, 1].copy()
    to_tour, scan, total = np.full(n, np.inf), np.zeros(n), 0.0
    for step in range(n):
        for k in range(step):
            scan[k] = np.sqrt((x[k] - x[step]) ** 2 + (y[k] - y[step]) ** 2)
        for i in range(n):
            to_tour[i] = min(to_tour[i], (x[i] - x[step]) ** 2 + (y[i] - y[step]) ** 2)
        total += scan[step // 2] + to_tour[step // 2]  # (kept so the loops are not optimised away)
    return total


def heuristic_speed(data: Path) -> None:
    insertion_tour(np.random.default_rng(0).random((10, 2)))  # compile / load the numba cache
    quadratic_floor(np.random.default_rng(0).random((10, 2)))
    for n, builds in ((500, 20), (1000, 10), (10000, 1)):
        coords = instances(data, n, builds)
        start = time.perf_counter()
        fast = [insertion_tour(c, "farthest") for c in coords]
        numba_s = (time.perf_counter() - start) / builds
        start = time.perf_counter()
        slow = [numpy_farthest_insertion(c) for c in coords[: max(1, builds // 4)]]
        numpy_s = (time.perf_counter() - start) / len(slow)
        start = time.perf_counter()
        quadratic_floor(coords[0])
        floor_s = time.perf_counter() - start
        same = all(np.array_equal(a, b) for a, b in zip(fast, slow))
        print(
            f"N={n:>5}: numba {1 / numba_s:9.1f} builds/s ({numba_s * 1e3:8.1f} ms), numpy baseline "
            f"{1 / numpy_s:7.2f} builds/s ({numpy_s * 1e3:8.1f} ms): {numpy_s / numba_s:5.1f}x, "
            f"same tours: {same}; the O(n^2) floor {floor_s * 1e3:7.1f} ms, build / floor "
            f"{numba_s / floor_s:4.2f}"
        )


def ray_speed(data: Path, count: int, samples: int, chunk: int) -> None:
    coords = instances(data, 500, count)
    models = [random_shift_model(500, 0.001) for _ in coords]
    builds = count * samples

    def timed(map_fn):
        start = time.perf_counter()
        out = best_of_k(map_fn, coords, models, samples, "farthest", seed=0, chunk=chunk)
        return time.perf_counter() - start, out

    serial_s, serial = timed(
        lambda f, items, shared: SerialMapper(progress=False).map(f, items, name="tsp", shared=shared)
    )
    print(
        f"\nbest-of-K sampling, N=500, {count} instances x K={samples}, chunks of {chunk}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"serial (baseline): {builds / serial_s:7.0f} constructions/s ({serial_s:.2f} s)")
    session = contextlib.ExitStack()  # the runtime's session: a private local Ray, stopped by close()
    session.enter_context(ray_session(log_to_driver=False))
    for actors in (1, 2):
        mapper = RayMapper(backend="actors", num_actors=actors, progress=False)
        timed(
            lambda f, items, shared, mapper=mapper, actors=actors: mapper.map(
                f, items, name=f"tsp{actors}", shared=shared
            )
        )  # start + JIT
        ray_s, out = timed(
            lambda f, items, shared, mapper=mapper, actors=actors: mapper.map(
                f, items, name=f"tsp{actors}", shared=shared
            )
        )
        same = all(np.array_equal(a["lengths"], b["lengths"]) for a, b in zip(serial, out))
        print(
            f"{actors} actor(s):        {builds / ray_s:7.0f} constructions/s ({ray_s:.2f} s), "
            f"{ray_s / serial_s:.2f}x the serial time, identical: {same}"
        )
        mapper.close()
    session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1] / "data" / "tsp"))
    parser.add_argument("--instances", type=int, default=8)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--chunk", type=int, default=16)
    args = parser.parse_args()
    heuristic_speed(Path(args.data))
    ray_speed(Path(args.data), args.instances, args.samples, args.chunk)


if __name__ == "__main__":
    main()
