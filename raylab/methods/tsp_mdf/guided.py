"""Sampling a shift family without training (best of K untrained draws) and test-time guided search:
K constructions split into rounds; after each round the next round's latents are
drawn around the best latents so far (a cross-entropy / (mu + lambda) evolution step: mean = mean of
the `elites` best, spread shrinking by `shrink` per round). The unshifted instance is sample 0 of
round 0 in both, so both are never worse than the plain heuristic and they spend the same K. With
`local_search`, every built tour is improved by 2-opt + Or-opt before it is scored,
and the search ranks those lengths."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from raylab.methods.tsp_mdf.families import Family, Shifter, untrained_latents
from raylab.methods.tsp_mdf.heuristics import insertion_tour
from raylab.methods.tsp_mdf.local_search import improve, neighbour_lists
from raylab.methods.tsp_mdf.tsplib import Instance, instance_length
from raylab.seeding import derive_seed


@dataclasses.dataclass(frozen=True)
class LatentBatch:
    """Fan-out item: build and score one instance's samples for the given latents."""

    instance: int
    family: Family
    latents: tuple[np.ndarray, ...]
    method: str
    local_search: bool = False  # 2-opt + Or-opt on the original instance from every built tour


def batch_lengths(item: LatentBatch, shared: dict) -> np.ndarray:
    """Tour lengths on the ORIGINAL coordinates of tours built on the shifted ones (after local search
    on the original coordinates when the item asks for it); in the instances' own metric when the
    shared data carries them (`shared["instances"]`, TSPLIB files), else Euclidean."""
    coords = shared["coords"][item.instance]
    instance = (
        shared["instances"][item.instance] if "instances" in shared else Instance("", coords, "EUCLIDEAN")
    )
    shifter = Shifter(item.family, coords, shared["seed"], item.instance)
    neighbours = neighbour_lists(coords) if item.local_search else None
    lengths = []
    for z in item.latents:
        tour = insertion_tour(coords + shifter(z), item.method)
        lengths.append(
            instance_length(instance, improve(coords, tour, neighbours) if item.local_search else tour)
        )
    return np.array(lengths)


def seconds_per_sample(coords: np.ndarray, family: Family, method: str, samples: int, seed: int) -> dict:
    """Measured cost of one sample on one instance, serially: shift + construction, and the local
    search after it (medians over `samples` untrained draws)."""
    shifter, neighbours = Shifter(family, coords, seed, 0), neighbour_lists(coords)
    build, search = [], []
    for z in untrained_latents(shifter, 0, range(1, samples + 1)):
        began = time.perf_counter()
        tour = insertion_tour(coords + shifter(z), method)
        built = time.perf_counter()
        improve(coords, tour, neighbours)
        build.append(built - began)
        search.append(time.perf_counter() - built)
    return {"construct": float(np.median(build)), "local_search": float(np.median(search))}


def _shifters(family: Family, coords: list[np.ndarray], seed: int) -> list[Shifter]:
    return [Shifter(family, c, seed, i) for i, c in enumerate(coords)]


def untrained(
    map_fn: Callable,
    coords: list[np.ndarray],
    family: Family,
    k: int,
    method: str,
    seed: int,
    stream: int,
    chunk: int = 32,
    local_search: bool = False,
) -> np.ndarray:
    """(instances, k) lengths of k untrained draws (sample 0 = unshifted), in sample order."""
    shifters = _shifters(family, coords, seed)
    items = [
        LatentBatch(
            i,
            family,
            tuple(untrained_latents(s, stream, range(start, min(start + chunk, k)))),
            method,
            local_search,
        )
        for i, s in enumerate(shifters)
        for start in range(0, k, chunk)
    ]
    out = map_fn(batch_lengths, items, shared={"coords": coords, "seed": seed})
    return np.concatenate(out).reshape(len(coords), k)


def cem(
    map_fn: Callable,
    coords: list[np.ndarray],
    family: Family,
    k: int,
    rounds: int,
    method: str,
    seed: int,
    stream: int,
    elites: int = 1,
    shrink: float = 0.7,
    local_search: bool = False,
) -> np.ndarray:
    """(instances, k) lengths of the guided search, in the order built."""
    shifters = _shifters(family, coords, seed)
    per_round = k // rounds
    latents = [untrained_latents(s, stream, range(per_round)) for s in shifters]
    lengths = [
        list(v)
        for v in map_fn(
            batch_lengths,
            [LatentBatch(i, family, tuple(z), method, local_search) for i, z in enumerate(latents)],
            shared={"coords": coords, "seed": seed},
        )
    ]
    for r in range(1, rounds):
        size = per_round if r < rounds - 1 else k - per_round * (rounds - 1)
        proposals = []
        for i, s in enumerate(shifters):
            best = np.argsort(lengths[i], kind="stable")[:elites]
            centre = np.mean([latents[i][j] for j in best], axis=0)
            rng = np.random.default_rng(derive_seed(seed, "cem", stream, i, r))
            proposals.append([centre + shrink**r * rng.standard_normal(s.latent_size) for _ in range(size)])
        found = map_fn(
            batch_lengths,
            [LatentBatch(i, family, tuple(z), method, local_search) for i, z in enumerate(proposals)],
            shared={"coords": coords, "seed": seed},
        )
        for i, (z, values) in enumerate(zip(proposals, found)):
            latents[i] += z
            lengths[i] += list(values)
    return np.array(lengths)
