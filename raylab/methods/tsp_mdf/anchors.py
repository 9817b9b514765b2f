"""Anchors in the same run: 2-opt after plain H and after TSP-MDF, and LKH-3 through `elkai`
(optional extra `raylab[lkh]`; coordinates scaled to integers, since elkai's EUC_2D rounds)."""

from __future__ import annotations

import importlib.util
import warnings
from typing import Callable

import numpy as np

from raylab.methods.tsp_mdf.data import InstanceSet
from raylab.methods.tsp_mdf.heuristics import insertion_tour, two_opt

LKH_SCALE = 1e6  # unit-square coordinates -> integers for elkai (without it instances collapse)


def _two_opt_item(item: dict, shared: InstanceSet) -> float:
    i, tour = item["instance"], item["tour"]
    if tour is None:
        tour = insertion_tour(shared.unit[i], item["method"])
    return shared.length(i, two_opt(shared.unit[i], tour))


def two_opt_lengths(
    data: InstanceSet, method: str, mdf_tours: list[np.ndarray], map_fn: Callable
) -> tuple[np.ndarray, np.ndarray]:
    """(plain H + 2-opt, best MDF tour + 2-opt) lengths per instance, scored on the originals."""
    items = [{"instance": i, "method": method, "tour": None} for i in range(len(data.unit))]
    items += [{"instance": i, "method": method, "tour": t} for i, t in enumerate(mdf_tours)]
    lengths = np.array(map_fn(_two_opt_item, items, shared=data))
    return lengths[: len(data.unit)], lengths[len(data.unit) :]


def lkh_tour(coords: np.ndarray, runs: int = 1) -> np.ndarray:
    import elkai

    points = {i: (int(round(x * LKH_SCALE)), int(round(y * LKH_SCALE))) for i, (x, y) in enumerate(coords)}
    tour = elkai.Coordinates2D(points).solve_tsp(runs=runs)
    return np.array(tour[:-1] if len(tour) > len(coords) else tour)


def _lkh_item(item: dict, shared: InstanceSet) -> float:
    i = item["instance"]
    return shared.length(i, lkh_tour(shared.unit[i]))


def lkh_lengths(data: InstanceSet, count: int, map_fn: Callable) -> np.ndarray | None:
    """LKH-3 (elkai, runs=1) on the first `count` instances; None (with a warning) without elkai."""
    if importlib.util.find_spec("elkai") is None:
        warnings.warn("LKH anchor skipped: elkai is not installed (pip install 'raylab[lkh]')", stacklevel=2)
        return None
    items = [{"instance": i} for i in range(min(count, len(data.unit)))]
    return np.array(map_fn(_lkh_item, items, shared=data))
