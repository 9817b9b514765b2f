"""SpecGD vs GD on spiked phase retrieval: the lam x optimiser x seed grid, fanned out by the context.

Each cell simulates one optimiser on one (theta, u, W_0[, X]) draw; cells with the same seed index
share that draw across lam and optimisers (common random numbers). One cell runs in-process and
streams its trajectory to `ctx.report` (what Tune's schedulers see); larger grids go through
`ctx.map` (Ray tasks under `raylab run`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from raylab.context import RunContext
from raylab.methods.specgd import checks
from raylab.methods.specgd import claims as claims_mod
from raylab.methods.specgd.config import SpecGDConfig
from raylab.methods.specgd.core import escape_step, init_weights, make_problem, simulate
from raylab.methods.specgd.plots import plot_trajectories
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


@dataclasses.dataclass(frozen=True)
class Cell:
    """One work item: one optimiser on one (theta, u, W_0[, X]) draw. Cells with the same
    `problem_seed` share that draw across lam and optimisers (common random numbers)."""

    problem_seed: int
    d: int
    lam: float
    n_samples: int
    init_scale: float
    optimiser: str
    lr: float
    steps: int
    lr_decay: float = 1.0


def run_cell(cell: Cell, on_step=None) -> dict:
    """Simulate one (lam, optimiser, draw) cell; returns the per-step statistics."""
    rng = np.random.default_rng(cell.problem_seed)
    problem = make_problem(cell.d, cell.lam, rng, n_samples=cell.n_samples)
    w0 = init_weights(cell.d, cell.d, cell.init_scale, rng)
    return simulate(problem, w0, cell.optimiser, cell.lr, cell.steps, lr_decay=cell.lr_decay, on_step=on_step)


def summarise(traj: dict) -> dict:
    """The numbers the claims use: spike ratio, alignment and escape step of one trajectory."""
    return {
        "max_spike_ratio": float(traj["spike_ratio"].max()),
        "spike_growth": float(traj["spike_ratio"].max() / traj["spike_ratio"][0]),
        "min_cos": float(traj["cos"].min()),
        "min_cos_rel": float(traj["cos"].min() / traj["cos"][0]),
        "escape_step": escape_step(traj["cos"]),
        "final_error": float(traj["error"][-1]),
    }


def problem_seed(cfg: SpecGDConfig, index: int) -> int:
    """The seed of draw `index` of the run (shared by every cell of that index)."""
    return derive_seed(cfg.seed, "problem", index)


def _cells(cfg: SpecGDConfig) -> list[Cell]:
    p = cfg.problem
    return [
        Cell(
            problem_seed(cfg, s),
            p.d,
            float(lam),
            p.n_samples,
            p.init_scale,
            opt,
            getattr(cfg.lr, opt),
            cfg.steps,
        )
        for lam in cfg.lams
        for opt in cfg.optimisers
        for s in range(cfg.num_seeds)
    ]


def _contraction_cells(cfg: SpecGDConfig) -> list[Cell]:
    c, p = cfg.contraction, cfg.problem
    return [
        Cell(problem_seed(cfg, s), p.d, 1.0, 0, p.init_scale, opt, lr, c.steps, decay)
        for opt, lr, decay in (("specgd", c.specgd_lr, c.specgd_decay), ("gd", c.gd_lr, 1.0))
        for s in range(cfg.num_seeds)
    ]


def _simulate_all(cfg: SpecGDConfig, ctx: RunContext, cells: list[Cell]) -> list[dict]:
    if len(cells) == 1:
        ctx.expect_steps(cfg.steps)

        def stream(k, stats):
            if k % cfg.report_every == 0 or k == cfg.steps:
                ctx.report({f"train/{key}": value for key, value in stats.items()}, step=k)

        return [run_cell(cells[0], on_step=stream)]
    return ctx.map(run_cell, cells, name="specgd-cell")


def run(cfg: SpecGDConfig, ctx: RunContext) -> ResultRecord:
    grid = _cells(cfg)
    extra = _contraction_cells(cfg) if cfg.contraction.enabled else []
    trajectories = _simulate_all(cfg, ctx, grid + extra)

    cells: claims_mod.Summaries = {}
    metrics: dict[str, float] = {}
    for cell, traj in zip(grid, trajectories):
        cells.setdefault((cell.optimiser, cell.lam), []).append(summarise(traj))
    for (opt, lam), rows in cells.items():
        means = {f"eval/{opt}/lam{lam:g}/{key}": float(np.mean([r[key] for r in rows])) for key in rows[0]}
        metrics.update(means)
        ctx.report(means)

    if cfg.problem.n_samples > 0:
        claims = claims_mod.finite_sample_claims(cells)
    else:
        claims = claims_mod.population_claims(cells)
    if extra:
        finals = [float(t["error"][-1]) for t in trajectories[len(grid) :]]
        specgd_final, gd_final = finals[: cfg.num_seeds], finals[cfg.num_seeds :]
        metrics["eval/contraction/specgd_final_error"] = float(np.mean(specgd_final))
        metrics["eval/contraction/gd_final_error"] = float(np.mean(gd_final))
        claims += claims_mod.contraction_claims(specgd_final, gd_final)
    if cfg.check_gradients:
        rng = np.random.default_rng(derive_seed(cfg.seed, "checks"))
        numbers = {
            **checks.gradient_errors(cfg.problem.d, 20.0, 200_000, rng),
            **checks.polar_errors(cfg.problem.d, rng),
        }
        metrics.update({f"check/{k}": v for k, v in numbers.items()})
        claims = claims_mod.check_claims(numbers) + claims

    seed0 = [(c, t) for c, t in zip(grid, trajectories) if c.problem_seed == problem_seed(cfg, 0)]
    plot_trajectories(seed0, ctx.artifact("trajectories.png"))
    last = trajectories[0]
    metrics.update(
        {
            "final/error": float(last["error"][-1]),
            "final/cos": float(last["cos"][-1]),
            "final/max_spike_ratio": float(last["spike_ratio"].max()),
        }
    )
    return ctx.result(metrics, claims)
