"""`otcfm/proximal_field`: the population OT-CFM field is a proximal operator (B1 and B2's closed
form). These identities hold for any dual weights, so they are recorded as invariants: the run
verifies the implementation, it is not evidence for the paper.

Discrete target: the time-t power diagram recovers the source Laguerre cell, the exact simplex-QP
prox returns that atom, and the field equals x_1 - x_0 along every path. Circle / sphere: the prox
expression Proj_ball(x / t) gives the analytic field inside and outside radius t.
"""

from __future__ import annotations

import numpy as np

from raylab.context import RunContext
from raylab.methods.otcfm import plots
from raylab.methods.otcfm.claims import discrete_claims, duals_claims, sphere_claims
from raylab.methods.otcfm.config import DiscreteTargetConfig, ProximalFieldConfig
from raylab.methods.otcfm.core import brenier_weights, power_index, simplex_qp_prox, sphere_field, sphere_prox
from raylab.methods.otcfm.targets import DiscreteTarget, cell_masses, dirichlet_atoms, solve_duals
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


def make_discrete_target(cfg: DiscreteTargetConfig, seed: int) -> tuple[DiscreteTarget, dict]:
    """The run's discrete target and its duals (fit diagnostics returned beside it)."""
    atoms, masses = dirichlet_atoms(cfg.atoms, np.random.default_rng(derive_seed(seed, "atoms")), cfg.box)
    duals, fit = solve_duals(atoms, masses, np.random.default_rng(derive_seed(seed, "duals")), cfg.mc_points)
    return DiscreteTarget(atoms, masses, duals), fit


def recovery_errors(target: DiscreteTarget, x0: np.ndarray, t: float) -> dict:
    """On x_t = (1-t) x0 + t y_j(x0): power-diagram recovery rate, QP-prox and field errors (B1)."""
    j = target.brenier_index(x0)
    y = target.atoms[j]
    xt = (1 - t) * x0 + t * y
    jt = power_index(xt, target.atoms, target.duals, t)
    prox = simplex_qp_prox(xt, target.atoms, brenier_weights(target.atoms, target.duals), t)
    field = (target.atoms[jt] - xt) / (1 - t)
    return {
        "recovered": float(np.mean(jt == j)),
        "qp_error": float(np.abs(prox - y).max()),
        "field_error": float(np.abs(field - (y - x0)).max()),
    }


def sphere_prox_error(d: int, t: float, n: int, rng: np.random.Generator) -> dict:
    """Largest relative gap between (Proj_ball(x/t) - x)/(1-t) and the analytic field, on points with
    radius uniform in [0, 2] (inside and outside the gap ball |x| <= t)."""
    direction = rng.standard_normal((n, d))
    x = direction / np.linalg.norm(direction, axis=1, keepdims=True) * rng.uniform(0, 2, size=(n, 1))
    prox = (sphere_prox(x, t) - x) / (1 - t)
    exact = sphere_field(x, t)
    gap = np.abs(prox - exact) / np.maximum(1.0, np.abs(exact))
    return {"rel_error": float(gap.max()), "inside": float(np.mean(np.linalg.norm(x, axis=1) <= t))}


def run(cfg: ProximalFieldConfig, ctx: RunContext) -> ResultRecord:
    target, fit = make_discrete_target(cfg.discrete, cfg.seed)
    fresh = np.random.default_rng(derive_seed(cfg.seed, "fresh")).standard_normal((cfg.fresh_points, 2))
    metrics = {
        "duals/fit_cell_mass_error": fit["fit_cell_mass_error"],
        "duals/fresh_cell_mass_error": float(
            np.abs(cell_masses(fresh, target.atoms, target.duals) - target.masses).max()
        ),
    }
    claims = duals_claims(metrics)
    ctx.expect_steps(len(cfg.times) + len(cfg.sphere_dims))
    for step, t in enumerate(cfg.times, 1):
        x0 = np.random.default_rng(derive_seed(cfg.seed, "source", t)).standard_normal((cfg.samples, 2))
        errors = {f"discrete/t{t:g}/{k}": v for k, v in recovery_errors(target, x0, t).items()}
        ctx.report(errors, step=step)
        metrics.update(errors)
        claims += discrete_claims(t, errors)
    for step, d in enumerate(cfg.sphere_dims, len(cfg.times) + 1):
        rng = np.random.default_rng(derive_seed(cfg.seed, "sphere", d))
        worst = max(sphere_prox_error(d, t, cfg.samples, rng)["rel_error"] for t in cfg.times)
        metrics[f"sphere/d{d}/prox_rel_error"] = worst
        ctx.report({f"sphere/d{d}/prox_rel_error": worst}, step=step)
        claims += sphere_claims(d, metrics)
    plots.plot_discrete_field(target, 0.5, cfg.grid, ctx.artifact("discrete_field.png"))
    return ctx.result(metrics, claims)
