"""The paper's claims (our acceptance checks S3-a..S3-h) as tables, judged on one run's own numbers.

A value over several seeds is judged on the worst seed. Rows whose cells were not run (e.g. a sweep
over one optimiser) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from raylab.records import Claim, ClaimRow, claim_table, judge_table

Summaries = dict[tuple[str, float], list[dict]]

C = ClaimRow

# fmt: off
POPULATION = claim_table(
    C("S3-c.gd_spike", "gd@20/max_spike_ratio", ">=", 100.0,
      "lam=20: GD amplifies the spike, max_k b_k/a_k >= 100"),
    C("S3-c.gd_cos", "gd@20/min_cos", "<=", 0.05,
      "lam=20: GD loses alignment, min_k cos_k <= 0.05"),
    C("S3-c.specgd_spike", "specgd@20/max_spike_ratio", "<=", 2.0,
      "lam=20: SpecGD keeps max_k b_k/a_k <= 2"),
    C("S3-c.specgd_cos", "specgd@20/min_cos_rel", ">=", 0.9,
      "lam=20: SpecGD keeps min_k cos_k >= 0.9 cos_0 (deviation: relative)"),
    C("S3-c.gd_escape", "gd@20/escape_step", "<=", 150,
      "lam=20: gd reaches cos > 0.9 by step 150"),
    C("S3-c.specgd_escape", "specgd@20/escape_step", "<=", 150,
      "lam=20: specgd reaches cos > 0.9 by step 150"),
    C("S3-d.gd_lam1", "gd@1/spike_growth", "<=", 1.5,
      "lam=1 <= 3: GD max b/a <= 1.5x its initial value"),
    C("S3-d.gd_lam3", "gd@3/spike_growth", "<=", 1.5,
      "lam=3 <= 3: GD max b/a <= 1.5x its initial value"),
    C("S3-d.gd_lam5", "gd@5/spike_growth", ">=", 10.0,
      "lam=5 > 3: GD max b/a >= 10x its initial value"),
    C("S3-e.specgd_escape_spread", "specgd/escape_spread", "<=", 5,
      "SpecGD escape step (cos > 0.9) spread over lam in {1,5,20} <= 5 steps"),
    C("S3-f.muon_spike", "muon@20/max_spike_ratio", "<=", 2.0,
      "lam=20: torch.optim.Muon keeps max b/a <= 2"),
    C("S3-f.muon_cos", "muon@20/min_cos_rel", ">=", 0.8,
      "lam=20: torch.optim.Muon keeps min cos >= 0.8 cos_0 (deviation: relative)"),
    C("neg.normgd_spike", "normgd@20/max_spike_ratio", ">=", 100.0,
      "lam=20: Frobenius-normalised GD does NOT fix it, max b/a >= 100"),
)

FINITE_SAMPLE = claim_table(
    C("S3-h.gd_spike", "gd@20/max_spike_ratio", ">=", 50.0,
      "finite sample, lam=20: gd max b/a >= 50"),
    C("S3-h.specgd_spike", "specgd@20/max_spike_ratio", "<=", 2.0,
      "finite sample, lam=20: specgd max b/a <= 2"),
)

CONTRACTION = claim_table(
    C("S3-g.specgd_error", "specgd_final", "<", 1e-4,
      "lam=1, 800 steps: SpecGD (0.02*0.99^k) error < 1e-4"),
    C("S3-g.gd_error", "gd_final", ">", 1e-3,
      "lam=1, 800 steps: GD (0.05) error > 1e-3"),
)

CHECKS = claim_table(
    C("S3-a.autograd", "autograd_rel_err", "<", 1e-8,
      "closed-form population gradient == autograd (rel err < 1e-8)"),
    C("S3-a.sample", "sample_rel_err", "<", 0.05,
      "finite-sample gradient (n=2e5) within 5% of the population one"),
    C("S3-b.polar", "polar_sv_err", "<", 1e-10,
      "polar(G) has unit singular values (max dev < 1e-10)"),
    C("S3-b.nuclear", "polar_nuclear_rel_err", "<", 1e-10,
      "<polar(G), G> = ||G||_* (relative error < 1e-10)"),
    C("S3-b.ns_low", "ns_sv_min", ">=", 0.5,
      "Muon's Newton-Schulz singular values >= 0.5 (cond <= 100)"),
    C("S3-b.ns_high", "ns_sv_max", "<=", 1.5,
      "Muon's Newton-Schulz singular values <= 1.5 (cond <= 100)"),
)
# fmt: on


def cell_values(cells: Summaries) -> dict[str, list[float]]:
    """Per-seed values keyed "<optimiser>@<lambda>/<summary key>", plus SpecGD's escape-step spread
    over lam in {1, 5, 20} (S3-e) when those cells were run."""
    values = {
        f"{opt}@{lam:g}/{key}": [row[key] for row in rows]
        for (opt, lam), rows in cells.items()
        for key in rows[0]
    }
    per_lam = [values.get(f"specgd@{lam}/escape_step") for lam in (1, 5, 20)]
    if all(steps is not None for steps in per_lam):
        values["specgd/escape_spread"] = [
            max(steps) - min(steps) if max(steps) < float("inf") else float("inf") for steps in zip(*per_lam)
        ]
    return values


def population_claims(cells: Summaries) -> list[Claim]:
    """S3-c..S3-f and the normalised-GD negative control (population gradient, d = 50)."""
    return judge_table(POPULATION, cell_values(cells))


def finite_sample_claims(cells: Summaries) -> list[Claim]:
    """S3-h: n = 4000, lam = 20: GD max b/a >= 50, SpecGD <= 2."""
    return judge_table(FINITE_SAMPLE, cell_values(cells))


def contraction_claims(specgd_final: Sequence[float], gd_final: Sequence[float]) -> list[Claim]:
    """S3-g: lam=1, 800 steps: decayed SpecGD ends below 1e-4 error, GD (0.05) still above 1e-3."""
    return judge_table(CONTRACTION, {"specgd_final": specgd_final, "gd_final": gd_final})


def check_claims(checks: dict[str, float]) -> list[Claim]:
    """S3-a (gradient) and S3-b (polar / Newton-Schulz) from `checks.py` numbers."""
    return judge_table(CHECKS, checks)
