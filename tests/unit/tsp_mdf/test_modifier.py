"""The modifier's maths: scale-free features, the sigma allocation, the Gaussian log-density, and the
REINFORCE advantages (the best-of-m weights against brute force over subsets)."""

import itertools
from math import comb

import numpy as np
import pytest
import torch

from raylab.methods.tsp_mdf.modifier import InstanceModifier, log_prob, node_features, shift_models
from raylab.methods.tsp_mdf.train import advantages, best_of_m_weights


def test_features_are_invariant_to_translation_and_scale():
    coords = np.random.default_rng(0).random((60, 2))
    base, ids, unit = node_features(coords, 8, "farthest")
    moved, moved_ids, moved_unit = node_features(3.7 * coords + np.array([5.0, -2.0]), 8, "farthest")
    np.testing.assert_allclose(moved, base, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(moved_ids, ids)
    np.testing.assert_allclose(moved_unit, 3.7 * unit, rtol=1e-12)
    assert np.all(ids != np.arange(60)[:, None])  # a node is not its own neighbour


def test_tiny_instances_are_padded_to_the_trained_width():
    features, ids, _ = node_features(np.random.default_rng(1).random((5, 2)), 8, "nearest")
    assert features.shape == (5, 3 * 8 + 2) and ids.shape == (5, 8)


def test_untrained_modifier_is_the_uniform_scale_free_ablation_and_sigma_mean_is_fixed():
    coords = [np.random.default_rng(s).random((40, 2)) for s in range(3)]
    net = InstanceModifier(sigma_scale=0.05)
    models, mean, sigma = shift_models(net, coords, "farthest", clip=0.5)
    assert torch.all(mean == 0) and torch.allclose(sigma, torch.full_like(sigma, 0.05))
    torch.nn.init.normal_(net.head.weight)  # any weights: the mean sigma_i stays the scale
    _, _, sigma = shift_models(net, coords, "farthest", clip=0.5)
    assert sigma.std() > 0
    torch.testing.assert_close(sigma.mean(dim=1), torch.full((3,), 0.05), rtol=1e-5, atol=0)
    assert models[0].clip == 0.5 and models[0].unit.shape == (40,)


def test_log_prob_is_the_diagonal_gaussian_density_of_the_drawn_shift():
    torch.manual_seed(0)
    mean, sigma = torch.randn(2, 7, 2) * 0.1, torch.rand(2, 7) * 0.1 + 0.01
    noise = torch.randn(2, 3, 7, 2)
    z = mean[:, None] + sigma[:, None, :, None] * noise
    expected = (
        torch.distributions.Normal(mean[:, None], sigma[:, None, :, None]).log_prob(z).sum(dim=(-1, -2))
    )
    torch.testing.assert_close(log_prob(mean, sigma, noise), expected, rtol=1e-5, atol=1e-4)


def brute_force_best_of_m(lengths: np.ndarray, m: int) -> np.ndarray:
    """Average over all m-subsets S containing k of (min S - min S without k): the LOO definition."""
    k = len(lengths)
    out = np.zeros(k)
    for subset in itertools.combinations(range(k), m):
        for member in subset:
            rest = [lengths[j] for j in subset if j != member]
            out[member] += min(lengths[j] for j in subset) - min(rest)
    return out / comb(k - 1, m - 1)


@pytest.mark.parametrize("m", [2, 3, 5, 6])
def test_best_of_m_weights_match_the_subset_definition(m):
    lengths = np.random.default_rng(m).random((4, 6))
    weights = best_of_m_weights(lengths, m)
    for row, expected in zip(weights, map(lambda r: brute_force_best_of_m(r, m), lengths)):
        np.testing.assert_allclose(row, expected, atol=1e-12)
    assert np.all(weights <= 0)  # only ever pushes probability towards shorter tours


def test_best_of_k_leaves_only_the_winner():
    lengths = np.array([[3.0, 1.0, 2.0, 5.0]])
    np.testing.assert_allclose(best_of_m_weights(lengths, 4), [[0.0, -1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="2 <= m <= K"):
        best_of_m_weights(lengths, 5)


def test_mean_baseline_advantages_sum_to_zero_and_are_relative():
    lengths = np.array([[10.0, 12.0, 8.0], [1.0, 1.0, 1.3]])
    adv = advantages(lengths, lengths[:, 0], "mean", 2)
    np.testing.assert_allclose(adv.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(adv[0], [0.0, 0.2, -0.2])
    np.testing.assert_allclose(advantages(lengths, np.array([10.0, 1.0]), "plain", 2)[0], [0.0, 0.2, -0.2])
    with pytest.raises(ValueError, match="unknown objective"):
        advantages(lengths, lengths[:, 0], "max", 2)
