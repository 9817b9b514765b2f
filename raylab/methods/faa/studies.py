"""Per-channel evaluations, one function per study. A channel (Bob + all Eves) is drawn from
(seed, channel index) only, so every scheme and parameter sees the same channels (common random
numbers), whichever chunk or worker evaluates it."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from raylab.methods.faa.beamforming import grq, mrt, random_beams, secrecy_rate
from raylab.methods.faa.channel import Paths, draw_paths, subset
from raylab.methods.faa.config import FAAConfig
from raylab.methods.faa.sdr import SDRSolver
from raylab.methods.faa.search import System, alternating_optimisation, multistart, psi_grid
from raylab.seeding import derive_seed


def dbm_to_watt(dbm: float) -> float:
    return 10 ** (dbm / 10) * 1e-3


def make_system(cfg: FAAConfig, **changes) -> System:
    s = dataclasses.replace(cfg.system, **changes)
    return System(
        s.shape,
        s.n_v,
        s.n_h,
        s.wavelength,
        s.kappa,
        dbm_to_watt(s.power_dbm),
        dbm_to_watt(s.noise_dbm),
        math.radians(s.psi_max_deg),
    )


def channel_paths(cfg: FAAConfig, index: int) -> Paths:
    """Bob and max(eves) Eves for channel `index` (the first K serve every study with K Eves)."""
    eves = max([cfg.system.num_eves, *cfg.eves])
    rng = np.random.default_rng(derive_seed(cfg.seed, "channel", index))
    distances = [cfg.system.dist_bob] + [cfg.system.dist_eve] * eves
    return draw_paths(rng, distances, cfg.system.paths, 10 ** (cfg.system.g0_db / 10), cfg.system.alpha)


def _grid_channels(system: System, paths: Paths, points: int):
    grid = psi_grid(system.shape, points, system.psi_max)
    return grid, system.channels(paths, grid), int(torch.nonzero(grid == 0)[0])


RATE_KEYS = ("joint", "bf_only", "shape_only", "mrt", "random")  # secrecy rates (bit/s/Hz)
# Where the joint optimum is: |psi*| (degrees) and Bob's / Eve's channel power at psi* relative to psi = 0
# (dB, so that the mean over channels is a geometric mean: at psi = 0 a channel can sit in a pattern null).
# beyond_90: the share of channels whose best rotation exceeds 90 degrees (the array turns to face Bob).
OPTIMUM_KEYS = ("abs_psi_deg", "beyond_90", "bob_gain_db", "eve_gain_db")


def eval_power(cfg: FAAConfig, paths: Paths, index: int) -> dict:
    """Joint (grid + GRQ), beamforming-only (psi=0, GRQ), shape-only (grid, MRT), MRT at psi=0 and
    random (w, psi), for every power; and where the joint optimum psi* sits: |psi*| (degrees) and
    Bob's and Eve's channel power at psi* relative to psi = 0 (what the shape buys)."""
    system = make_system(cfg)
    grid, h, zero = _grid_channels(system, subset(paths, [0, 1]), cfg.grid_points)
    rng = np.random.default_rng(derive_seed(cfg.seed, "random", index))
    pick = int(rng.integers(len(grid)))
    unit_random = random_beams(
        np.random.default_rng(derive_seed(cfg.seed, "beam", index)), 1, h.shape[-1], 1.0
    )[0]
    out: dict[str, list] = {name: [] for name in (*RATE_KEYS, *OPTIMUM_KEYS)}
    gain = (h.abs() ** 2).sum(-1)  # (grid, users): channel power of Bob and Eve at every psi
    for dbm in cfg.powers_dbm:
        power = dbm_to_watt(dbm)
        rates, _ = grq(h[:, 0], h[:, 1], power, system.noise)
        shape_only = secrecy_rate(h[:, 0], h[:, 1:], mrt(h[:, 0], power), system.noise)
        w_random = unit_random * power**0.5
        out["joint"].append(float(rates.max()))
        out["bf_only"].append(float(rates[zero]))
        out["shape_only"].append(float(shape_only.max()))
        out["mrt"].append(float(shape_only[zero]))
        out["random"].append(float(secrecy_rate(h[pick, 0], h[pick, 1:], w_random, system.noise)))
        best = int(rates.argmax())
        out["abs_psi_deg"].append(abs(math.degrees(float(grid[best]))))
        out["beyond_90"].append(float(out["abs_psi_deg"][-1] > 90))
        out["bob_gain_db"].append(10 * math.log10(float(gain[best, 0] / gain[zero, 0])))
        out["eve_gain_db"].append(10 * math.log10(float(gain[best, 1] / gain[zero, 1])))
    return out


def eval_antennas(cfg: FAAConfig, paths: Paths, index: int) -> dict:
    out: dict[str, list] = {"joint": [], "bf_only": []}
    for n_v, n_h in cfg.sizes:
        system = make_system(cfg, n_v=n_v, n_h=n_h)
        grid, h, zero = _grid_channels(system, subset(paths, [0, 1]), cfg.grid_points)
        rates, _ = grq(h[:, 0], h[:, 1], system.power, system.noise)
        out["joint"].append(float(rates.max()))
        out["bf_only"].append(float(rates[zero]))
    return out


def eval_shapes(cfg: FAAConfig, paths: Paths, index: int) -> dict:
    out = {}
    for shape in ["rigid", *cfg.shapes]:
        system = make_system(cfg, shape=shape)
        _, h, _ = _grid_channels(system, subset(paths, [0, 1]), cfg.grid_points if shape != "rigid" else 1)
        out[shape] = float(grq(h[:, 0], h[:, 1], system.power, system.noise)[0].max())
    return out


def best_over_grid_sdr(system: System, h: torch.Tensor, eves: int, sdr: SDRSolver) -> dict:
    """The K-Eve optimum over the grid, by branch and bound: each single-Eve GRQ optimum bounds the
    K-Eve one from above, so psi values are solved (SDR) by decreasing bound until no bound can beat
    the best value found. Returns the SDR bound, the rank-one rate at that psi, and the solve count."""
    bounds = (
        torch.stack([grq(h[:, 0], h[:, 1 + k], system.power, system.noise)[0] for k in range(eves)])
        .min(0)
        .values
    )
    best = {"bound": 0.0, "sdr": 0.0, "rank_one": 0.0, "solves": 0}
    for g in torch.argsort(bounds, descending=True).tolist():
        if float(bounds[g]) <= best["bound"] + 1e-9:
            break
        found = sdr.solve(h[g, 0].numpy(), h[g, 1 : 1 + eves].numpy(), system.power, system.noise)
        best["solves"] += 1
        if found["bound"] > best["bound"]:
            best.update(
                bound=min(found["bound"], float(bounds[g])), sdr=found["bound"], rank_one=found["rank_one"]
            )
    return best


def eval_eves(cfg: FAAConfig, paths: Paths, index: int) -> dict:
    """Optimal rate over the grid for K = 1 (GRQ) and K > 1 (SDR) Eves, same channels and Eves."""
    system = make_system(cfg)
    _, h, _ = _grid_channels(system, paths, cfg.grid_points)
    out: dict[str, list]
    sdr, out = SDRSolver(), {"rate": [], "sdr": [], "rank_one": [], "solves": []}
    for eves in cfg.eves:
        if eves == 1:
            rate = float(grq(h[:, 0], h[:, 1], system.power, system.noise)[0].max())
            found = {"bound": rate, "sdr": rate, "rank_one": rate, "solves": 0}
        else:
            found = best_over_grid_sdr(system, h, eves, sdr)
        out["rate"].append(found["bound"])
        out["sdr"].append(found["sdr"])
        out["rank_one"].append(found["rank_one"])
        out["solves"].append(found["solves"])
    return out


def eval_convergence(cfg: FAAConfig, paths: Paths, index: int) -> dict:
    system = make_system(cfg)
    two = subset(paths, [0, 1])
    grid, h, _ = _grid_channels(system, two, cfg.grid_points)
    single = alternating_optimisation(system, two, 0.0, cfg.ao_iters)
    multi = multistart(system, two, cfg.starts, cfg.ao_iters)
    return {
        "grid": float(grq(h[:, 0], h[:, 1], system.power, system.noise)[0].max()),
        "single": single["rate"],
        "multi": multi["rate"],
        "history": single["history"],
    }


STUDIES = {
    "power": eval_power,
    "antennas": eval_antennas,
    "shapes": eval_shapes,
    "eves": eval_eves,
    "convergence": eval_convergence,
}
