"""Solver checks A1 (GRQ optimality, 2x2 reduction, SDR tightness) and A2 (psi gradients)."""

from __future__ import annotations

import numpy as np
import torch

from raylab.methods.faa.beamforming import grq, grq_full, mrt, random_beams, secrecy_rate, zero_forcing
from raylab.methods.faa.channel import draw_paths, los_paths
from raylab.methods.faa.geometry import array_shape, flat_coordinates
from raylab.methods.faa.sdr import SDRSolver
from raylab.methods.faa.search import System, alternating_optimisation, psi_gradient, rate_at


def grq_checks(
    rng: np.random.Generator,
    cases: int,
    n: int = 9,
    power: float = 1.0,
    noise: float = 0.1,
    random_beamformers: int = 10_000,
) -> dict[str, float]:
    """Worst cases over random Gaussian (h_B, h_E): closed form vs log2 lambda_max, 2x2 vs N x N,
    GRQ minus the best of 1e4 random / MRT / ZF beams (>= 0 expected), SDR vs GRQ."""
    sdr, out = (
        SDRSolver(),
        {"rate_vs_lambda": 0.0, "reduced_vs_full": 0.0, "margin_vs_others": np.inf, "sdr_vs_grq": 0.0},
    )
    for _ in range(cases):
        h = torch.from_numpy(rng.standard_normal((2, n)) + 1j * rng.standard_normal((2, n)))
        rate, w = grq(h[0], h[1], power, noise)
        achieved = secrecy_rate(h[0], h[1:], w, noise)
        full, _ = grq_full(h[0].numpy(), h[1].numpy(), power, noise)
        others = torch.cat(
            [
                random_beams(rng, random_beamformers, n, power),
                torch.stack([mrt(h[0], power), zero_forcing(h[0], h[1], power)]),
            ]
        )
        best_other = secrecy_rate(h[0], h[1:].expand(len(others), 1, n), others, noise).max()
        out["rate_vs_lambda"] = max(out["rate_vs_lambda"], abs(float(achieved - rate)))
        out["reduced_vs_full"] = max(out["reduced_vs_full"], abs(float(rate) - full))
        out["margin_vs_others"] = min(out["margin_vs_others"], float(rate - best_other))
        out["sdr_vs_grq"] = max(
            out["sdr_vs_grq"],
            abs(sdr.solve(h[0].numpy(), h[1:].numpy(), power, noise)["bound"] - float(rate)),
        )
    return out


def gradient_check(system: System, rng: np.random.Generator, points: int, step: float = 1e-6) -> float:
    """Worst relative error of autograd dR_s/dpsi (w fixed) against a central difference, at random
    psi on random channels (points where R_s = 0 or the slope is < 1e-3 are skipped)."""
    worst, checked = 0.0, 0
    while checked < points:
        paths = draw_paths(rng, [50.0, 60.0], 10, 1e-4, 2.0)
        psi = float(rng.uniform(-3.0, 3.0))
        w = random_beams(rng, 1, system.n_v * system.n_h, system.power)[0]
        rate, grad = psi_gradient(system, paths, psi, w)
        if rate <= 0 or abs(grad) < 1e-3:
            continue
        up = float(rate_at(system, paths, torch.tensor(psi + step, dtype=torch.float64), w))
        down = float(rate_at(system, paths, torch.tensor(psi - step, dtype=torch.float64), w))
        worst = max(worst, abs(grad - (up - down) / (2 * step)) / abs(grad))
        checked += 1
    return worst


def flat_at_zero(n_v: int, n_h: int, spacing: float) -> float:
    """Largest deviation from the flat UPA at psi = 0 over all shapes."""
    _, y, z = flat_coordinates(n_v, n_h, spacing)
    flat = torch.stack([torch.zeros_like(y), y, z], dim=-1)
    return max(
        float((array_shape(s, torch.tensor(0.0), n_v, n_h, spacing)[0] - flat).abs().max())
        for s in ("rotation", "bend", "fold")
    )


def degenerate_channel(system: System) -> dict[str, float]:
    """Bob straight behind the array (every element's pattern is zero for him at psi = 0): the rate
    must be 0, not NaN, and AO from psi = 0 must stay finite."""
    paths = los_paths([np.pi / 2, np.pi / 2], [np.pi, 0.3], [50.0, 60.0], 1e-4, 2.0)
    run = alternating_optimisation(system, paths, 0.0)
    return {"rate_at_zero": run["history"][0], "finite": float(all(np.isfinite(run["history"])))}
