"""OR-Tools baseline: a permutation, scored in exact float length, and optimal on tiny instances where
the integer scaling cannot change which tour is shortest."""

import itertools

import numpy as np
import pytest

pytest.importorskip("ortools")

from raylab.methods.tsp_mdf.heuristics import tour_length  # noqa: E402
from raylab.methods.tsp_mdf.ortools_baseline import ORTOOLS_SCALE, ortools_tour, scaled_distances  # noqa: E402


def edge_lengths(coords, tour) -> np.ndarray:
    return np.linalg.norm(coords[tour] - coords[np.roll(tour, -1)], axis=1)


def brute_force_lengths(coords) -> np.ndarray:
    """Length of every tour starting at node 0 (each cycle twice, once per direction)."""
    rest = range(1, len(coords))
    return np.array([tour_length(coords, np.array((0, *p))) for p in itertools.permutations(rest)])


def test_tour_is_a_permutation_scored_in_float_length():
    coords = np.random.default_rng(0).random((20, 2))
    tour = ortools_tour(coords, 0.2)
    assert sorted(tour.tolist()) == list(range(20))
    length = tour_length(coords, tour)
    assert length == pytest.approx(edge_lengths(coords, tour).sum(), rel=1e-12)
    scaled = scaled_distances(coords)[tour, np.roll(tour, -1)].sum() / ORTOOLS_SCALE
    assert abs(scaled - length) <= 20 * 0.5 / ORTOOLS_SCALE  # each rounded edge is off by <= 0.5 / scale


@pytest.mark.parametrize("seed", range(3))
def test_tiny_instance_reaches_the_brute_force_optimum(seed):
    n = 8
    coords = np.random.default_rng(seed).random((n, 2))
    lengths = brute_force_lengths(coords)
    best = lengths.min()
    # The scaled objective is within n / (2 scale) of every tour's length, so the solver's optimum is
    # within n / scale of `best`; if only the optimal cycle (both directions) lies that close, the
    # solver's tour is that cycle and the lengths agree up to summation order.
    assert np.sum(lengths < best + n / ORTOOLS_SCALE) == 2
    assert abs(tour_length(coords, ortools_tour(coords, 0.3)) - best) <= 1e-9
