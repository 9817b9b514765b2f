"""Insertion heuristics: Kool's rules, validity, and the published plain-heuristic means (issue #3)."""

from pathlib import Path

import numpy as np
import pytest

from raylab.methods.tsp_mdf.heuristics import insertion_tour, tour_length, two_opt

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "tsp"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data/tsp (the Fu et al. sets)")


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


@needs_data
@pytest.mark.parametrize(
    "size, published",
    [
        (500, {"farthest": 18.30, "random": 18.57, "nearest": 20.62}),
        (1000, {"farthest": 25.72, "random": 26.12, "nearest": 28.96}),
    ],
)
def test_plain_heuristics_match_the_published_means(size, published):
    # Published means (Kool et al. / DIMES tables) are given to 2 decimals; the issue asks for +-0.3 %.
    instances = np.load(DATA / f"test-{size}-coords.npy")
    for method, value in published.items():
        mean = np.mean([tour_length(x, insertion_tour(x, method)) for x in instances])
        assert mean == pytest.approx(value, rel=3e-3), method
