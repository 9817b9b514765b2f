"""The S2O checks evaluated on a run's own cells (thresholds: README, Experiments and claims).

`finals[variant]` is the list of final-metric dicts of that variant's replicates, in replicate order.
"""

from __future__ import annotations

import numpy as np

from raylab.records import Claim

Finals = dict[str, list[dict]]
NONINFERIORITY = 0.015  # AT+S2O may trail AT by at most 1.5 points (README)
AA_SLACK = 0.005  # AutoAttack may exceed PGD-20 by at most 0.5 point (random restarts)
TRADES_FLOOR = 0.4  # PGD-20 floor of TRADES / TRADES+S2O on MNIST-5k at eps 0.1 (a flipped KL sign gives ~0)


def attack_claims(finals: Finals, eps_grid: list[float]) -> list[Claim]:
    """S2O-d on every trained cell: accuracy does not rise with eps, AutoAttack's pointwise worst case
    is not above PGD-20; and the invariant that PGD at eps 0 is clean accuracy."""
    cells = [f for rows in finals.values() for f in rows]
    claims = []
    if 0.0 in eps_grid:
        gap = max(abs(f["pgd20_eps0"] - f["clean_points"]) for f in cells)
        claims.append(
            Claim.invariant(  # PGD starts at x and projects onto the eps-ball: at eps 0 it returns x
                "attack.eps0_is_clean", "PGD-20 at eps 0 = clean accuracy (every cell)", gap, "<=", 0.0
            )
        )
    if len(eps_grid) > 1:
        rise = max(
            max(f[f"pgd20_eps{b:g}"] - f[f"pgd20_eps{a:g}"] for a, b in zip(eps_grid, eps_grid[1:]))
            for f in cells
        )
        claims.append(
            Claim.check(
                "attack.monotone_eps", "PGD-20 accuracy never rises with eps (every cell)", rise, "<=", 0.0
            )
        )
    if all("aa" in f for f in cells):
        excess = max(f["aa"] - f["pgd20"] for f in cells)
        claims.append(
            Claim.check(
                "attack.aa_le_pgd",
                "AutoAttack accuracy <= PGD-20 + 0.5 point (every cell)",
                excess,
                "<=",
                AA_SLACK,
            )
        )
    return claims


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
        for key, label in (
            ("logit_corr", "off-diagonal test-logit correlation"),
            ("weight_cos", "last-layer row cosines"),
        ):
            change = max(t[key] / b[key] - 1.0 for b, t in zip(finals[base], finals[twin]))
            claims.append(
                Claim.check(
                    f"mechanism.{key}@{base}",
                    f"{twin} lowers the {label} (||offdiag||_F) vs {base}, every replicate: worst change",
                    change,
                    "<",
                    0.0,
                )
            )
        for key in ("clean", "pgd20"):
            claims.append(
                Claim.check(
                    f"noninferior.{key}@{base}",
                    f"{twin} {key} accuracy >= {base} - 1.5 points (mean over replicates): difference",
                    mean(finals[twin], key) - mean(finals[base], key),
                    ">=",
                    -NONINFERIORITY,
                )
            )
    return claims


def trades_claims(finals: Finals, dataset: str, eps: float) -> list[Claim]:
    """S2O-g: every TRADES variant keeps PGD-20 >= 0.4 (MNIST-5k, eps 0.1 only: where it was set)."""
    trades = [v for v in finals if v.startswith("trades")]
    if not trades or dataset != "mnist5k" or abs(eps - 0.1) > 1e-12:
        return []
    worst = min(mean(finals[v], "pgd20") for v in trades)
    return [
        Claim.check(
            "trades.pgd20_floor",
            f"{', '.join(trades)}: mean PGD-20 >= 0.4 at eps 0.1",
            worst,
            ">=",
            TRADES_FLOOR,
        )
    ]
