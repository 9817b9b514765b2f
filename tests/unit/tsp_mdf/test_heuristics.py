"""Insertion heuristics: Kool's rules, validity, and the published plain-heuristic means."""

from pathlib import Path

import numpy as np
import pytest
from numba import njit

from raylab.methods.tsp_mdf.heuristics import insertion_order, insertion_tour, tour_length, two_opt
from raylab.methods.tsp_mdf.tsplib import read_tsp

DATA = Path(__file__).resolve().parents[3] / "data" / "tsp"


@pytest.mark.parametrize("method", ["random", "nearest", "farthest"])
def test_tours_are_permutations_and_lengths_are_exact(method):
    coords = np.random.default_rng(0).random((60, 2))
    tour = insertion_tour(coords, method)
    assert sorted(tour.tolist()) == list(range(60))
    closed = coords[np.append(tour, tour[0])]
    assert tour_length(coords, tour) == pytest.approx(
        np.linalg.norm(np.diff(closed, axis=0), axis=1).sum(), abs=1e-9
    )


def test_kool_rules_on_a_small_instance():
    # Unit square corners 0..3 and its centre 4. Farthest insertion: start at argmax_i max_j d(i, j)
    # = node 0 (ties -> lowest index); add node 2 (farthest from the tour), then node 1 (tied with 3,
    # lowest index) at its first cheapest position, then node 3 on edge (2, 0), then the centre on
    # the first of four equally cheap edges: [0, 4, 1, 2, 3], length 3 + sqrt(2).
    coords = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], dtype=float)
    tour = insertion_tour(coords, "farthest")
    assert tour.tolist() == [0, 4, 1, 2, 3]
    assert tour_length(coords, tour) == pytest.approx(3 + np.sqrt(2))
    assert insertion_tour(coords, "random").tolist()[0] == 0  # index order
    assert insertion_tour(coords, "nearest").tolist()[:1] == [0]  # node 0 first


@njit(cache=True)
def kool_reference(coords, method):
    """Kool's run_insertion written out plainly (the loop the heuristic was first built as): every
    distance recomputed, distances to the tour kept as distances, the start by an O(n^2) search."""
    n = coords.shape[0]
    dist = lambda i, j: np.sqrt((coords[i, 0] - coords[j, 0]) ** 2 + (coords[i, 1] - coords[j, 1]) ** 2)  # noqa: E731
    tour, order, size = np.empty(n, np.int64), np.empty(n, np.int64), 0
    in_tour, to_tour = np.zeros(n, np.bool_), np.full(n, np.inf)
    for step in range(n):
        node, best = -1, -1.0
        if step == 0 and method == 2:
            for i in range(n):
                far = max([dist(i, j) for j in range(n)])
                if far > best:
                    node, best = i, far
        elif step == 0 or method == 0:
            node = step
        else:
            for i in range(n):
                if not in_tour[i] and (
                    node < 0 or (method == 1 and to_tour[i] < best) or (method == 2 and to_tour[i] > best)
                ):
                    node, best = i, to_tour[i]
        order[step], position, cheapest = node, size, np.inf
        if size >= 2:
            for k in range(size):
                prv, nxt = tour[k], tour[(k + 1) % size]
                cost = dist(prv, node) + dist(node, nxt) - dist(prv, nxt)
                if cost < cheapest:
                    position, cheapest = k + 1, cost
        tour[position + 1 : size + 1] = tour[position:size].copy()
        tour[position], size, in_tour[node] = node, size + 1, True
        for i in range(n):
            to_tour[i] = min(to_tour[i], dist(i, node))
    return tour, order


def reference_cases():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 7, 30, 200):
        yield rng.random((n, 2))
        yield rng.integers(0, 4, (n, 2)).astype(float)  # ties and duplicate points
    yield unit_square_clusters(rng)
    if (DATA / "tsplib" / "d1655.tsp").exists():  # decimal coordinates: two squared distances to the
        yield read_tsp(DATA / "tsplib" / "d1655.tsp").coords  # tour 1 ulp apart share their root


def unit_square_clusters(rng):
    centres = rng.random((4, 2))
    return (centres[rng.integers(0, 4, 300)] + 0.02 * rng.standard_normal((300, 2))).clip(0, 1)


@pytest.mark.parametrize("method", ["random", "nearest", "farthest"])
def test_the_fast_build_equals_kools_loop_step_by_step(method):
    """The tour-order layout, reused edge lengths, squared distances to the tour and the pruned start
    search change no decision: the same insertion order and the same tour as the plain loop."""
    for coords in reference_cases():
        coords = np.ascontiguousarray(coords, dtype=np.float64)
        tour, order = kool_reference(coords, {"random": 0, "nearest": 1, "farthest": 2}[method])
        assert np.array_equal(insertion_order(coords, method), order), len(coords)
        assert np.array_equal(insertion_tour(coords, method), tour), len(coords)


@pytest.mark.parametrize("method", ["random", "nearest", "farthest"])
def test_two_opt_reaches_a_local_optimum_no_worse_than_its_start(method):
    coords = np.random.default_rng(1).random((80, 2))
    start = insertion_tour(coords, method)
    tour = two_opt(coords, start)
    assert sorted(tour.tolist()) == list(range(80))
    assert tour_length(coords, tour) <= tour_length(coords, start) + 1e-12
    n = len(tour)
    for i in range(n - 1):  # no improving 2-opt move left
        for j in range(i + 2, n if i else n - 1):
            a, b, c, d = coords[tour[i]], coords[tour[i + 1]], coords[tour[j]], coords[tour[(j + 1) % n]]
            gain = (
                np.linalg.norm(a - b) + np.linalg.norm(c - d) - np.linalg.norm(a - c) - np.linalg.norm(b - d)
            )
            assert gain <= 1e-9


@pytest.mark.parametrize(
    "size, published",
    [
        (500, {"farthest": 18.30, "random": 18.57, "nearest": 20.62}),
        (1000, {"farthest": 25.72, "random": 26.12, "nearest": 28.96}),
    ],
)
def test_plain_heuristics_match_the_published_means(size, published):
    # Published means (Kool et al. / DIMES tables) are given to 2 decimals; we allow +-0.3 %
    # (README, Measured).
    instances = np.load(DATA / f"test-{size}-coords.npy")
    for method, value in published.items():
        mean = np.mean([tour_length(x, insertion_tour(x, method)) for x in instances])
        assert mean == pytest.approx(value, rel=3e-3), method
