"""Constructions per second of best-of-K random-shift sampling: serial (baseline) vs Ray actors.

    python benchmarks/tsp_sampling.py [--coords data/tsp/test-500-coords.npy] [--instances 16]
                                      [--samples 32] [--sigma 0.001] [--chunk 16]
                                      [--refs data/tsp/test-500-ref-lkh.npy]

Prints the compile time, both throughputs, the speed-up, whether both paths agree exactly, and the
gap against per-instance references when given.
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
from raylab.methods.tsp_mdf.heuristics import insertion_tour  # noqa: E402
from raylab.methods.tsp_mdf.sampling import best_of_k, random_shift_model  # noqa: E402
from raylab.runtime.cluster import ray_session  # noqa: E402
from raylab.runtime.parallel import RayMapper  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coords", default="data/tsp/test-500-coords.npy")
    parser.add_argument("--refs", default="data/tsp/test-500-ref-lkh.npy")
    parser.add_argument("--instances", type=int, default=16)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--sigma", type=float, default=0.001)
    parser.add_argument("--chunk", type=int, default=16, help="samples per fan-out item")
    args = parser.parse_args()
    coords = np.load(args.coords)[: args.instances]
    models = [random_shift_model(coords.shape[1], args.sigma) for _ in coords]
    builds = len(coords) * args.samples

    start = time.perf_counter()
    insertion_tour(coords[0])
    print(f"numba compile / cache load: {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    serial = best_of_k(
        lambda f, items, shared: SerialMapper(progress=False).map(f, items, name="tsp", shared=shared),
        coords,
        models,
        args.samples,
        "farthest",
        seed=0,
        chunk=args.chunk,
    )
    serial_s = time.perf_counter() - start

    session = contextlib.ExitStack()  # the runtime's session: a private local Ray, stopped by close()
    session.enter_context(ray_session(log_to_driver=False))
    mapper = RayMapper(backend="actors", progress=False)
    best_of_k(
        lambda f, items, shared: mapper.map(f, items, name="tsp", shared=shared),
        coords[:1],
        models[:1],
        2,
        "farthest",
        seed=0,
    )  # warm-up
    start = time.perf_counter()
    parallel = best_of_k(
        lambda f, items, shared: mapper.map(f, items, name="tsp", shared=shared),
        coords,
        models,
        args.samples,
        "farthest",
        seed=0,
        chunk=args.chunk,
    )
    ray_s = time.perf_counter() - start
    session.close()

    same = all(np.array_equal(a["lengths"], b["lengths"]) for a, b in zip(serial, parallel))
    print(
        f"{builds} constructions, N={coords.shape[1]}, K={args.samples}, sigma={args.sigma}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"serial (baseline): {builds / serial_s:8.0f} constructions/s ({serial_s:.2f} s)")
    print(
        f"ray actors:        {builds / ray_s:8.0f} constructions/s ({ray_s:.2f} s), "
        f"speed-up {serial_s / ray_s:.2f}x"
    )
    print(f"identical results: {same}")
    if args.refs and os.path.exists(args.refs):
        refs = np.load(args.refs)[: args.instances]
        plain = np.array([r["lengths"][0] for r in serial])
        best = np.array([r["best"] for r in serial])
        print(
            f"gap vs refs: plain {np.mean(plain / refs - 1):.2%}, "
            f"best of {args.samples} {np.mean(best / refs - 1):.2%}"
        )


if __name__ == "__main__":
    main()
