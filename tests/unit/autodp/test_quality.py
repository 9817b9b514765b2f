"""Distribution-preserving sampling, the quality classifier's pieces, win rates, and the noise."""

import collections
import math

import numpy as np
import pytest

from raylab.methods.autodp.data import NOISE_TYPES, fact_pairs
from raylab.methods.autodp.evaluate import win_rate
from raylab.methods.autodp.model import neighbour_agreement
from raylab.methods.autodp.noise import inject
from raylab.methods.autodp.quality import fidelity, precision_recall, stratified_sample


def test_stratified_sample_keeps_every_stratum_share_to_one_row():
    strata = np.repeat([0, 1, 2, 3], [500, 300, 150, 50])
    chosen = stratified_sample(strata, 0.2, seed=0)
    assert len(chosen) == 200 and len(set(chosen)) == 200 and np.all(np.diff(chosen) > 0)
    counts = collections.Counter(strata[chosen])
    assert all(abs(counts[s] - 0.2 * n) < 1 for s, n in zip(range(4), (500, 300, 150, 50)))
    assert not np.array_equal(chosen, stratified_sample(strata, 0.2, seed=1))


def test_fidelity_of_the_full_set_is_perfect(facts):
    noisy = inject(facts, {"wrong": 0.1, "html": 0.1}, seed=0)
    rows = list(noisy.train)
    assert fidelity(rows, rows) == {k: 0.0 for k in fidelity(rows, rows)}
    only_clean = [s for s in rows if not s.bad]
    bad_share = 100 * sum(bool(s.bad) for s in rows) / len(rows)
    assert fidelity(only_clean, rows)["bad_ratio_err"] == pytest.approx(bad_share)


def test_neighbour_agreement_flags_the_answer_that_disagrees():
    """8 capitals x 3 templates (so IDF discounts the template words), one answer wrong."""
    capitals = dict(
        Peru="Lima", Chile="Santiago", Kenya="Nairobi", Japan="Tokyo", Egypt="Cairo", Italy="Rome"
    )
    capitals |= dict(Cuba="Havana", Nepal="Kathmandu")
    templates = ("What is the capital of {}?", "Tell me the capital of {}.", "{} - its capital is what?")
    inputs = [t.format(c) for c in capitals for t in templates]
    outputs = [a for a in capitals.values() for _ in templates]
    outputs[2] = "Oslo"
    agreement = neighbour_agreement(inputs, outputs, neighbours=2)
    assert agreement[2] == pytest.approx(0.0, abs=1e-9)
    assert np.mean(np.delete(agreement, 2)) > 0.5 and agreement.max() <= 1


def test_precision_recall_by_hand():
    flags = np.array([1, 1, 0, 0, 1], bool)
    labels = np.array([1, 0, 1, 0, 1], bool)
    assert precision_recall(flags, labels) == (2 / 3, 2 / 3)


def test_win_rate_and_sign_test_by_hand():
    a = np.array([1] * 9 + [0] * 1 + [1] * 5)
    b = np.array([0] * 9 + [1] * 1 + [1] * 5)
    result = win_rate(a, b)
    assert result["win_rate"] == 0.9 and result["ties"] == pytest.approx(5 / 15)
    assert result["sign_p"] == pytest.approx(
        22 / 1024
    )  # two-sided: 2 * P(X >= 9 | n=10, 1/2) = 2 * 11 / 1024


def test_fact_pairs_read_the_gensim_file():
    facts = fact_pairs()
    assert len(facts) > 500 and len({(r, x) for r, x, _ in facts}) == len(facts)
    assert ("capital", "Greece", "Athens") in facts and ("plural", "banana", "bananas") in facts


def test_noise_hits_its_share_of_rows_and_is_labelled(facts):
    rates = dict(zip(NOISE_TYPES, (0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.05)))
    noisy = inject(facts, rates, seed=3)
    counts = collections.Counter(s.bad for s in noisy.train)
    n = len(facts.train)
    assert all(counts[k] == round(rate * n) for k, rate in rates.items())
    assert len(noisy.train) == n + counts["duplicate"] + counts["near_duplicate"]
    by_id = {s.id: s for s in facts.train}
    assert all(s.output != by_id[s.id].output for s in noisy.train if s.bad == "wrong")
    assert all(s == by_id[s.id] for s in noisy.train if not s.bad)
    with pytest.raises(ValueError, match="unknown noise types"):
        inject(facts, {"typos": 0.1}, seed=0)


def test_a_win_rate_with_no_decisive_item_is_undefined():
    same = np.array([1, 0, 1, 1])
    result = win_rate(same, same)
    assert math.isnan(result["win_rate"]) and result["ties"] == 1.0 and result["sign_p"] == 1.0
