"""The mixture policy: scale-free features, the untrained policy's form, its
log-probability, the fan-out builder, and that REINFORCE moves the mixture towards the family that
builds shorter tours."""

import numpy as np
import pytest
import torch

from raylab.methods.tsp_mdf.config import PolicyTrainConfig
from raylab.methods.tsp_mdf.heuristics import insertion_tour, tour_length
from raylab.methods.tsp_mdf.mixture_policy import (
    MixtureBatch,
    MixturePolicy,
    Sampler,
    instance_features,
    log_prob,
    mixture_lengths,
    train_policy,
)

FAMILIES = ("gaussian", "affine", "field", "cluster")
SHARED = {"seed": 3, "length_scale": 0.25, "group_size": 10}


def test_features_do_not_depend_on_position_or_scale():
    coords = np.random.default_rng(0).random((50, 2))
    moved = 7.0 * coords + np.array([3.0, -2.0])
    np.testing.assert_allclose(instance_features(moved), instance_features(coords), atol=1e-5)
    assert instance_features(coords).shape == (50, 4)


def test_the_untrained_policy_is_the_uniform_mixture_at_the_reference_amplitudes():
    policy = MixturePolicy(len(FAMILIES))
    features = torch.from_numpy(
        np.stack([instance_features(np.random.default_rng(i).random((30, 2))) for i in range(3)])
    )
    logits, means = policy(features)
    assert torch.equal(logits, torch.zeros(3, 4)) and torch.equal(means, torch.zeros(3, 4))
    family, scale = torch.tensor([[0, 2]] * 3), torch.tensor([[0.3, -0.1]] * 3)
    expected = np.log(1 / 4) - 0.5 * np.log(2 * np.pi * 0.5**2) - scale.numpy() ** 2 / (2 * 0.5**2)
    np.testing.assert_allclose(
        log_prob(logits, means, family, scale, 0.5).detach().numpy(), expected, rtol=1e-6
    )


def test_the_builder_scores_unshifted_and_shifted_samples_on_the_original_instance():
    coords = np.random.default_rng(1).random((60, 2))
    item = MixtureBatch(
        0, (("", 0.0, 0), ("affine", 0.0, 5), ("field", 0.3, 7), ("field", 0.3, 7)), "farthest"
    )
    lengths = mixture_lengths(item, {**SHARED, "coords": [coords]})
    plain = tour_length(coords, insertion_tour(coords, "farthest"))
    assert lengths[0] == lengths[1] == pytest.approx(plain, rel=1e-12)  # amplitude 0 is the plain tour
    assert lengths[2] == lengths[3]  # the latent is fixed by its seed
    assert np.all(lengths >= 0.0)


def fake_map(fn, items, shared):
    """Affine draws build tours 10 % shorter than the other families' (the unshifted tour is longest)."""
    return [
        np.array([1.2] + [1.0 if name == "affine" else 1.1 for name, _, _ in item.samples[1:]])
        for item in items
    ]


def test_reinforce_moves_the_mixture_towards_the_family_with_shorter_tours():
    torch.manual_seed(0)
    policy = MixturePolicy(len(FAMILIES), hidden=8)
    sampler = Sampler(FAMILIES, np.ones(4), "farthest", 0.5, fake_map, SHARED)
    cfg = PolicyTrainConfig(nodes=20, batch=4, samples=8, iterations=40, lr=0.02, hidden=8)
    history = train_policy(policy, sampler, cfg, seed=0, report=lambda row, step: None)
    assert history[0]["train/weight/affine"] == pytest.approx(0.25, abs=1e-6)
    assert history[-1]["train/weight/affine"] > 0.5  # from a quarter to most of the mass
