"""The paper's claims (our acceptance checks S3-a..S3-h), evaluated on one run's own cell summaries.

A claim over several seeds takes the worst seed (`Claim.worst_case`). Claims whose cells were not run
(e.g. a sweep over one optimiser) are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from raylab.records import Claim

Summaries = dict[tuple[str, float], list[dict]]


def _values(cells: Summaries, opt: str, lam: float, key: str) -> list[float] | None:
    rows = cells.get((opt, lam))
    return [row[key] for row in rows] if rows else None


def population_claims(cells: Summaries) -> list[Claim]:
    """S3-c..S3-f and the normalised-GD negative control (population gradient, d = 50)."""
    claims = []

    def add(id, statement, opt, lam, key, op, threshold):
        values = _values(cells, opt, lam, key)
        if values is not None:
            claims.append(Claim.worst_case(id, statement, values, op, threshold))

    add(
        "S3-c.gd_spike",
        "lam=20: GD amplifies the spike, max_k b_k/a_k >= 100",
        "gd",
        20.0,
        "max_spike_ratio",
        ">=",
        100.0,
    )
    add("S3-c.gd_cos", "lam=20: GD loses alignment, min_k cos_k <= 0.05", "gd", 20.0, "min_cos", "<=", 0.05)
    add(
        "S3-c.specgd_spike",
        "lam=20: SpecGD keeps max_k b_k/a_k <= 2",
        "specgd",
        20.0,
        "max_spike_ratio",
        "<=",
        2.0,
    )
    add(
        "S3-c.specgd_cos",
        "lam=20: SpecGD keeps min_k cos_k >= 0.9 cos_0 (deviation: relative)",
        "specgd",
        20.0,
        "min_cos_rel",
        ">=",
        0.9,
    )
    for opt in ("gd", "specgd"):
        add(
            f"S3-c.{opt}_escape",
            f"lam=20: {opt} reaches cos > 0.9 by step 150",
            opt,
            20.0,
            "escape_step",
            "<=",
            150,
        )
    for lam in (1.0, 3.0):
        add(
            f"S3-d.gd_lam{lam:g}",
            f"lam={lam:g} <= 3: GD max b/a <= 1.5x its initial value",
            "gd",
            lam,
            "spike_growth",
            "<=",
            1.5,
        )
    add(
        "S3-d.gd_lam5",
        "lam=5 > 3: GD max b/a >= 10x its initial value",
        "gd",
        5.0,
        "spike_growth",
        ">=",
        10.0,
    )
    claims += _escape_invariance(cells)
    add(
        "S3-f.muon_spike",
        "lam=20: torch.optim.Muon keeps max b/a <= 2",
        "muon",
        20.0,
        "max_spike_ratio",
        "<=",
        2.0,
    )
    add(
        "S3-f.muon_cos",
        "lam=20: torch.optim.Muon keeps min cos >= 0.8 cos_0 (deviation: relative)",
        "muon",
        20.0,
        "min_cos_rel",
        ">=",
        0.8,
    )
    add(
        "neg.normgd_spike",
        "lam=20: Frobenius-normalised GD does NOT fix it, max b/a >= 100",
        "normgd",
        20.0,
        "max_spike_ratio",
        ">=",
        100.0,
    )
    return claims


def _escape_invariance(cells: Summaries) -> list[Claim]:
    """S3-e: SpecGD's escape step is the same (within 5 steps) for lam in {1, 5, 20}, per seed."""
    per_lam = [_values(cells, "specgd", lam, "escape_step") for lam in (1.0, 5.0, 20.0)]
    if any(v is None for v in per_lam):
        return []
    spreads = [
        max(steps) - min(steps) if max(steps) < float("inf") else float("inf") for steps in zip(*per_lam)
    ]
    return [
        Claim.worst_case(
            "S3-e.specgd_escape_spread",
            "SpecGD escape step (cos > 0.9) spread over lam in {1,5,20} <= 5 steps",
            spreads,
            "<=",
            5,
        )
    ]


def contraction_claims(specgd_final: Sequence[float], gd_final: Sequence[float]) -> list[Claim]:
    """S3-g: lam=1, 800 steps: decayed SpecGD ends below 1e-4 error, GD (0.05) still above 1e-3."""
    return [
        Claim.worst_case(
            "S3-g.specgd_error",
            "lam=1, 800 steps: SpecGD (0.02*0.99^k) error < 1e-4",
            specgd_final,
            "<",
            1e-4,
        ),
        Claim.worst_case("S3-g.gd_error", "lam=1, 800 steps: GD (0.05) error > 1e-3", gd_final, ">", 1e-3),
    ]


def finite_sample_claims(cells: Summaries) -> list[Claim]:
    """S3-h: n = 4000, lam = 20: GD max b/a >= 50, SpecGD <= 2."""
    claims = []
    for opt, op, threshold in (("gd", ">=", 50.0), ("specgd", "<=", 2.0)):
        values = _values(cells, opt, 20.0, "max_spike_ratio")
        if values is not None:
            claims.append(
                Claim.worst_case(
                    f"S3-h.{opt}_spike",
                    f"finite sample, lam=20: {opt} max b/a {op} {threshold:g}",
                    values,
                    op,
                    threshold,
                )
            )
    return claims


def check_claims(checks: dict[str, float]) -> list[Claim]:
    """S3-a (gradient) and S3-b (polar / Newton-Schulz) from `checks.py` numbers."""
    return [
        Claim.check(
            "S3-a.autograd",
            "closed-form population gradient == autograd (rel err < 1e-8)",
            checks["autograd_rel_err"],
            "<",
            1e-8,
        ),
        Claim.check(
            "S3-a.sample",
            "finite-sample gradient (n=2e5) within 5% of the population one",
            checks["sample_rel_err"],
            "<",
            0.05,
        ),
        Claim.check(
            "S3-b.polar",
            "polar(G) has unit singular values (max dev < 1e-10)",
            checks["polar_sv_err"],
            "<",
            1e-10,
        ),
        Claim.check(
            "S3-b.nuclear",
            "<polar(G), G> = ||G||_* (relative error < 1e-10)",
            checks["polar_nuclear_rel_err"],
            "<",
            1e-10,
        ),
        Claim.check(
            "S3-b.ns_low",
            "Muon's Newton-Schulz singular values >= 0.5 (cond <= 100)",
            checks["ns_sv_min"],
            ">=",
            0.5,
        ),
        Claim.check(
            "S3-b.ns_high",
            "Muon's Newton-Schulz singular values <= 1.5 (cond <= 100)",
            checks["ns_sv_max"],
            "<=",
            1.5,
        ),
    ]
