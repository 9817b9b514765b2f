"""LKH-3 through `elkai` (optional extra `raylab[lkh]`): the reference solver of the TSP experiments."""

from __future__ import annotations

import numpy as np

LKH_SCALE = 1e6  # unit-square coordinates -> integers for elkai (without it instances collapse)


def lkh_tour(coords: np.ndarray, runs: int = 1) -> np.ndarray:
    import elkai

    points = {i: (int(round(x * LKH_SCALE)), int(round(y * LKH_SCALE))) for i, (x, y) in enumerate(coords)}
    tour = elkai.Coordinates2D(points).solve_tsp(runs=runs)
    return np.array(tour[:-1] if len(tour) > len(coords) else tour)
