"""The claims (our acceptance checks 1 and 7-14, and the families and policy studies') as tables,
judged on one run's numbers.

Gaps are in %, against per-instance references when the data has them, else the gap of means
against the literature value. `m[...]` keys are those `experiment.run` reports. The `{fields}` of a
table's ids and statements (K, the instance count, a heuristic, a shift family) are the run's own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from raylab.methods.tsp_mdf import keys
from raylab.records import INVARIANT, Claim, ClaimRow, claim_table, judge_table

if TYPE_CHECKING:
    from raylab.methods.tsp_mdf.config import PolicyConfig

PUBLISHED = {  # plain-heuristic means (DIMES Table 1), by instance size
    500: {"farthest": 18.30, "random": 18.57, "nearest": 20.62},
    1000: {"farthest": 25.72, "random": 26.12, "nearest": 28.96},
    10000: {"farthest": 80.59, "random": 81.85},
}
SHORT = {"farthest": "FI", "random": "RI", "nearest": "NI"}

C = ClaimRow

# fmt: off
NEVER_WORSE = claim_table(  # sample 0 is the unshifted instance, so best-of-K includes the plain tour
    C("mdf.never_worse", "max_excess_over_plain", "<=", 0.0,
      "best-of-K (sample 0 = the unshifted instance) is never longer than "
      "plain H (largest per-instance excess, first heuristic)", kind=INVARIANT),
)
ABLATION = claim_table(
    C("ablation.range", "ablation_gap", "<=", 9.1,
      "random shifts (FI, sigma=0.001, K={samples}) give a gap in [8.3, 9.1] %"),
    C("ablation.range_low", "ablation_gap", ">=", 8.3,
      "... and not below 8.3 % (our calibrated range)"),
    C("ablation.large_sigma", "large_sigma_excess", ">", 0.0,
      "random shifts with sigma = 0.01 are worse than plain FI (gap difference)"),
)
TRAINED = claim_table(  # the trained modifier with FI
    C("mdf.gap", "mdf_gap", "<=", 8.2,
      "trained modifier, FI+MDF at K={samples}: gap <= 8.2 %"),
    C("mdf.vs_ablation", "mdf_gain", ">=", 0.3,
      "FI+MDF beats the random-shift ablation (best sigma, same K) by >= 0.3 points"),
    C("mdf.wins", "mdf_win_share", ">=", 11 / 16,
      "FI+MDF is shorter than the ablation on >= 11/16 instances (fraction of {instances})"),
)
HELPS = claim_table(  # per heuristic other than FI
    C("mdf.{short}", "mdf_gain", ">", 0.0,
      "modifier trained with FI also helps {short}: ablation gap - MDF gap > 0"),
)
HELD_OUT = claim_table(  # check 11, when the modifier was trained in this run
    C("train.held_out", "held_out_change", "<=", -0.01,
      "training lowers the mean sampled length on 32 held-out TSP-100 instances by >= 1 % "
      "(relative change, step 0 to the last step)"),
)
TWO_OPT = claim_table(  # when the run applied 2-opt
    C("mdf.two_opt", "two_opt_gain", ">", 0.0,
      "FI+MDF+2-opt has a lower gap than FI+2-opt (points)"),
)
TSPLIB = claim_table(
    C("tsplib.wins", "win_share", ">=", 4 / 5,
      "FI+MDF beats plain FI on >= 4/5 instances (fraction)"),
)
GUIDED = claim_table(  # guided search against the family's best untrained setting (README)
    C("guided.gain@{family}", "gain", ">=", 0.3,
      "{family}: guided search at K={k} beats the best untrained setting of the family by >= 0.3 gap "
      "points (mean over {streams} streams)"),
    C("guided.wins@{family}", "win_share", ">=", 11 / 16 - 1e-9,
      "{family}: ... with a lower stream-averaged gap on >= 11/16 of the instances (share)"),
)
LOCAL_SEARCH = claim_table(  # guided search with 2-opt + Or-opt on every sample (README)
    C("ls.gap@{family}", "gain_over_controls", ">", 0.0,
      "{family}: FI + guided search (K={k}) + 2-opt/Or-opt on every sample has a lower mean gap than "
      "plain FI + LS and than the best of K untrained draws + LS (value: points gained over the "
      "better control; the 5.0 % target is eval/{family}/ls/guided_gap)"),
    C("ls.seconds@{family}", "seconds_per_instance", "<=", 1.0,
      "... in <= 1.0 s per instance (the search's measured wall time over the instances)"),
)
POLICY = claim_table(  # the trained mixture policy against the best untrained family
    C("policy.gain", "gain", ">=", 0.3,
      "the trained mixture policy at K={k} beats the best untrained family ({best}) by >= 0.3 gap "
      "points (mean over {streams} streams)"),
    C("policy.wins", "win_share", ">=", 11 / 16 - 1e-9,
      "... with a lower stream-averaged gap on >= 11/16 of the instances (share)"),
)
# fmt: on


def filled(rows: Iterable[ClaimRow], **fields: object) -> tuple[ClaimRow, ...]:
    """`rows` with the run's `fields` filled into their ids and statements."""
    return claim_table(
        *(
            dataclasses.replace(row, id=row.id.format(**fields), statement=row.statement.format(**fields))
            for row in rows
        )
    )


def plain_table(h: str, nodes: int | None, published: float, full: bool) -> tuple[ClaimRow, ...]:
    """Heuristic `h`'s mean length against the published one: within 0.3 % over a whole file, 0.5 %
    over the run's own instances."""
    tolerance = 0.003 if full else 0.005
    # fmt: off
    return claim_table(
        C(f"plain.{SHORT[h]}", "deviation", "<=", tolerance,
          f"plain {SHORT[h]} mean length within {tolerance:.1%} of the published {published:.2f} "
          f"(TSP-{nodes}, {'whole file' if full else 'this run'}; relative deviation)"),
    )
    # fmt: on


