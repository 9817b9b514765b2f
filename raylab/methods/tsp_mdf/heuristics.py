"""Insertion heuristics exactly as Kool et al.'s `run_insertion`, compiled with numba, O(n^2).

Kool et al. (attention-learn-to-route, problems/tsp/tsp_baseline.py): nodes join the tour one by
one; each goes where the insertion cost d(p, a) + d(a, q) - d(p, q) is lowest (first such position).
Which node joins next: "random" = index order (deterministic), "nearest" = the unvisited node
closest to the tour (node 0 first), "farthest" = the unvisited node whose closest tour node is
farthest (first node: argmax_i max_j d(i, j)). Ties go to the lowest index, like numpy's argmin /
argmax. Distances are computed on the fly (no n x n matrix), keeping each unvisited node's distance
to the tour up to date, so a build is O(n^2) time and O(n) memory. The loop is laid out for speed
(target: 4x faster at N = 10000; README) and makes every decision Kool's plain loop makes, floating-point
ties included (tested step by step against that loop).
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
def _farthest_start(x, y):
    """argmax_i max_j d(i, j), ties to the lowest index. max_j d(i, j) <= d(i, c) + R for the centre
    c of the bounding box and R = max_j d(c, j), and the diameter is >= D0 = max_j d(p, j) for the
    point p farthest from c: a node with d(i, c) + R < D0 cannot be the start, so the O(n^2) search
    runs over the others only (for uniform instances, a few nodes near the corners)."""
    n = x.shape[0]
    cx, cy = 0.5 * (x.min() + x.max()), 0.5 * (y.min() + y.max())
    to_centre = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    radius, p = to_centre.max(), np.argmax(to_centre)
    lower = np.sqrt((x - x[p]) ** 2 + (y - y[p]) ** 2).max() * (1.0 - 1e-9)  # float safety margin
    best, best_node = -1.0, 0
    for i in range(n):
        if to_centre[i] + radius < lower:
            continue
        far = 0.0
        for j in range(n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            d = np.sqrt(dx * dx + dy * dy)
            if d > far:
                far = d
        if far > best:
            best, best_node = far, i
    return best_node


EXACT_REDUCTION = {"nnan", "nsz", "reassoc"}  # lets LLVM vectorize a max / min; each is still exact


@njit(cache=True, fastmath=EXACT_REDUCTION)
def _lane_max(values, count):
    """max(values[:count]) over 8 independent lanes (a shape LLVM vectorizes; a max is exact in any order)."""
    lanes, whole = np.full(8, -np.inf), count - count % 8
    for start in range(0, whole, 8):
        for lane in range(8):
            value = values[start + lane]
            lanes[lane] = value if value > lanes[lane] else lanes[lane]
    best = lanes.max()
    for i in range(whole, count):
        best = values[i] if values[i] > best else best
    return best


@njit(cache=True, fastmath=EXACT_REDUCTION)
def _lane_min(values, count):
    """min(values[:count]), as `_lane_max`."""
    lanes, whole = np.full(8, np.inf), count - count % 8
    for start in range(0, whole, 8):
        for lane in range(8):
            value = values[start + lane]
            lanes[lane] = value if value < lanes[lane] else lanes[lane]
    best = lanes.min()
    for i in range(whole, count):
        best = values[i] if values[i] < best else best
    return best


@njit(cache=True)
def _first_at(to_tour, in_tour, extreme):
    """The first unvisited index whose distance to the tour equals sqrt(extreme), `extreme` being the
    largest / smallest kept square: Kool's argmax / argmin runs on the distances themselves, and two
    squares an ulp apart can share one square root (then the lower index wins, as there). Only squares
    within 1e-15 of `extreme` can (a shared root spans ~4.4e-16 of relative width), so few are rooted."""
    target, low, high = np.sqrt(extreme), extreme * (1 - 1e-15), extreme * (1 + 1e-15)
    for i in range(to_tour.shape[0]):
        value = to_tour[i]
        if low <= value <= high and not in_tour[i] and np.sqrt(value) == target:
            return i
    return -1


@njit(cache=True)
def _next_node(to_tour, in_tour, farthest):
    """Farthest: the largest distance to the tour (visited nodes hold -1); nearest: the smallest over
    unvisited nodes. Ties to the lowest index."""
    if farthest:
        return _first_at(to_tour, in_tour, _lane_max(to_tour, to_tour.shape[0]))
    extreme = np.inf
    for i in range(to_tour.shape[0]):
        if not in_tour[i] and to_tour[i] < extreme:
            extreme = to_tour[i]
    return _first_at(to_tour, in_tour, extreme)


@njit(cache=True)
def _insertion(coords, method):
    """Kool's run_insertion. The tour is kept in tour order with its nodes' coordinates and its edge
    lengths beside it, so the cheapest-position scan is one contiguous pass computing one distance per
    position (d(p, a) + d(a, q) - d(p, q), the same floating-point expression as Kool's, edge lengths
    reused); distances to the tour are kept squared (no square root; ties are settled on the roots,
    `_first_at`)."""
    n = coords.shape[0]
    x, y = coords[:, 0].copy(), coords[:, 1].copy()
    tour, order = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    tx, ty, edge, to_node, cost = np.empty(n), np.empty(n), np.empty(n + 1), np.empty(n + 1), np.empty(n)
    to_tour = np.full(n, np.inf)  # squared distance of each node to the tour; -1 once visited (farthest)
    in_tour = np.zeros(n, dtype=np.bool_)
    for size in range(n):
        if size == 0:
            node = _farthest_start(x, y) if method == 2 else 0
        elif method == 0:
            node = size
        else:
            node = _next_node(to_tour, in_tour, method == 2)
        order[size], in_tour[node] = node, True
        for k in range(size):
            dx, dy = tx[k] - x[node], ty[k] - y[node]
            to_node[k] = np.sqrt(dx * dx + dy * dy)
        if size < 2:  # Kool: [a] then [a, b]
            position = size
            edge[0] = to_node[0] if size == 1 else 0.0
            edge[1] = edge[0]
        else:
            to_node[size] = to_node[0]
            for k in range(size):
                cost[k] = to_node[k] + to_node[k + 1] - edge[k]
            cheapest, position = _lane_min(cost, size), 1
            while cost[position - 1] != cheapest:
                position += 1
            after = to_node[position]
            for k in range(size, position, -1):
                tour[k], tx[k], ty[k], edge[k] = tour[k - 1], tx[k - 1], ty[k - 1], edge[k - 1]
            edge[position - 1], edge[position] = to_node[position - 1], after
        tour[position], tx[position], ty[position] = node, x[node], y[node]
        if method != 0:
            for i in range(n):
                dx, dy = x[i] - x[node], y[i] - y[node]
                to_tour[i] = min(to_tour[i], dx * dx + dy * dy)
            to_tour[node] = -1.0  # never the farthest again (nearest skips visited nodes)
    return tour, order


def _checked(coords: np.ndarray, method: str) -> np.ndarray:
    if method not in METHODS:
        raise ValueError(f"unknown insertion method '{method}' (choose from {', '.join(METHODS)})")
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2 or coords.shape[0] < 1:
        raise ValueError(f"coordinates must have shape (n, 2), got {coords.shape}")
    if not np.isfinite(coords).all():
        raise ValueError("coordinates must be finite (NaN or inf found)")
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
