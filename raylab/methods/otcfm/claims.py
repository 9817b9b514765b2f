"""OT-CFM's checks B1-B6 as tables, judged on one run's own numbers.

`proximal_field` records identities that hold for any dual weights (B1, B2's prox): invariants.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from raylab.methods.otcfm.config import HyperbolicityConfig
from raylab.methods.otcfm.experiments import B4_L2_DECREASING, B4_VS_NOREPLACE, B4_VS_TORCHCFM, B4_W2
from raylab.records import INVARIANT, Claim, ClaimRow, claim_table, judge_table

C = ClaimRow

TORCHCFM_MISSING = "torchcfm is not installed: pip install --no-deps torchcfm==1.0.7"
AGREEMENT_VALUE = "(value: |difference| / sqrt(sd_ours^2 + sd_theirs^2))"

# fmt: off
DUALS = claim_table(
    C("B1.duals_fit", "duals/fit_cell_mass_error", "<", 1e-3,
      "exact OT duals: Laguerre cells hold the masses b on the fitted draws, error < 1e-3", INVARIANT),
)

MINIBATCH = claim_table(
    C("B3.discrete_decreasing", "discrete/error_change", "<", 0.0,
      "discrete target: the misassignment fraction decreases from the smallest to the largest B"),
    C("B3.discrete_slope_low", "discrete/slope", ">=", -0.7,
      "discrete target: log-log slope of the misassignment fraction >= -0.7"),
    C("B3.discrete_slope_high", "discrete/slope", "<=", -0.3,
      "discrete target: log-log slope of the misassignment fraction <= -0.3"),
    C("B3.circle_slope", "circle/slope", "<=", -0.7,
      "uniform circle: log-log slope of the mean squared map error <= -0.7"),
    C("B3.circle_B2048", "circle/B2048/error", "<", 0.01,
      "uniform circle: mean squared map error < 0.01 at B = 2048"),
)


def discrete_table(t: float) -> tuple[ClaimRow, ...]:
    """B1 at time t, on `recovery_errors`' numbers."""
    return claim_table(
        C(f"B1.recovery@t{t:g}", f"discrete/t{t:g}/recovered", ">=", 1.0,
          f"t={t:g}: the time-t power diagram recovers the source Laguerre index for 100% of samples",
          INVARIANT),
        C(f"B1.qp@t{t:g}", f"discrete/t{t:g}/qp_error", "<=", 1e-6,
          f"t={t:g}: the simplex-QP prox returns the source's atom y_j within 1e-6", INVARIANT),
        C(f"B1.field@t{t:g}", f"discrete/t{t:g}/field_error", "<=", 1e-9,
          f"t={t:g}: the power-diagram field (y_j* - x_t)/(1-t) equals x_1 - x_0 within 1e-9", INVARIANT),
    )


def sphere_table(d: int) -> tuple[ClaimRow, ...]:
    """B2's prox expression on the sphere S^{d-1}, worst over the checked times."""
    return claim_table(
        C(f"B2.prox@d{d}", f"sphere/d{d}/prox_rel_error", "<=", 1e-12,
          f"sphere S^{d - 1}: Proj_ball(x/t) gives the analytic field inside and outside radius t "
          "(relative error <= 1e-12 at every checked t)", INVARIANT),
    )


def hyperbolicity_table(cfg: HyperbolicityConfig) -> tuple[ClaimRow, ...]:
    """B2, B5 and B6 (thresholds: README, Measured)."""
    return claim_table(
        C("B2.normal_rate", "circle/slope_error", "<=", 0.02,
          "uniform circle: |slope + 1| <= 0.02, slope of log median normal distance on s in "
          f"[{cfg.fit_from:g}, {cfg.fit_to:g}] (RK4 on the closed-form field)", INVARIANT),
        C("B2.angle_drift", "circle/angle_drift", "<", 1e-8,
          "uniform circle: angles stay constant, largest drift < 1e-8 rad (a radial field)", INVARIANT),
        C("B5.normal_rate", "von_mises/slope_error", "<=", 0.05,
          "von Mises atoms: |slope + 1| <= 0.05, slope of log median normal distance on s in [1, 5] "
          "(exact straight paths)", INVARIANT),
        C("B5.normal_ratio", "von_mises/normal_ratio_error", "<=", 0.10,
          "von Mises atoms: median normal-distance ratio s=3 -> 6 within 10% of exp(-3) (exact "
          "straight paths)", INVARIANT),
        C("B5.tangential_neutral", "von_mises/tangential_ratio_error", "<=", 0.15,
          "von Mises atoms: pairs 5-20 spacings apart at s=3 keep their separation to s=6, "
          "|median ratio - 1| <= 0.15"),
        C("B5.drift", "von_mises/drift_p99_from_s3", "<=", 5.0,
          "von Mises atoms: angular drift from s=3 on, p99 <= 5 atom spacings"),
        C("B5.ks", "von_mises/ks", "<", 0.02,
          "von Mises atoms: final angular distribution matches the target masses, KS < 0.02"),
        C("B6.gap_not_attracted", "gap/min_distance", ">=", (1.0 - cfg.gap_fill) / 2,
          f"gap: particles inside radius t at t={cfg.gap_time:g} stay away from the circle, final "
          "distance >= (1 - gap_fill)/2 (a naive radial field would bring them within ~exp(-s))"),
    )