def lkh_table(reference: float) -> tuple[ClaimRow, ...]:
    """Our LKH-3 anchor against the mean `reference` length of the same instances."""
    # fmt: off
    return claim_table(
        C("lkh.anchor", "lkh_length", "<=", 1.01 * reference,
          "our LKH-3 anchor's mean tour length is within 1 % of the published LKH reference lengths "
          "of the same instances (paper: their mean)", paper_value=reference),
    )
    # fmt: on


def plain_claims(m: dict, methods: list[str], nodes: int | None) -> list[Claim]:
    """Check 1 (and 14): plain heuristics match the published means - within 0.3 % over a whole Fu
    et al. file, within 0.5 % when only the run's own instances were built (check 14: one
    TSP-10000 instance vs 80.6). Plus: best-of-K with the unshifted sample is never worse than plain."""
    excess = m[keys.arm(methods[0], "mdf", "max_excess_over_plain")]
    claims = judge_table(NEVER_WORSE, {"max_excess_over_plain": excess})
    for h in methods:
        published = PUBLISHED.get(nodes, {}).get(h) if nodes is not None else None
        if published is None:
            continue
        full = keys.plain_all(h) in m
        deviation = abs(m[keys.plain_all(h) if full else keys.plain(h, "length")] / published - 1)
        claims += judge_table(plain_table(h, nodes, published, full), {"deviation": deviation})
    return claims


def lkh_claims(m: dict) -> list[Claim]:
    """The LKH-3 anchor (elkai, one run per instance) against the published per-instance LKH reference
    lengths of the same instances (Fu et al.'s test-*-ref-lkh.npy; set means 16.55 / 23.12 / 71.77 at
    N = 500 / 1000 / 10000): a wrong scaling or a truncated LKH run would show here."""
    if "lkh/reference_length" not in m:
        return []
    return judge_table(lkh_table(m["lkh/reference_length"]), {"lkh_length": m["lkh/length"]})


def uniform_claims(m: dict, methods: list[str], samples: int, instances: int, gap: str) -> list[Claim]:
    """Checks 7-10 and 13 on random uniform instances (thresholds set for 16 instances, K = 32;
    README, Measured)."""

    def at_k(h: str, arm: str) -> float:
        return m[keys.at_k(h, arm, samples, gap)]

    values = {
        "ablation_gap": at_k("farthest", "ablation_0.001"),
        "large_sigma_excess": m[keys.large_sigma(gap)] - m[keys.plain("farthest", gap)],
        "mdf_gap": at_k("farthest", "mdf"),
        "mdf_gain": at_k("farthest", "ablation") - at_k("farthest", "mdf"),
        "mdf_win_share": m[keys.arm("farthest", "mdf", "wins")] / instances,
    }
    claims = judge_table(filled(ABLATION + TRAINED, samples=samples, instances=instances), values)
    for h in methods:
        if h != "farthest":
            gain = at_k(h, "ablation") - at_k(h, "mdf")
            claims += judge_table(filled(HELPS, short=SHORT[h]), {"mdf_gain": gain})
    optional = {}
    if keys.HELD_OUT_CHANGE in m:  # check 11: the modifier was trained in this run
        optional["held_out_change"] = m[keys.HELD_OUT_CHANGE]
    if keys.two_opt("mdf") in m:
        optional["two_opt_gain"] = m[keys.two_opt("plain")] - m[keys.two_opt("mdf")]
    return claims + judge_table(HELD_OUT + TWO_OPT, optional)


def tsplib_claims(m: dict, instances: int) -> list[Claim]:
    """Check 12: FI+MDF at K=32 beats plain FI on >= 4 of 5 TSPLIB instances (TSPLIB metric)."""
    return judge_table(TSPLIB, {"win_share": m[keys.arm("farthest", "mdf", "wins_vs_plain")] / instances})


def guided_claims(numbers: dict[str, float], name: str, k: int, streams: int) -> list[Claim]:
    """Guided search gains >= 0.3 points over the family's best untrained setting, and wins on
    >= 11/16 of the instances."""
    tag = f"eval/{name}/guided"
    values = {"gain": numbers[f"{tag}/gain"], "win_share": numbers[f"{tag}/win_share"]}
    return judge_table(filled(GUIDED, family=name, k=k, streams=streams), values)


def local_search_claims(searched: dict, name: str, k: int) -> list[Claim]:
    """With 2-opt + Or-opt on every sample, guided search at K beats both controls that get the same
    local search (plain FI, and the best of K untrained draws): plain FI + LS alone already reaches
    the 5 % target on clustered and TSPLIB instances, so an absolute bound could not tell guided search
    apart. And the search takes <= 1 s per instance (its measured wall time on this run's mapper)."""
    tag = f"eval/{name}/ls"
    control = min(searched[f"{tag}/plain_gap"], searched[f"{tag}/untrained_gap"])
    values = {
        "gain_over_controls": control - searched[f"{tag}/guided_gap"],
        "seconds_per_instance": searched[f"time/{name}/guided_ls_s_per_instance"],
    }
    return judge_table(filled(LOCAL_SEARCH, family=name, k=k), values)


def policy_claims(numbers: dict, best: str, cfg: PolicyConfig) -> list[Claim]:
    """The trained policy gains >= 0.3 points over the best untrained family (`best`), and wins on
    >= 11/16 of the instances."""
    values = {"gain": numbers["gain"], "win_share": numbers["win_share"]}
    return judge_table(filled(POLICY, k=cfg.k, best=best, streams=cfg.streams), values)
