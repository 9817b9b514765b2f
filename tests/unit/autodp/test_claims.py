"""The autodp claims pass on per-seed numbers that meet the thresholds and fail, one by one,
on numbers that miss them (each claim can fail on a run's own data)."""

import pytest

from raylab.methods.autodp.claims import all_claims

GOOD = {
    "final/win_rate": 0.9, "final/sign_p": 0.001, "final/acc_gain": 0.1, "final/plain_win_rate": 0.88,
    "search/near_oracle": 1.0, "search/beats_random": 0.9, "cache/round2_executed": 0.5,
    "cost/ratio": 0.05, "dps/spearman": 0.85, "dps/mean_len_err": 0.01, "dps/median_len_err": 0.02,
    "pts/call_reduction": 4.0, "pts/accuracy_loss": -0.02, "cache/rerun_op_runs": 0.0,
    "cache/identical_output": 1.0, "dps/bad_ratio_err": 0.8, "pts/recall": 0.9, "pts/precision": 0.75,
    "dps/len_ks": 0.05, "dps/top1_rank_full": 2.0, "dps/type_ratio_err": 1.5,
}  # fmt: skip

BAD = {  # claim id -> a per-seed number that misses its threshold
    "beats_raw": ("final/sign_p", 0.2),
    "near_oracle": ("search/near_oracle", 0.85),
    "beats_random": ("search/beats_random", 0.3),  # mean share 0.66
    "cache_round2": ("cache/round2_executed", 0.75),
    "accelerated_cost": ("cost/ratio", 0.5),
    "accelerated_quality": ("final/plain_win_rate", 0.97),
    "dps_rank": ("dps/spearman", 0.6),
    "dps_length": ("dps/median_len_err", 0.08),
    "pts_calls": ("pts/call_reduction", 1.5),
    "pts_accuracy": ("pts/accuracy_loss", 0.03),
    "dps_bad_ratio": ("dps/bad_ratio_err", 2.5),
    "pts_recall": ("pts/recall", 0.7),
    "pts_precision": ("pts/precision", 0.5),
    "dps_length_ks": ("dps/len_ks", 0.12),
    "dps_top1": ("dps/top1_rank_full", 19.0),  # the rank seen in one full-size replicate
    "dps_type_ratio": ("dps/type_ratio_err", 2.6),
}


def test_good_numbers_pass_every_claim_and_invariant():
    claims = all_claims([GOOD] * 5, leaks=[], noisy=True)
    assert all(c.passed for c in claims)
    assert {c.id for c in claims if c.kind == "invariant"} == {"cache_rerun", "cache_identical"}


@pytest.mark.parametrize("claim_id", sorted(BAD))
def test_each_claim_fails_when_its_number_misses(claim_id):
    key, value = BAD[claim_id]
    seeds = [GOOD] * 3 + [{**GOOD, key: value}] * 2  # 3 of 5 seeds: below the 4-of-5 share too
    failed = {c.id for c in all_claims(seeds, leaks=[], noisy=True) if not c.passed}
    assert failed == {claim_id}


def test_a_leak_fails_privacy_and_user_data_skips_the_label_claims():
    claims = {c.id: c for c in all_claims([GOOD], leaks=["What is the capital of Peru?"], noisy=False)}
    assert not claims["privacy"].passed
    assert not {"dps_bad_ratio", "pts_recall", "pts_precision"} & set(claims)


def test_undefined_win_rates_fail_the_claims_built_on_them():
    undefined = GOOD | {"final/win_rate": float("nan"), "final/plain_win_rate": float("nan")}
    verdict = {c.id: c.passed for c in all_claims([undefined] * 5, leaks=[], noisy=True)}
    assert verdict["accelerated_quality"] is False and verdict["beats_raw"] is False


def test_a_warm_cache_leaves_the_cache_and_cost_claims_unjudged():
    cold = {c.id: c for c in all_claims([GOOD] * 5, leaks=[], noisy=True)}
    warm = {c.id: c for c in all_claims([GOOD] * 5, leaks=[], noisy=True, warm_cache=True)}
    assert cold["cache_round2"].passed and cold["accelerated_cost"].passed
    for claim_id in ("cache_round2", "accelerated_cost"):
        assert not warm[claim_id].passed and "earlier run" in (warm[claim_id].not_judged or "")
    assert all(warm[i].not_judged is None for i in warm if i not in ("cache_round2", "accelerated_cost"))
