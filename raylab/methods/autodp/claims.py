"""The autodp claims (thresholds as in the README's Measured table), judged on this run's
replicates. "In >= 4 of 5 seeds" is the share of replicates that meet the per-seed test, >= 0.8."""

from __future__ import annotations

import numpy as np

from raylab.records import Claim

SEED_SHARE = 0.8  # 4 of 5 seeds


def _share(per_seed: list[dict], test) -> float:
    return float(np.mean([bool(test(m)) for m in per_seed]))


COLD_CACHE_CLAIMS = ("cache_round2", "accelerated_cost")  # counted work a warm store would save


def all_claims(per_seed: list[dict], leaks: list[str], noisy: bool, warm_cache: bool = False) -> list[Claim]:
    """Every claim on the replicates' numbers; with a `--cache` store that already held results when
    the run began, the cache and cost claims are recorded as not judged (they need a cold start)."""
    claims = [
        Claim.check(
            "beats_raw",
            "the best strategy's model beats the raw-data model: win rate >= 70 %, sign test p < 0.01 and "
            ">= +5 points accuracy, in >= 4 of 5 seeds (share of replicates)",
            _share(
                per_seed,
                lambda m: (
                    m["final/win_rate"] >= 0.7 and m["final/sign_p"] < 0.01 and m["final/acc_gain"] >= 0.05
                ),
            ),
            ">=",
            SEED_SHARE,
        ),
        Claim.check(
            "near_oracle",
            "within 16 evaluations the search reaches >= 0.9 of the exhaustive best gain, in >= 4 of 5 seeds",
            _share(per_seed, lambda m: m["search/near_oracle"] >= 0.9),
            ">=",
            SEED_SHARE,
        ),
        Claim.check(
            "beats_random",
            "the agent's best >= equal-budget random search's best, share of (seed, draw) pairs",
            float(np.mean([m["search/beats_random"] for m in per_seed])),
            ">=",
            0.7,
        ),
        Claim.worst_case(
            "cache_round2",
            "round 2 executes <= 50 % of its uncached operator runs (worst replicate)",
            [m["cache/round2_executed"] for m in per_seed],
            "<=",
            0.5,
        ),
        Claim.worst_case(
            "accelerated_cost",
            "DPS + PTS + cache cut the counted search cost to <= 1/3 (worst replicate)",
            [m["cost/ratio"] for m in per_seed],
            "<=",
            1 / 3,
        ),
        Claim.worst_case(
            "accelerated_quality",
            "the accelerated search's final win rate is within 5 points of the plain search's (worst)",
            [m["final/plain_win_rate"] - m["final/win_rate"] for m in per_seed],
            "<=",
            0.05,
        ),
        Claim.worst_case(
            "dps_rank",
            "strategy accuracies on the DPS sample rank like on the full set: Spearman >= 0.8 (worst)",
            [m["dps/spearman"] for m in per_seed],
            ">=",
            0.8,
        ),
        Claim.worst_case(
            "dps_length",
            "the sample's mean and median length are within 5 % of the full set's (worst)",
            [max(m["dps/mean_len_err"], m["dps/median_len_err"]) for m in per_seed],
            "<=",
            0.05,
        ),
        Claim.worst_case(
            "dps_length_ks",
            "the sample's length distribution matches the full set's: KS statistic <= 0.10 (worst)",
            [m["dps/len_ks"] for m in per_seed],
            "<=",
            0.10,
        ),
        Claim.worst_case(
            "dps_top1",
            "the sample's top-1 strategy is within the full set's top 5 (its full-set rank, worst)",
            [m["dps/top1_rank_full"] for m in per_seed],
            "<=",
            5,
        ),
        Claim.worst_case(
            "pts_calls",
            "target selection cuts the LLM operator's calls >= 2x (worst replicate)",
            [m["pts/call_reduction"] for m in per_seed],
            ">=",
            2.0,
        ),
        Claim.worst_case(
            "pts_accuracy",
            "... at an accuracy loss of at most 1 point (worst replicate)",
            [m["pts/accuracy_loss"] for m in per_seed],
            "<=",
            0.01,
        ),
        Claim.check(
            "privacy", "no sample string or 8-gram of one appears in any prompt", len(leaks), "<=", 0
        ),
        Claim.invariant(
            "cache_rerun",
            "re-evaluating a round with the cache executes no operator and makes no LLM call",
            max(m["cache/rerun_op_runs"] for m in per_seed),
            "<=",
            0,
        ),
        Claim.invariant(
            "cache_identical",
            "the best strategy's output is byte-identical with and without the cache",
            min(m["cache/identical_output"] for m in per_seed),
            ">=",
            1,
        ),
    ]
    if noisy:  # the injected labels exist: the sample's bad share and the classifier can be judged
        claims += [
            Claim.worst_case(
                "dps_bad_ratio",
                "the sample's injected-bad share is within 2 points of the full set's (worst)",
                [m["dps/bad_ratio_err"] for m in per_seed],
                "<=",
                2.0,
            ),
            Claim.worst_case(
                "dps_type_ratio",
                "each injected noise type's share in the sample is within 2 points of the full set's (worst "
                "type, worst replicate)",
                [m["dps/type_ratio_err"] for m in per_seed],
                "<=",
                2.0,
            ),
            Claim.worst_case(
                "pts_recall",
                "the quality classifier's recall >= 0.8 (held-out rows, worst)",
                [m["pts/recall"] for m in per_seed],
                ">=",
                0.8,
            ),
            Claim.worst_case(
                "pts_precision",
                "... at precision >= 0.6 (worst)",
                [m["pts/precision"] for m in per_seed],
                ">=",
                0.6,
            ),
        ]
    if warm_cache:
        reason = "the --cache store held results from an earlier run: judged on cold runs only"
        claims = [
            Claim.unjudged(c.id, c.statement, reason, c.op, c.threshold) if c.id in COLD_CACHE_CLAIMS else c
            for c in claims
        ]
    return claims
