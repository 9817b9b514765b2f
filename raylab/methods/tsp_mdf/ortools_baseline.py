"""Google OR-Tools' routing solver with guided local search (optional extra `raylab[ortools]`): a
time-budgeted TSP baseline. The solver sees integer distances; callers score its tour in float
Euclidean length (`heuristics.tour_length`)."""

from __future__ import annotations

import numpy as np

ORTOOLS_SCALE = 1e6  # Euclidean distances x 1e6, rounded to integers (each edge off by <= 0.5e-6)


def scaled_distances(coords: np.ndarray, scale: float = ORTOOLS_SCALE) -> np.ndarray:
    """Integer matrix round(scale * Euclidean distance), int64."""
    diff = coords[:, None, :] - coords[None, :, :]
    return np.rint(scale * np.sqrt((diff**2).sum(-1))).astype(np.int64)


def _parameters(seconds: float):
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromNanoseconds(round(seconds * 1e9))
    return params


def ortools_tour(coords: np.ndarray, seconds: float, scale: float = ORTOOLS_SCALE) -> np.ndarray:
    """Tour (a permutation starting at node 0) found by OR-Tools routing (PATH_CHEAPEST_ARC first
    solution, guided local search) within `seconds` of search; the routing solver is single-threaded."""
    from ortools.constraint_solver import pywrapcp

    n = len(coords)
    manager = pywrapcp.RoutingIndexManager(n, 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(scaled_distances(np.asarray(coords, float), scale).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    solution = routing.SolveWithParameters(_parameters(seconds))
    if solution is None:
        raise RuntimeError(f"OR-Tools found no tour in {seconds} s")
    tour, index = [], routing.Start(0)
    while not routing.IsEnd(index):
        tour.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    return np.array(tour, dtype=np.int64)