def trained_field_table(small: int, large: int) -> tuple[ClaimRow, ...]:
    """B4 on the uniform circle between the smallest and the largest B."""
    return claim_table(
        C(B4_L2_DECREASING, "raylab/l2_change", "<", 0.0,
          f"circle: the learned field's L2 error against the closed form falls from B={small} to "
          f"B={large} (mean over replicates; value: the change)"),
        C(B4_W2, "raylab/w2", "<", 0.1,
          f"circle: W2 of RK4 samples to the uniform circle < 0.1 at B={large}"),
    )


def agreement_table(large: int) -> tuple[ClaimRow, ...]:
    """B4: our circle L2 error at the largest B against each torchcfm arm's (a row's value key names it)."""
    return claim_table(
        C(B4_VS_TORCHCFM, "torchcfm", "<=", 2.0,
          f"circle, B={large}: our trainer's L2 error agrees with torchcfm's (its plan re-sampled with "
          f"replacement) within 2 sd {AGREEMENT_VALUE}"),
        C(B4_VS_NOREPLACE, "torchcfm_noreplace", "<=", 2.0,
          f"circle, B={large}: our trainer's L2 error agrees with torchcfm's with its plan sampled "
          f"without replacement within 2 sd {AGREEMENT_VALUE}"),
    )
# fmt: on


def duals_claims(metrics: dict) -> list[Claim]:
    """B1: the fitted duals' Laguerre cells hold the target masses."""
    return judge_table(DUALS, metrics)


def discrete_claims(t: float, errors: dict) -> list[Claim]:
    """B1 at time t: power-diagram recovery, the simplex-QP prox and the field."""
    return judge_table(discrete_table(t), errors)


def sphere_claims(d: int, metrics: dict) -> list[Claim]:
    """B2: the sphere prox expression against the analytic field on S^{d-1}."""
    return judge_table(sphere_table(d), metrics)


def minibatch_claims(curves: dict) -> list[Claim]:
    """B3: the discrete misassignment rate ~ B^-1/2, the circle map error ~ B^-1 and < 0.01 at B = 2048."""
    sizes, discrete, discrete_slope = curves["discrete"]
    _, circle, circle_slope = curves["circle"]
    values = {
        "discrete/error_change": discrete[-1] - discrete[0],
        "discrete/slope": discrete_slope,
        "circle/slope": circle_slope,
    }
    if 2048 in sizes:
        values["circle/B2048/error"] = circle[list(sizes).index(2048)]
    return judge_table(MINIBATCH, values)


def hyperbolicity_claims(cfg: HyperbolicityConfig, m: dict) -> list[Claim]:
    """B2, B5 and B6 on this run's metrics."""
    values = {
        **m,
        "circle/slope_error": abs(m["circle/slope"] + 1.0),
        "von_mises/slope_error": abs(m["von_mises/slope"] + 1.0),
        "von_mises/normal_ratio_error": abs(m["von_mises/normal_ratio"] / np.exp(-3.0) - 1.0),
        "von_mises/tangential_ratio_error": abs(m["von_mises/tangential_ratio"] - 1.0),
    }
    return judge_table(hyperbolicity_table(cfg), values)


def trained_field_claims(summary: dict, batch_sizes: list[int], trainers: list[str]) -> list[Claim]:
    """B4 on the uniform circle (where the field is exact): ours improves with B, reaches the circle
    in W2, and agrees with torchcfm within 2 sd; none without our circle runs at the largest B."""
    small, large = min(batch_sizes), max(batch_sizes)

    def l2(trainer: str, batch: int) -> Any:  # (mean, sd) of the circle L2 error, or None
        return summary.get((trainer, "circle", batch, "l2_error"))

    ours = l2("raylab", large)
    if ours is None:
        return []
    values = {"raylab/w2": summary[("raylab", "circle", large, "w2")][0]}
    if small < large:  # a single batch size has nothing to compare
        values["raylab/l2_change"] = ours[0] - l2("raylab", small)[0]
    found = judge_table(trained_field_table(small, large), values)
    for row in agreement_table(large):
        theirs = l2(row.key, large)
        if row.key not in trainers or theirs is None:
            found.append(row.unjudged(TORCHCFM_MISSING))
        elif (spread := np.hypot(ours[1], theirs[1])) == 0:
            found.append(row.unjudged("needs >= 2 replicates"))
        else:
            found.append(row.judge(abs(ours[0] - theirs[0]) / spread))
    return found
