"""Anchors in the same run: 2-opt after plain H and after TSP-MDF, and LKH-3 through `elkai`
(optional extra `raylab[lkh]`; coordinates scaled to integers, since elkai's EUC_2D rounds)."""

from __future__ import annotations

import dataclasses
import importlib.util
import warnings
from collections.abc import Callable

import numpy as np

from raylab.methods.tsp_mdf.data import InstanceSet
from raylab.methods.tsp_mdf.heuristics import insertion_tour, two_opt
from raylab.methods.tsp_mdf.lkh import lkh_tour


@dataclasses.dataclass(frozen=True)
class TwoOptRun:
    """One work item: 2-opt from heuristic `method`'s plain tour (tour None) or from a given tour."""

    instance: int
    method: str
    tour: np.ndarray | None = None


def _two_opt_item(item: TwoOptRun, shared: InstanceSet) -> float:
    tour = item.tour if item.tour is not None else insertion_tour(shared.unit[item.instance], item.method)
    return shared.length(item.instance, two_opt(shared.unit[item.instance], tour))


def two_opt_lengths(
    data: InstanceSet, method: str, mdf_tours: list[np.ndarray], map_fn: Callable
) -> tuple[np.ndarray, np.ndarray]:
    """(plain H + 2-opt, best MDF tour + 2-opt) lengths per instance, scored on the originals."""
    items = [TwoOptRun(i, method) for i in range(len(data.unit))]
    items += [TwoOptRun(i, method, t) for i, t in enumerate(mdf_tours)]
    lengths = np.array(map_fn(_two_opt_item, items, shared=data))
    return lengths[: len(data.unit)], lengths[len(data.unit) :]


def _lkh_item(instance: int, shared: InstanceSet) -> float:
    """One work item: LKH-3 on instance `instance`."""
    return shared.length(instance, lkh_tour(shared.unit[instance]))


def lkh_lengths(data: InstanceSet, count: int, map_fn: Callable) -> np.ndarray | None:
    """LKH-3 (elkai, runs=1) on the first `count` instances; None (with a warning) without elkai."""
    if importlib.util.find_spec("elkai") is None:
        warnings.warn("LKH anchor skipped: elkai is not installed (pip install 'raylab[lkh]')", stacklevel=2)
        return None
    return np.array(map_fn(_lkh_item, list(range(min(count, len(data.unit)))), shared=data))
