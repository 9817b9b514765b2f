"""Structured shift families: each family's map from latent to shifts, checked on its
defining property, and the untrained / guided samplers' bookkeeping."""

import numpy as np
import pytest

from raylab.methods.tsp_mdf import guided
from raylab.methods.tsp_mdf.families import Family, Shifter, untrained_latents
from raylab.methods.tsp_mdf.heuristics import insertion_tour, tour_length

RNG = np.random.default_rng(0)
COORDS = RNG.random((200, 2))


def serial(fn, items, shared):
    return [fn(item, shared) for item in items]


def shifter(name, amplitude=0.1, **kw):
    return Shifter(Family(name, amplitude, **kw), COORDS, seed=3, instance=0)


@pytest.mark.parametrize("name", ["gaussian", "affine", "field", "cluster"])
def test_zero_latent_is_no_shift_and_sizes_are_fixed(name):
    s = shifter(name)
    assert s(np.zeros(s.latent_size)).shape == (200, 2) and not s(np.zeros(s.latent_size)).any()
    z = untrained_latents(s, stream=0, sample_ids=range(3))
    assert not z[0].any() and z[1].shape == (s.latent_size,) and not np.array_equal(z[1], z[2])


def test_gaussian_shifts_are_in_units_of_the_nearest_neighbour_distance():
    s = shifter("gaussian", 0.2)
    z = RNG.standard_normal(s.latent_size)
    np.testing.assert_allclose(s(z) / s.unit[:, None], 0.2 * z.reshape(-1, 2), rtol=1e-12)


def test_affine_shift_is_linear_about_the_centroid():
    s = shifter("affine", 0.01)
    z = RNG.standard_normal(4)
    centred = COORDS - COORDS.mean(0)
    np.testing.assert_allclose(s(z), 0.01 * centred @ z.reshape(2, 2).T, atol=1e-15)
    np.testing.assert_allclose(s(2 * z), 2 * s(z), atol=1e-15)


def test_field_has_the_set_amplitude_and_is_smooth():
    """Each component is a sum of `modes` unit-variance sinusoid pairs / sqrt(modes): its variance over
    latents is a^2 d_mean^2 at every node (Monte Carlo, 4000 draws: relative error ~ sqrt(2/4000) =
    0.022, tolerance 4x). Smoothness: E|delta(x) - delta(y)|^2 = 2 var (1 - mean_j cos(k_j.(x - y)))
    <= var (|k| |x - y|)^2, so the RMS difference over the RMS shift is at most 2 pi |x - y| /
    wavelength (10 % Monte-Carlo slack)."""
    s = shifter("field", 0.5, length_scale=0.5)
    draws = np.array([s(RNG.standard_normal(s.latent_size)) for _ in range(4000)])
    variance = draws.var(axis=0).mean() / (0.5 * s.unit.mean()) ** 2
    assert abs(variance - 1) <= 0.09
    i, j = np.argsort(np.linalg.norm(COORDS - COORDS[0], axis=1))[:2]  # node 0 and its nearest
    rms = lambda v: np.sqrt(np.mean(v**2))  # noqa: E731
    wavelength = 0.5 * np.ptp(COORDS, axis=0).max()
    bound = 2 * np.pi * np.linalg.norm(COORDS[i] - COORDS[j]) / wavelength
    assert rms(draws[:, i] - draws[:, j]) / rms(draws[:, i]) <= 1.1 * bound < 1


def test_cluster_moves_each_group_rigidly():
    s = shifter("cluster", 0.3, group_size=20)
    moved = s(RNG.standard_normal(s.latent_size))
    for g in np.unique(s.groups):
        members = moved[s.groups == g]
        assert np.allclose(members, members[0])
    assert 5 <= len(np.unique(s.groups)) <= 10


def test_untrained_sampler_does_not_depend_on_chunking_and_sample_0_is_plain():
    coords = [COORDS, RNG.random((150, 2))]
    fam = Family("field", 0.1)
    a = guided.untrained(serial, coords, fam, 12, "farthest", seed=1, stream=0, chunk=5)
    b = guided.untrained(serial, coords, fam, 12, "farthest", seed=1, stream=0, chunk=12)
    np.testing.assert_array_equal(a, b)
    assert a[1, 0] == tour_length(coords[1], insertion_tour(coords[1], "farthest"))


def test_guided_search_spends_k_constructions_and_starts_from_the_plain_tour():
    coords = [COORDS, RNG.random((150, 2))]
    fam = Family("gaussian", 0.1)
    lengths = guided.cem(serial, coords, fam, 10, 3, "farthest", seed=1, stream=2)
    assert lengths.shape == (2, 10)
    assert lengths[0, 0] == tour_length(COORDS, insertion_tour(COORDS, "farthest"))
    again = guided.cem(serial, coords, fam, 10, 3, "farthest", seed=1, stream=2)
    np.testing.assert_array_equal(lengths, again)


def test_local_search_scores_each_sample_after_2opt_and_or_opt():
    """With local_search every sample's length is that of its tour improved on the
    original instance, so never longer than the built tour, and sample 0 is plain FI + local search."""
    from raylab.methods.tsp_mdf.local_search import improve

    coords = [COORDS]
    fam = Family("cluster", 0.1)
    built = guided.untrained(serial, coords, fam, 6, "farthest", seed=1, stream=0)
    searched = guided.untrained(serial, coords, fam, 6, "farthest", seed=1, stream=0, local_search=True)
    assert np.all(searched <= built + 1e-12) and np.any(searched < built - 1e-9)
    plain_searched = tour_length(COORDS, improve(COORDS, insertion_tour(COORDS, "farthest")))
    assert searched[0, 0] == pytest.approx(plain_searched, rel=1e-12)
    cost = guided.seconds_per_sample(COORDS, fam, "farthest", 3, seed=1)
    assert cost["construct"] > 0 and cost["local_search"] > 0


def test_tours_are_scored_in_the_instances_own_metric_when_the_shared_data_carries_them():
    """TSPLIB instances (EUC_2D rounds each edge) are scored with their metric, not the Euclidean one."""
    from raylab.methods.tsp_mdf.mixture_policy import MixtureBatch, mixture_lengths
    from raylab.methods.tsp_mdf.tsplib import Instance, tsplib_length

    coords = np.round(RNG.random((80, 2)) * 30)  # short integer edges: rounding changes each by <= 0.5
    euc2d = Instance("grid", coords, "EUC_2D")
    item = guided.LatentBatch(0, Family("field", 0.1), (np.zeros(32),), "farthest")
    tour = insertion_tour(coords, "farthest")
    euclidean = guided.batch_lengths(item, {"coords": [coords], "seed": 1})[0]
    assert euclidean == pytest.approx(tour_length(coords, tour), rel=1e-12)
    scored = guided.batch_lengths(item, {"coords": [coords], "seed": 1, "instances": [euc2d]})[0]
    assert scored == tsplib_length(euc2d, tour) != pytest.approx(euclidean, rel=1e-6)
    plain = MixtureBatch(0, (("", 0.0, 0),), "farthest")
    shared = {"coords": [coords], "seed": 1, "length_scale": 0.25, "group_size": 10, "instances": [euc2d]}
    assert mixture_lengths(plain, shared)[0] == scored
