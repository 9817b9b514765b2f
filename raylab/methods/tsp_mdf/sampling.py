"""Guided sampling: best of K shifted instances, each built by an insertion heuristic and scored on
the ORIGINAL coordinates (our reconstruction).

Shifts: delta_i = unit_i * (mean_i + sigma_i * eps_i), clipped to ||delta_i|| <= clip * unit_i, where
eps depends only on (seed, instance id, sample id) - so results are the same however the samples are
chunked or which worker builds them. Sample 0 is always the unshifted instance, so best-of-K is never
worse than the plain heuristic. `unit` is the nearest-neighbour distance for the modifier (scale-free
shifts) and 1 for the untrained absolute-sigma ablation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import cast

import numpy as np
from scipy.spatial import cKDTree

from raylab.methods.tsp_mdf.heuristics import insertion_tour, tour_length
from raylab.methods.tsp_mdf.tsplib import Instance, tsplib_length
from raylab.seeding import derive_seed


@dataclasses.dataclass
class ShiftModel:
    """Per-node shift parameters of one instance (the modifier's output, or a fixed ablation)."""

    mean: np.ndarray  # (n, 2), in units of `unit`
    sigma: np.ndarray  # (n,)
    unit: np.ndarray  # (n,) per-node length unit
    clip: float = np.inf  # ||delta_i|| <= clip * unit_i


def nearest_neighbour_distance(coords: np.ndarray) -> np.ndarray:
    # (scipy-stubs types query() as a scalar pair or an array pair, whatever the query)
    distances, _ = cast("tuple[np.ndarray, np.ndarray]", cKDTree(coords).query(coords, k=2))
    return distances[:, 1]


def random_shift_model(n: int, sigma: float) -> ShiftModel:
    """The untrained ablation: i.i.d. N(0, sigma^2) shifts in absolute (unit-square) coordinates."""
    return ShiftModel(np.zeros((n, 2)), np.full(n, float(sigma)), np.ones(n))


def sample_noise(seed: int, instance_id: int, sample_id: int, n: int) -> np.ndarray:
    return np.random.default_rng(derive_seed(seed, "shift", instance_id, sample_id)).standard_normal((n, 2))


def shift(model: ShiftModel, noise: np.ndarray) -> np.ndarray:
    """delta (n, 2) for standard-normal `noise` (n, 2)."""
    delta = model.unit[:, None] * (model.mean + model.sigma[:, None] * noise)
    if np.isfinite(model.clip):
        norm = np.linalg.norm(delta, axis=1)
        limit = model.clip * model.unit
        delta *= np.minimum(1.0, limit / np.maximum(norm, 1e-300))[:, None]
    return delta


def evaluate_samples(
    coords: np.ndarray,
    model: ShiftModel,
    method: str,
    sample_ids,
    seed: int,
    instance_id: int,
    original: Instance | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:  # (the best tour is None when there is no sample)
    """Lengths of the tours built on each sample, scored on the unshifted instance (`original` with
    its TSPLIB metric when given, else Euclidean on `coords`); and the best tour."""
    lengths, best_tour = [], None
    for sample_id in sample_ids:
        moved = (
            coords
            if sample_id == 0
            else coords + shift(model, sample_noise(seed, instance_id, sample_id, len(coords)))
        )
        tour = insertion_tour(moved, method)
        lengths.append(
            tour_length(coords, tour) if original is None else float(tsplib_length(original, tour))
        )
        if lengths[-1] == min(lengths):
            best_tour = tour
    return np.array(lengths), best_tour


@dataclasses.dataclass(frozen=True)
class SampleChunk:
    """One work item: samples [start, stop) of each listed instance, with its shift model."""

    instances: tuple[int, ...]
    models: tuple[ShiftModel, ...]
    start: int
    stop: int
    method: str
    seed: int  # the noise stream; sample k of instance i is fixed by (seed, i, k)


def evaluate_chunk(item: SampleChunk, shared: dict) -> list[dict]:
    """`shared` holds every instance's coordinates (and TSPLIB originals), sent once through the
    object store; the item carries only compact shift parameters."""
    originals = shared.get("originals")
    out = []
    for i, model in zip(item.instances, item.models, strict=True):
        lengths, tour = evaluate_samples(
            shared["coords"][i],
            model,
            item.method,
            range(item.start, item.stop),
            item.seed,
            i,
            originals[i] if originals else None,
        )
        out.append({"instance": i, "start": item.start, "lengths": lengths, "tour": tour})
    return out


def best_of_k(
    map_fn: Callable,
    coords,
    models: list[ShiftModel],
    samples: int,
    method: str,
    seed: int,
    chunk: int = 8,
    originals: list[Instance] | None = None,
    per_item: int = 1,
) -> list[dict]:
    """Per instance: all K lengths (sample order), the best length and its tour.

    `coords` is a list (or stacked array) of (n_i, 2) instances; `originals` (TSPLIB) switch scoring
    to the TSPLIB metric on the original coordinates. An item holds `chunk` samples of one instance,
    or, with per_item > 1, all samples of `per_item` instances (small instances: fewer, larger tasks).
    `map_fn(fn, items, shared=...)` is a RunContext/mapper `map` (serial or Ray actors)."""
    if per_item > 1:
        groups = [list(range(g, min(g + per_item, len(coords)))) for g in range(0, len(coords), per_item)]
        spans = [(0, samples)]
    else:
        groups, spans = (
            [[i] for i in range(len(coords))],
            [(s, min(s + chunk, samples)) for s in range(0, samples, chunk)],
        )
    items = [
        SampleChunk(tuple(group), tuple(models[i] for i in group), start, stop, method, seed)
        for group in groups
        for start, stop in spans
    ]
    shared = {"coords": [np.ascontiguousarray(c, dtype=np.float64) for c in coords], "originals": originals}
    results: list[dict] = [{"lengths": np.empty(samples), "best": np.inf, "tour": None} for _ in coords]
    for out in (row for rows in map_fn(evaluate_chunk, items, shared=shared) for row in rows):
        res = results[out["instance"]]
        res["lengths"][out["start"] : out["start"] + len(out["lengths"])] = out["lengths"]
        if out["lengths"].min() < res["best"]:
            res["best"], res["tour"] = float(out["lengths"].min()), out["tour"]
    return results
