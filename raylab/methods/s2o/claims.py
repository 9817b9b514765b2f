"""The S2O checks as tables, evaluated on a run's own cells (thresholds: README, Experiments and claims).

`finals[variant]` is the list of final-metric dicts of that variant's replicates, in replicate order.
The pair and TRADES rows are templates: `{base}`, `{twin}` and `{trades}` in their ids and statements
name the variants they were judged on.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from raylab.methods.s2o.experiments import NONINFERIOR_CLEAN, NONINFERIOR_PGD20
from raylab.records import INVARIANT, Claim, ClaimRow, claim_table, judge_table

Finals = dict[str, list[dict]]

C = ClaimRow

# fmt: off
ATTACKS = claim_table(
    # PGD starts at x and projects onto the eps-ball: at eps 0 it returns x
    C("attack.eps0_is_clean", "largest eps-0 gap", "<=", 0.0,
      "PGD-20 at eps 0 = clean accuracy (every cell)", kind=INVARIANT),
    C("attack.monotone_eps", "largest rise with eps", "<=", 0.0,
      "PGD-20 accuracy never rises with eps (every cell)"),
    # AutoAttack may exceed PGD-20 by at most 0.5 point (random restarts)
    C("attack.aa_le_pgd", "largest AutoAttack excess", "<=", 0.005,
      "AutoAttack accuracy <= PGD-20 + 0.5 point (every cell)"),
)

PAIR = claim_table(
    C("mechanism.logit_corr@{base}", "worst logit_corr change", "<", 0.0,
      "{twin} lowers the off-diagonal test-logit correlation (||offdiag||_F) vs {base}, every replicate: "
      "worst change"),
    C("mechanism.weight_cos@{base}", "worst weight_cos change", "<", 0.0,
      "{twin} lowers the last-layer row cosines (||offdiag||_F) vs {base}, every replicate: worst change"),
    # AT+S2O may trail AT by at most 1.5 points (README)
    C(NONINFERIOR_CLEAN, "mean clean difference", ">=", -0.015,
      "{twin} clean accuracy >= {base} - 1.5 points (mean over replicates): difference"),
    C(NONINFERIOR_PGD20, "mean pgd20 difference", ">=", -0.015,
      "{twin} pgd20 accuracy >= {base} - 1.5 points (mean over replicates): difference"),
)

TRADES = claim_table(
    # the floor of TRADES / TRADES+S2O on MNIST-5k at eps 0.1 (a flipped KL sign gives ~0)
    C("trades.pgd20_floor", "worst mean pgd20", ">=", 0.4,
      "{trades}: mean PGD-20 >= 0.4 at eps 0.1"),
)
# fmt: on


def _filled(rows: tuple[ClaimRow, ...], **names: str) -> list[ClaimRow]:
    """The rows with the `{name}` fields of their ids and statements filled in."""
    return [
        dataclasses.replace(row, id=row.id.format(**names), statement=row.statement.format(**names))
        for row in rows
    ]


def attack_claims(finals: Finals, eps_grid: list[float]) -> list[Claim]:
    """S2O-d on every trained cell: accuracy does not rise with eps, AutoAttack's pointwise worst case
    is not above PGD-20; and the invariant that PGD at eps 0 is clean accuracy."""
    cells = [f for rows in finals.values() for f in rows]
    values = {}
    if 0.0 in eps_grid:
        values["largest eps-0 gap"] = max(abs(f["pgd20_eps0"] - f["clean_points"]) for f in cells)
    if len(eps_grid) > 1:
        values["largest rise with eps"] = max(
            max(f[f"pgd20_eps{b:g}"] - f[f"pgd20_eps{a:g}"] for a, b in zip(eps_grid, eps_grid[1:]))
            for f in cells
        )
    if all("aa" in f for f in cells):
        values["largest AutoAttack excess"] = max(f["aa"] - f["pgd20"] for f in cells)
    return judge_table(ATTACKS, values)


def s2o_pairs(variants: list[str]) -> list[tuple[str, str]]:
    """(baseline, baseline with S2O) for every baseline whose S2O twin also ran."""
    twins = []
    for name in variants:
        objective, _, rest = name.partition("_")
        if "s2o" not in name.split("_"):
            twin = "_".join([objective, "s2o"] + ([rest] if rest else []))
            if twin in variants:
                twins.append((name, twin))
    return twins


def mean(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def pair_claims(finals: Finals) -> list[Claim]:
    """S2O-e (mechanism, every replicate) and non-inferiority (mean over replicates) per pair."""
    claims = []
    for base, twin in s2o_pairs(list(finals)):
        replicates = list(zip(finals[base], finals[twin]))
        values = {
            f"worst {key} change": max(t[key] / b[key] - 1.0 for b, t in replicates)
            for key in ("logit_corr", "weight_cos")
        } | {
            f"mean {key} difference": mean(finals[twin], key) - mean(finals[base], key)
            for key in ("clean", "pgd20")
        }
        claims += judge_table(_filled(PAIR, base=base, twin=twin), values)
    return claims


def trades_claims(finals: Finals, dataset: str, eps: float) -> list[Claim]:
    """S2O-g: every TRADES variant keeps PGD-20 >= 0.4 (MNIST-5k, eps 0.1 only: where it was set)."""
    trades = [v for v in finals if v.startswith("trades")]
    if not trades or dataset != "mnist5k" or abs(eps - 0.1) > 1e-12:
        return []
    worst = min(mean(finals[v], "pgd20") for v in trades)
    return judge_table(_filled(TRADES, trades=", ".join(trades)), {"worst mean pgd20": worst})
