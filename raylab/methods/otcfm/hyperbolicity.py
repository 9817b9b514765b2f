"""`otcfm/normal_hyperbolicity`: after the time change s = -log(1 - t) the OT-CFM flow contracts
normal to the target manifold at rate 1 and is neutral along it (checks B2, B5, B6).

B2: uniform circle, closed-form field, RK4 in s. B5: a von Mises circle of atoms with exact duals;
particles follow the exact straight paths x(s) = y_j + exp(-s)(x0 - y_j). B6: particles inside the
gap disk |x| <= t are not attracted (the one-sidedness caveat).
"""

from __future__ import annotations

import numpy as np

from raylab.context import RunContext
from raylab.methods.otcfm import plots
from raylab.methods.otcfm.claims import hyperbolicity_claims
from raylab.methods.otcfm.config import HyperbolicityConfig
from raylab.methods.otcfm.core import (
    integrate_rescaled,
    log_slope,
    power_index,
    sphere_endpoint,
    straight_paths,
)
from raylab.methods.otcfm.targets import solve_duals, von_mises_circle
from raylab.records import ResultRecord
from raylab.seeding import derive_seed

RECORD_DS = 0.05  # spacing of the recorded s grid


def _angle(x: np.ndarray) -> np.ndarray:
    return np.arctan2(x[..., 1], x[..., 0])


def _wrapped(delta: np.ndarray) -> np.ndarray:
    return np.abs((delta + np.pi) % (2 * np.pi) - np.pi)


def _at(s: np.ndarray, value: float) -> int:
    return int(np.argmin(np.abs(s - value)))


def circle_flow(cfg: HyperbolicityConfig, x0: np.ndarray) -> dict:
    """B2: median | |x| - 1 | against s, its log-slope on [fit_from, fit_to], the largest angle drift."""
    every = max(1, int(round(RECORD_DS / cfg.ds)))
    s, states = integrate_rescaled(x0, sphere_endpoint, 0.0, cfg.s_end, cfg.ds, every)
    distance = np.median(np.abs(np.linalg.norm(states, axis=-1) - 1.0), axis=1)
    window = (s >= cfg.fit_from - 1e-9) & (s <= cfg.fit_to + 1e-9)
    return {
        "s": s,
        "distance": distance,
        "slope": log_slope(s[window], distance[window]),
        "angle_drift": float(_wrapped(_angle(states) - _angle(x0)[None]).max()),
    }


def gap_flow(cfg: HyperbolicityConfig, rng: np.random.Generator) -> dict:
    """B6: particles with |x| <= gap_fill * t at t = gap_time, integrated to s_end with the prox field."""
    direction = rng.standard_normal((cfg.particles, 2))
    radius = rng.uniform(0, cfg.gap_fill * cfg.gap_time, size=(cfg.particles, 1))
    x = direction / np.linalg.norm(direction, axis=1, keepdims=True) * radius
    _, states = integrate_rescaled(x, sphere_endpoint, -np.log1p(-cfg.gap_time), cfg.s_end, cfg.ds, 10**9)
    final = np.linalg.norm(states[-1], axis=1)
    return {"min_distance": float((1.0 - final).min()), "max_radius": float(final.max())}


def atom_circle_flow(cfg: HyperbolicityConfig, x0: np.ndarray, rng: np.random.Generator) -> dict:
    """B5 on the von Mises circle of atoms: normal rate, tangential neutrality, drift and the KS
    distance between where the particles end and the target masses."""
    atoms, masses = von_mises_circle(cfg.atoms, cfg.kappa)
    duals, fit = solve_duals(atoms, masses, rng, cfg.mc_points)
    index = power_index(x0, atoms, duals, 0.0)
    s = np.arange(0.0, cfg.s_end + RECORD_DS / 2, RECORD_DS)
    paths = straight_paths(x0, atoms[index], s)
    normal = np.abs(np.linalg.norm(paths, axis=-1) - 1.0)
    distance = np.median(normal, axis=1)
    window = (s >= 1.0 - 1e-9) & (s <= 5.0 + 1e-9)
    s3, s6, s1 = _at(s, 3.0), _at(s, 6.0), _at(s, 1.0)
    spacing = 2 * np.pi / cfg.atoms
    theta, final = _angle(paths), _angle(atoms[index])
    order = rng.permutation(len(x0))
    a, b = order[: len(x0) // 2], order[len(x0) // 2 :]
    separation3 = _wrapped(theta[s3, a] - theta[s3, b])
    pairs = (separation3 >= 5 * spacing) & (separation3 <= 20 * spacing)
    separation6 = _wrapped(theta[s6, a] - theta[s6, b])
    empirical = np.bincount(index, minlength=cfg.atoms) / len(x0)
    return {
        "s": s,
        "distance": distance,
        "slope": log_slope(s[window], distance[window]),
        "normal_ratio": float(np.median(normal[s6] / normal[s3])),
        "tangential_ratio": float(np.median(separation6[pairs] / separation3[pairs])),
        "pairs": float(pairs.sum()),
        "drift_p99_from_s3": float(np.quantile(_wrapped(final - theta[s3]), 0.99) / spacing),
        "drift_p99_from_s1": float(np.quantile(_wrapped(final - theta[s1]), 0.99) / spacing),
        "ks": float(np.abs(np.cumsum(empirical) - np.cumsum(masses)).max()),
        "fit_cell_mass_error": fit["fit_cell_mass_error"],
    }


def run(cfg: HyperbolicityConfig, ctx: RunContext) -> ResultRecord:
    x0 = np.random.default_rng(derive_seed(cfg.seed, "particles")).standard_normal((cfg.particles, 2))
    ctx.expect_steps(3)
    circle = circle_flow(cfg, x0)
    ctx.report({"circle/slope": circle["slope"]}, step=1)
    gap = gap_flow(cfg, np.random.default_rng(derive_seed(cfg.seed, "gap")))
    ctx.report({"gap/min_distance": gap["min_distance"]}, step=2)
    atom = atom_circle_flow(cfg, x0, np.random.default_rng(derive_seed(cfg.seed, "duals")))
    ctx.report({"von_mises/slope": atom["slope"]}, step=3)
    metrics = {
        "circle/slope": circle["slope"],
        "circle/angle_drift": circle["angle_drift"],
        **{f"gap/{k}": v for k, v in gap.items()},
        **{f"von_mises/{k}": v for k, v in atom.items() if k not in ("s", "distance")},
    }
    curves = {
        "uniform circle (RK4)": (circle["s"], circle["distance"]),
        "von Mises atoms": (atom["s"], atom["distance"]),
    }
    plots.plot_normal_distance(curves, ctx.artifact("normal_distance.png"))
    return ctx.result(metrics, hyperbolicity_claims(cfg, metrics))
