"""The official metric (check B2), soft voting and flips (check B7)."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from raylab.methods.abaw import metrics


@pytest.mark.parametrize("seed", range(5))
def test_macro_f1_matches_sklearn_over_all_eight_classes(seed):
    rng = np.random.default_rng(seed)
    labels = rng.choice([-1, 0, 1, 2, 4, 7], size=400)  # classes 3, 5, 6 absent from the labels
    predictions = rng.choice([0, 1, 2, 3, 4, 7], size=400)  # 5 and 6 absent from both: F1 0 each
    valid = labels >= 0
    reference = f1_score(labels[valid], predictions[valid], average="macro", labels=range(8), zero_division=0)
    assert metrics.macro_f1(labels, predictions) == pytest.approx(reference, abs=1e-9)


def test_a_class_absent_from_truth_and_predictions_scores_zero():
    labels = np.array([0, 0, 1, 1])
    assert metrics.macro_f1(labels, labels) == pytest.approx(2 / 8)


def test_accuracy_ignores_unlabelled_frames():
    assert metrics.accuracy(np.array([0, -1, 2, 2]), np.array([0, 5, 2, 1])) == pytest.approx(2 / 3)


def test_flips_are_counted_within_videos():
    assert metrics.flips_per_100([np.array([0, 0, 1, 1]), np.array([2, 3, 2, 2])]) == pytest.approx(
        100 * 3 / 8
    )


def test_soft_vote_is_a_centred_moving_average_with_edge_replication():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(8), size=20)
    voted = metrics.soft_vote(p, 5)
    np.testing.assert_allclose(voted[7], p[5:10].mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(voted[0], (3 * p[0] + p[1] + p[2]) / 5, atol=1e-12)
    np.testing.assert_allclose(voted.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(metrics.soft_vote(p, 1), p)


def test_soft_voting_removes_an_isolated_flip():
    p = np.tile(np.eye(8)[2] * 0.9 + 0.1 / 8, (15, 1))
    p[7] = np.eye(8)[5] * 0.9 + 0.1 / 8
    raw, voted = p.argmax(1), metrics.soft_vote(p, 9).argmax(1)
    assert metrics.flips_per_100([raw]) > 0 and metrics.flips_per_100([voted]) == 0
