"""Insertion heuristics exactly as Kool et al.'s `run_insertion`, compiled with numba, O(n^2).

Kool et al. (attention-learn-to-route, problems/tsp/tsp_baseline.py): nodes join the tour one by
one; each goes where the insertion cost d(p, a) + d(a, q) - d(p, q) is lowest (first such position).
Which node joins next: "random" = index order (deterministic), "nearest" = the unvisited node
closest to the tour (node 0 first), "farthest" = the unvisited node whose closest tour node is
farthest (first node: argmax_i max_j d(i, j)). Ties go to the lowest index, like numpy's argmin /
argmax. Distances are computed on the fly (no n x n matrix), keeping each unvisited node's distance
to the tour up to date, so a build is O(n^2) time and O(n) memory.
"""

from __future__ import annotations

import numpy as np
from numba import njit

METHODS = {"random": 0, "nearest": 1, "farthest": 2}


@njit(cache=True)
def _dist(coords, i, j):
    dx = coords[i, 0] - coords[j, 0]
    dy = coords[i, 1] - coords[j, 1]
    return np.sqrt(dx * dx + dy * dy)


@njit(cache=True)
def _first_node(coords, method):
    if method != 2:
        return 0
    best, best_node = -1.0, 0
    for i in range(coords.shape[0]):
        far = 0.0
        for j in range(coords.shape[0]):
            d = _dist(coords, i, j)
            if d > far:
                far = d
        if far > best:
            best, best_node = far, i
    return best_node


@njit(cache=True)
def _insertion(coords, method):
    n = coords.shape[0]
    tour = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)  # order[step] = the node inserted at that step
    in_tour = np.zeros(n, dtype=np.bool_)
    to_tour = np.full(n, np.inf)  # distance of each unvisited node to the tour
    size = 0
    for step in range(n):
        if step == 0:
            node = _first_node(coords, method)
        elif method == 0:
            node = step
        else:
            node, best = -1, 0.0
            for i in range(n):
                if in_tour[i]:
                    continue
                if node < 0 or (method == 1 and to_tour[i] < best) or (method == 2 and to_tour[i] > best):
                    node, best = i, to_tour[i]
        order[step] = node
        if size < 2:
            position = size  # Kool: [a] then [a, b]
        else:
            position, cheapest = 0, np.inf
            for k in range(size):
                prv, nxt = tour[k], tour[(k + 1) % size]
                cost = _dist(coords, prv, node) + _dist(coords, node, nxt) - _dist(coords, prv, nxt)
                if cost < cheapest:
                    position, cheapest = k + 1, cost
        for k in range(size, position, -1):
            tour[k] = tour[k - 1]
        tour[position] = node
        size += 1
        in_tour[node] = True
        for i in range(n):
            if not in_tour[i]:
                d = _dist(coords, i, node)
                if d < to_tour[i]:
                    to_tour[i] = d
    return tour, order


def _checked(coords: np.ndarray, method: str) -> np.ndarray:
    if method not in METHODS:
        raise ValueError(f"unknown insertion method '{method}' (choose from {', '.join(METHODS)})")
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2 or coords.shape[0] < 1:
        raise ValueError(f"coordinates must have shape (n, 2), got {coords.shape}")
    return coords


def insertion_tour(coords: np.ndarray, method: str = "farthest") -> np.ndarray:
    """The tour (a permutation of range(n)) built by insertion `method` on (n, 2) coordinates."""
    return _insertion(_checked(coords, method), METHODS[method])[0]


def insertion_order(coords: np.ndarray, method: str = "farthest") -> np.ndarray:
    """The nodes in the order `method` inserts them (order[0] is the start node)."""
    return _insertion(_checked(coords, method), METHODS[method])[1]


@njit(cache=True)
def _length(coords, tour):
    total = 0.0
    for k in range(tour.shape[0]):
        total += _dist(coords, tour[k], tour[(k + 1) % tour.shape[0]])
    return total


def tour_length(coords: np.ndarray, tour: np.ndarray) -> float:
    """Euclidean length of the closed tour."""
    return float(_length(np.ascontiguousarray(coords, dtype=np.float64), np.asarray(tour, dtype=np.int64)))


@njit(cache=True)
def _two_opt(coords, tour, max_passes):
    n = tour.shape[0]
    for _ in range(max_passes):
        best_gain, best_i, best_j = 1e-12, -1, -1
        for i in range(n - 1):
            a, b = tour[i], tour[i + 1]
            for j in range(i + 2, n if i > 0 else n - 1):
                c, d = tour[j], tour[(j + 1) % n]
                gain = _dist(coords, a, b) + _dist(coords, c, d) - _dist(coords, a, c) - _dist(coords, b, d)
                if gain > best_gain:
                    best_gain, best_i, best_j = gain, i, j
        if best_i < 0:
            break
        tour[best_i + 1 : best_j + 1] = tour[best_i + 1 : best_j + 1][::-1].copy()
    return tour


def two_opt(coords: np.ndarray, tour: np.ndarray, max_passes: int = 100_000) -> np.ndarray:
    """Best-improvement 2-opt to a local optimum (each pass applies the single best move)."""
    return _two_opt(
        np.ascontiguousarray(coords, dtype=np.float64), np.array(tour, dtype=np.int64), max_passes
    )
