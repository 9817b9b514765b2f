"""The autodp claims (thresholds as in the README's Measured table) as tables, judged on this run's
replicates. "In >= 4 of 5 seeds" is the share of replicates that meet the per-seed test, >= 0.8.

A row whose key is a per-seed metric is judged on its worst replicate; the other keys are values
`all_claims` computes from the replicates.
"""

from __future__ import annotations

import numpy as np

from raylab.methods.autodp.experiments import (
    ACCELERATED_QUALITY,
    BEATS_RANDOM,
    BEATS_RAW,
    DPS_BAD_RATIO,
    DPS_RANK,
    DPS_TOP1,
    DPS_TYPE_RATIO,
)
from raylab.records import INVARIANT, Claim, ClaimRow, claim_table, judge_table

C = ClaimRow

# fmt: off
SEARCH = claim_table(
    C(BEATS_RAW, "share of seeds beating raw", ">=", 0.8,
      "the best strategy's model beats the raw-data model: win rate >= 70 %, sign test p < 0.01 and "
      ">= +5 points accuracy, in >= 4 of 5 seeds (share of replicates)"),
    C("near_oracle", "share of seeds near the oracle", ">=", 0.8,
      "within 16 evaluations the search reaches >= 0.9 of the exhaustive best gain, in >= 4 of 5 seeds"),
    C(BEATS_RANDOM, "mean share beating random", ">=", 0.7,
      "the agent's best >= equal-budget random search's best, share of (seed, draw) pairs"),
)

# counted work a warm --cache store would save: judged on cold starts only
COLD_START = claim_table(
    C("cache_round2", "cache/round2_executed", "<=", 0.5,
      "round 2 executes <= 50 % of its uncached operator runs (worst replicate)"),
    C("accelerated_cost", "cost/ratio", "<=", 1 / 3,
      "DPS + PTS + cache cut the counted search cost to <= 1/3 (worst replicate)"),
)

ACCELERATION = claim_table(
    C(ACCELERATED_QUALITY, "plain minus accelerated win rate", "<=", 0.05,
      "the accelerated search's final win rate is within 5 points of the plain search's (worst)"),
    C(DPS_RANK, "dps/spearman", ">=", 0.8,
      "strategy accuracies on the DPS sample rank like on the full set: Spearman >= 0.8 (worst)"),
    C("dps_length", "larger length error", "<=", 0.05,
      "the sample's mean and median length are within 5 % of the full set's (worst)"),
    C("dps_length_ks", "dps/len_ks", "<=", 0.10,
      "the sample's length distribution matches the full set's: KS statistic <= 0.10 (worst)"),
    C(DPS_TOP1, "dps/top1_rank_full", "<=", 5,
      "the sample's top-1 strategy is within the full set's top 5 (its full-set rank, worst)"),
    C("pts_calls", "pts/call_reduction", ">=", 2.0,
      "target selection cuts the LLM operator's calls >= 2x (worst replicate)"),
    C("pts_accuracy", "pts/accuracy_loss", "<=", 0.01,
      "... at an accuracy loss of at most 1 point (worst replicate)"),
    C("privacy", "leaks", "<=", 0,
      "no sample string or 8-gram of one appears in any prompt"),
    C("cache_rerun", "most rerun executions", "<=", 0,
      "re-evaluating a round with the cache executes no operator and makes no LLM call", kind=INVARIANT),
    C("cache_identical", "fewest identical outputs", ">=", 1,
      "the best strategy's output is byte-identical with and without the cache", kind=INVARIANT),
)

# judged only where the injected noise labels exist (not on user data)
LABELLED = claim_table(
    C(DPS_BAD_RATIO, "dps/bad_ratio_err", "<=", 2.0,
      "the sample's injected-bad share is within 2 points of the full set's (worst)"),
    C(DPS_TYPE_RATIO, "dps/type_ratio_err", "<=", 2.0,
      "each injected noise type's share in the sample is within 2 points of the full set's (worst "
      "type, worst replicate)"),
    C("pts_recall", "pts/recall", ">=", 0.8,
      "the quality classifier's recall >= 0.8 (held-out rows, worst)"),
    C("pts_precision", "pts/precision", ">=", 0.6,
      "... at precision >= 0.6 (worst)"),
)
# fmt: on

EVERY_RUN = claim_table(*SEARCH, *COLD_START, *ACCELERATION)
WITH_LABELS = claim_table(*EVERY_RUN, *LABELLED)
WARM_CACHE = "the --cache store held results from an earlier run: judged on cold runs only"


def _share(per_seed: list[dict], test) -> float:
    return float(np.mean([bool(test(m)) for m in per_seed]))


def all_claims(per_seed: list[dict], leaks: list[str], noisy: bool, warm_cache: bool = False) -> list[Claim]:
    """Every claim on the replicates' numbers (the label claims when `noisy`); with a `--cache` store
    that already held results when the run began, the cold-start claims are recorded as not judged."""
    rows = WITH_LABELS if noisy else EVERY_RUN
    computed = {
        "share of seeds beating raw": _share(
            per_seed,
            lambda m: m["final/win_rate"] >= 0.7 and m["final/sign_p"] < 0.01 and m["final/acc_gain"] >= 0.05,
        ),
        "share of seeds near the oracle": _share(per_seed, lambda m: m["search/near_oracle"] >= 0.9),
        "mean share beating random": float(np.mean([m["search/beats_random"] for m in per_seed])),
        "plain minus accelerated win rate": [
            m["final/plain_win_rate"] - m["final/win_rate"] for m in per_seed
        ],
        "larger length error": [max(m["dps/mean_len_err"], m["dps/median_len_err"]) for m in per_seed],
        "leaks": len(leaks),
        "most rerun executions": max(m["cache/rerun_op_runs"] for m in per_seed),
        "fewest identical outputs": min(m["cache/identical_output"] for m in per_seed),
    }
    per_seed_metrics = {row.key: [m[row.key] for m in per_seed] for row in rows if row.key not in computed}
    claims = judge_table(rows, computed | per_seed_metrics)
    if warm_cache:
        return [row.unjudged(WARM_CACHE) if row in COLD_START else c for row, c in zip(rows, claims)]
    return claims
