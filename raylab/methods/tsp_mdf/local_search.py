"""Per-sample local search for the sampled tours: 2-opt and Or-opt over K-nearest-
neighbour candidate lists, numba, array tour with a position index.

2-opt (Croes 1958) with neighbour lists and don't-look bits (Bentley 1992): for a node a with tour
neighbour b (successor, then predecessor) and a candidate c among a's nearest neighbours with
d(a, c) < d(a, b), the move that replaces (a, b), (c, d) by (a, c), (b, d) is applied when it shortens
the tour; nodes whose edges changed are looked at again. The segment reversed is the shorter side.
Or-opt (Or 1976): a segment of 1-3 consecutive nodes moves, in either orientation, between two tour
neighbours (u, w) where u is a candidate neighbour of one of its ends. The two alternate until neither
improves: the result is a local optimum of both neighbourhoods over the candidate lists (with
k = n - 1 candidates, of full 2-opt and Or-opt).
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

from raylab.methods.tsp_mdf.heuristics import _dist

EPS = 1e-10  # the smallest gain applied (length units)


def neighbour_lists(coords: np.ndarray, k: int = 10) -> np.ndarray:
    """(n, min(k, n - 1)) indices of each node's nearest other nodes, closest first."""
    k = min(k, len(coords) - 1)
    # (scipy-stubs types query() as a scalar pair or an array pair, whatever the query)
    _, idx = cast("tuple[np.ndarray, np.ndarray]", cKDTree(coords).query(coords, k=k + 1))
    return np.ascontiguousarray(idx[:, 1:], dtype=np.int64)


@njit(cache=True)
def _reverse(tour, pos, i, length):
    """Reverse the `length` tour entries starting at position i (cyclic), keeping `pos` in step."""
    n = tour.shape[0]
    for s in range(length // 2):
        a, b = (i + s) % n, (i + length - 1 - s) % n
        tour[a], tour[b] = tour[b], tour[a]
        pos[tour[a]], pos[tour[b]] = a, b


@njit(cache=True)
def _reverse_path(tour, pos, first, last):
    """Make the tour run ...first-1, last, ..., first, last+1... : reverse the path first..last or,
    equivalently for a cycle, its complement, whichever is shorter."""
    n = tour.shape[0]
    length = (pos[last] - pos[first]) % n + 1
    if 2 * length <= n:
        _reverse(tour, pos, pos[first], length)
    else:
        _reverse(tour, pos, (pos[last] + 1) % n, n - length)


@njit(cache=True)
def _two_opt(coords, tour, pos, neighbours):
    """Neighbour-list 2-opt with don't-look bits, to a local optimum; returns whether it improved."""
    n = tour.shape[0]
    queue, queued = tour.copy(), np.ones(n, dtype=np.bool_)
    head, size, improved = 0, n, False
    while size > 0:
        a = queue[head]
        head, size = (head + 1) % n, size - 1
        queued[a] = False
        for succ_side in (True, False):
            b = tour[(pos[a] + 1) % n] if succ_side else tour[(pos[a] - 1) % n]
            d_ab, moved = _dist(coords, a, b), False
            for c in neighbours[a]:
                g1 = d_ab - _dist(coords, a, c)
                if g1 <= EPS:
                    break
                d = tour[(pos[c] + 1) % n] if succ_side else tour[(pos[c] - 1) % n]
                if c == b or d == a:
                    continue
                if g1 + _dist(coords, c, d) - _dist(coords, b, d) > EPS:
                    if succ_side:  # a b ... c d  ->  a c ... b d
                        _reverse_path(tour, pos, b, c)
                    else:  # d c ... b a  ->  d b ... c a
                        _reverse_path(tour, pos, c, b)
                    for v in (a, b, c, d):
                        if not queued[v]:
                            queue[(head + size) % n], queued[v], size = v, True, size + 1
                    moved = improved = True
                    break
            if moved:
                break
    return improved


@njit(cache=True)
def _move_segment(tour, pos, s1, seg_len, u, keep_orientation):
    """Move the segment of `seg_len` nodes starting at s1 to between u and its successor w."""
    n, i = tour.shape[0], pos[s1]
    span = (pos[u] - i) % n + 1  # the segment, then the path from its successor to u
    _reverse(tour, pos, i, span)  # p u ... nx s2 .. s1 w
    path = span - seg_len
    _reverse(tour, pos, i, path)  # p nx ... u s2 .. s1 w
    if keep_orientation:
        _reverse(tour, pos, (i + path) % n, seg_len)  # p nx ... u s1 .. s2 w


@njit(cache=True)
def _or_opt_pass(coords, tour, pos, neighbours):
    """One pass over every segment start; applies each improving segment move; returns whether any."""
    n, improved = tour.shape[0], False
    for seg_len in range(1, 4):
        if n < seg_len + 3:
            break
        for k in range(n):
            s1 = tour[k]
            s2 = tour[(pos[s1] + seg_len - 1) % n]
            p, nx = tour[(pos[s1] - 1) % n], tour[(pos[s2] + 1) % n]
            removal = _dist(coords, p, s1) + _dist(coords, s2, nx) - _dist(coords, p, nx)
            if removal <= EPS:
                continue
            best, best_u, best_keep = EPS, -1, True
            for end in (s1, s2):
                for c in neighbours[end]:
                    if (pos[c] - pos[s1]) % n < seg_len:
                        continue  # inside the segment
                    for u in (tour[(pos[c] - 1) % n], c):  # the edges (pred c, c) and (c, succ c)
                        w = tour[(pos[u] + 1) % n]
                        if u == s2 or w == s1 or (pos[u] - pos[s1]) % n < seg_len:
                            continue
                        d_uw = _dist(coords, u, w)
                        keep = removal - (_dist(coords, u, s1) + _dist(coords, s2, w) - d_uw)
                        flip = removal - (_dist(coords, u, s2) + _dist(coords, s1, w) - d_uw)
                        if max(keep, flip) > best:
                            best, best_u, best_keep = max(keep, flip), u, keep >= flip
            if best_u >= 0:
                _move_segment(tour, pos, s1, seg_len, best_u, best_keep)
                improved = True
    return improved


@njit(cache=True)
def _improve(coords, tour, neighbours):
    pos = np.empty_like(tour)
    pos[tour] = np.arange(tour.shape[0])
    while True:  # 2-opt to its optimum, then Or-opt passes; stop once Or-opt finds nothing
        _two_opt(coords, tour, pos, neighbours)
        if not _or_opt_pass(coords, tour, pos, neighbours):
            return tour
        while _or_opt_pass(coords, tour, pos, neighbours):
            pass


def improve(coords: np.ndarray, tour: np.ndarray, neighbours: np.ndarray | None = None) -> np.ndarray:
    """2-opt + Or-opt local optimum reached from `tour` (a new array; lengths in `coords`' units)."""
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    if len(coords) < 5:
        return np.array(tour, dtype=np.int64)
    lists = neighbour_lists(coords) if neighbours is None else neighbours
    return _improve(coords, np.array(tour, dtype=np.int64), lists)
