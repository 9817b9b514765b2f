"""FAA secrecy Monte-Carlo: channels fanned out in chunks, one study per `kind`, claims A1-A6.

Joint optimisation in the power / antenna / shape studies is the exhaustive psi grid with the exact
GRQ at every point (the reference); the convergence study checks that multi-start AO reaches it.
With K > 1 Eves (study "eves") the inner solver is the SDR (`sdr.py`, one SDP per psi, checked tight
by its rank-one beam) inside a branch and bound over the grid; AO itself is for one Eve (GRQ).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from raylab.context import RunContext
from raylab.methods.faa import checks, plots
from raylab.methods.faa import claims as claim_sets
from raylab.methods.faa.config import FAAConfig
from raylab.methods.faa.studies import RATE_KEYS, STUDIES, channel_paths, make_system
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


@dataclasses.dataclass(frozen=True)
class Chunk:
    """One work item: channels [start, stop) of the run (each channel's draw is seeded by its index)."""

    cfg: FAAConfig
    start: int
    stop: int


def evaluate_chunk(item: Chunk) -> list[dict]:
    """Evaluate channels [start, stop) for the study `cfg.kind`."""
    study = STUDIES[item.cfg.kind]
    return [study(item.cfg, channel_paths(item.cfg, i), i) for i in range(item.start, item.stop)]


def _means(rows: list[dict], key: str) -> list[float]:
    return np.mean([r[key] for r in rows], axis=0).tolist()


def run(cfg: FAAConfig, ctx: RunContext) -> ResultRecord:
    items = [Chunk(cfg, s, min(s + cfg.chunk, cfg.channels)) for s in range(0, cfg.channels, cfg.chunk)]
    rows = [row for chunk in ctx.map(evaluate_chunk, items, name=f"faa-{cfg.kind}") for row in chunk]
    metrics: dict[str, float] = {"eval/channels": float(len(rows))}
    if cfg.kind == "power":
        curves = {k: _means(rows, k) for k in rows[0]}
        metrics.update(
            {f"eval/{k}/P{p:g}dBm": v for k, vals in curves.items() for p, v in zip(cfg.powers_dbm, vals)}
        )
        curves = {k: curves[k] for k in RATE_KEYS}
        if cfg.system.power_dbm in cfg.powers_dbm:  # the claims' reference power, for sweeps
            i = cfg.powers_dbm.index(cfg.system.power_dbm)
            metrics.update({f"eval/{k}/reference": vals[i] for k, vals in curves.items()})
        claims = claim_sets.power_claims(
            rows, cfg.powers_dbm, cfg.system.power_dbm, restricted=cfg.system.psi_max_deg < 180
        )
        plots.plot_curves(
            cfg.powers_dbm,
            curves,
            "transmit power (dBm)",
            ctx.artifact("rate_vs_power.png"),
            f"{cfg.system.shape}, {cfg.system.n_v}x{cfg.system.n_h}, kappa={cfg.system.kappa:g}",
        )
    elif cfg.kind == "antennas":
        curves = {k: _means(rows, k) for k in rows[0]}
        labels = [f"{v}x{h}" for v, h in cfg.sizes]
        metrics.update({f"eval/{k}/{s}": v for k, vals in curves.items() for s, v in zip(labels, vals)})
        claims = claim_sets.antenna_claims(rows)
        plots.plot_curves(
            [v * h for v, h in cfg.sizes], curves, "elements N", ctx.artifact("rate_vs_antennas.png")
        )
    elif cfg.kind == "eves":
        curve = _means(rows, "rate")
        metrics.update({f"eval/eves{k}": v for k, v in zip(cfg.eves, curve)})
        metrics["eval/sdr_solves_per_channel"] = float(np.sum([r["solves"] for r in rows]) / len(rows))
        claims = claim_sets.eve_claims(rows)
        plots.plot_curves(
            cfg.eves,
            {"joint (grid; GRQ for K=1, SDR for K>1)": curve},
            "number of Eves K",
            ctx.artifact("rate_vs_eves.png"),
        )
    elif cfg.kind == "shapes":
        means = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        metrics.update({f"eval/{k}": v for k, v in means.items()})
        claims = claim_sets.shape_claims(rows, cfg.shapes)
        plots.plot_bars(means, ctx.artifact("shapes.png"), "joint optimisation, by array shape")
    else:
        claims = _convergence(cfg, ctx, rows, metrics)
    ctx.report(metrics)
    return ctx.result(metrics, claims)


def _convergence(cfg: FAAConfig, ctx: RunContext, rows: list[dict], metrics: dict) -> list:
    rng = np.random.default_rng(derive_seed(cfg.seed, "checks"))
    numbers = checks.grq_checks(rng, cfg.check_cases)
    numbers["gradient_rel_err"] = max(
        checks.gradient_check(make_system(cfg, shape=s), rng, cfg.check_cases)
        for s in ("rotation", "bend", "fold")
    )
    numbers["flat_at_zero"] = checks.flat_at_zero(cfg.system.n_v, cfg.system.n_h, cfg.system.wavelength / 2)
    degenerate = checks.degenerate_channel(make_system(cfg))
    numbers["degenerate_rate"], numbers["degenerate_finite"] = (
        degenerate["rate_at_zero"],
        degenerate["finite"],
    )
    metrics.update({f"check/{k}": float(v) for k, v in numbers.items()})
    gaps = np.array([[r["grid"] - r["single"], r["grid"] - r["multi"]] for r in rows])
    metrics.update(
        {
            "eval/grid_mean": float(np.mean([r["grid"] for r in rows])),
            "eval/multistart_mean": float(np.mean([r["multi"] for r in rows])),
            "eval/single_start_mean": float(np.mean([r["single"] for r in rows])),
            "eval/single_start_within_0.01": float(np.mean(gaps[:, 0] <= 0.01)),
            "eval/ao_iterations_max": float(max(len(r["history"]) - 1 for r in rows)),
        }
    )
    plots.plot_convergence(rows, ctx.artifact("convergence.png"))
    return claim_sets.check_claims(numbers) + claim_sets.convergence_claims(rows, cfg.ao_iters)
