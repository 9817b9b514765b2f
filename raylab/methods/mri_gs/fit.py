"""The zero-shot loop: Gaussians initialised from the thick-slice scan, rendered on the
output grid, degraded by the slice profile, fitted to the scan by Adam; stopped on data consistency.

Arrays here have the thick axis last (experiment.py moves it there and back).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import torch

from raylab.methods.mri_gs.acquisition import degrade, slice_centre, slice_matrix, widen_for_profile
from raylab.methods.mri_gs.config import MriConfig
from raylab.methods.mri_gs.gaussians import Gaussians, init_from_lowres, signal
from raylab.methods.mri_gs.metrics import psnr
from raylab.methods.mri_gs.render import Grid, brick_splat, normalized


@dataclasses.dataclass
class Problem:
    """One scan to super-resolve: its slices and the output grid."""

    lowres: torch.Tensor  # (X, Y, n_lr) in [0, 1]
    factor: int

    @property
    def hr_shape(self) -> tuple[int, int, int]:
        x, y, n = self.lowres.shape
        return (x, y, n * self.factor)

    def matrix(self, profile: str) -> torch.Tensor:
        return slice_matrix(self.hr_shape[2], self.factor, profile, self.lowres.dtype, self.lowres.device)


def initial_gaussians(problem: Problem, cfg: MriConfig) -> Gaussians:
    s, i = cfg.signal, cfg.init
    return init_from_lowres(
        problem.lowres,
        problem.factor,
        step=i.step,
        sigma_inplane=i.sigma_inplane,
        sigma_thick=i.sigma_thick,
        rotations=i.rotations,
        signal_model=s.model,
        t1_ms=s.t1_ms,
        t2_ms=s.t2_ms,
        tr_ms=s.tr_ms,
        te_ms=s.te_ms,
    )


def signals(g: Gaussians, cfg: MriConfig) -> torch.Tensor:
    return signal(g.tissue, cfg.signal.model, cfg.signal.tr_ms, cfg.signal.te_ms)


def render(g: Gaussians, cfg: MriConfig, grid: Grid) -> torch.Tensor:
    """The normalized-aggregation volume of `g` on `grid` (brick rasterizer)."""
    r = cfg.render
    ones = torch.ones(g.count, dtype=g.means.dtype, device=g.means.device)
    num, den = brick_splat(g.means, g.whitening(), signals(g, cfg), ones, grid, r.brick, r.cutoff, r.chunk)
    return normalized(num, den, r.eps)


def predict_slices(
    g: Gaussians, problem: Problem, cfg: MriConfig, matrix
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(predicted low-resolution slices, the output volume rendered on the way, or None with the
    shortcut, which renders the slices directly from Gaussians widened by the profile)."""
    if not cfg.shortcut:
        volume = render(g, cfg, Grid(problem.hr_shape))
        return degrade(volume, matrix), volume
    f, r = problem.factor, cfg.render
    whiten, amplitude = widen_for_profile(g.covariances(), f)
    grid = Grid(tuple(problem.lowres.shape), (0.0, 0.0, slice_centre(0, f)), (1.0, 1.0, float(f)))
    num, den = brick_splat(g.means, whiten, signals(g, cfg), amplitude, grid, r.brick, r.cutoff, r.chunk)
    return normalized(num, den, r.eps), None


def make_optimizer(g: Gaussians, cfg: MriConfig) -> torch.optim.Adam:
    t = cfg.train
    rates = {"means": t.lr_means, "log_scales": t.lr_scales, "quats": t.lr_rotations, "tissue": t.lr_tissue}
    return torch.optim.Adam([{"params": [p], "lr": rates[name]} for name, p in g.fields().items()])


def densify(g: Gaussians, centre_grad: torch.Tensor, cfg: MriConfig) -> Gaussians:
    """3DGS-style adaptive control: split the `densify_fraction` of Gaussians with the largest
    accumulated centre gradients into two, half a standard deviation either side along their longest
    axis, scales / 1.6; remove those whose largest scale fell below `prune_scale`.
    # DEVIATION: [R] Kerbl et al.'s split rule; the paper's control is unknown. Adam restarts."""
    t = cfg.train
    with torch.no_grad():
        keep = g.log_scales.max(1).values > math.log(t.prune_scale)
        count = int(t.densify_fraction * g.count)
        split = torch.zeros_like(keep)
        if count:
            split[torch.topk(centre_grad * keep, count).indices] = True
        longest = g.log_scales.argmax(1)
        axis = g.rotations()[torch.arange(g.count), :, longest]  # (N, 3) column of the longest axis
        shift = 0.5 * torch.exp(g.log_scales.max(1).values)[:, None] * axis
        fields = {name: t.detach() for name, t in g.fields().items()}
        parts = [{name: t[keep & ~split] for name, t in fields.items()}]
        for sign in (1.0, -1.0):
            child = {name: t[split] for name, t in fields.items()}
            child["means"] = child["means"] + sign * shift[split]
            child["log_scales"] = child["log_scales"] - math.log(1.6)
            parts.append(child)
        merged = {name: torch.cat([part[name] for part in parts]) for name in fields}
    leaves = {name: t.requires_grad_(True) for name, t in merged.items()}
    return Gaussians(leaves["means"], leaves["log_scales"], leaves.get("quats"), leaves["tissue"])


def fit(
    problem: Problem, cfg: MriConfig, report: Callable | None = None, truth: torch.Tensor | None = None
) -> dict:
    """Fit Gaussians to `problem.lowres`. `truth` (simulate mode) is only monitored, never used to stop.
    Returns the Gaussians, the output volume, the per-step history and the seconds taken."""
    t = cfg.train
    g, matrix = initial_gaussians(problem, cfg), problem.matrix(cfg.profile)
    optimizer = make_optimizer(g, cfg)
    history, best, since_best, centre_grad = [], -math.inf, 0, torch.zeros(g.count, device=g.means.device)
    start = time.perf_counter()
    for step in range(t.iterations):
        predicted, volume = predict_slices(g, problem, cfg, matrix)
        loss = torch.mean((predicted - problem.lowres) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert g.means.grad is not None  # loss.backward() set it
        centre_grad += g.means.grad.norm(dim=1)
        row = {"step": step, "loss": loss.item(), "dc_psnr": psnr(predicted.detach(), problem.lowres)}
        if truth is not None and volume is not None:
            row["hr_psnr"] = psnr(volume.detach(), truth)  # monitoring only
        row |= {"gaussians": g.count, "seconds": time.perf_counter() - start}
        history.append(row)
        if report:
            report(row, step)
        since_best = 0 if row["dc_psnr"] > best + 0.01 else since_best + 1
        best = max(best, row["dc_psnr"])
        if row["dc_psnr"] >= t.stop_db or since_best >= t.patience:
            break
        if t.densify_every and (step + 1) % t.densify_every == 0 and step + 1 < 0.8 * t.iterations:
            g = densify(g, centre_grad, cfg)
            optimizer, centre_grad = make_optimizer(g, cfg), torch.zeros(g.count, device=g.means.device)
    with torch.no_grad():
        volume = render(g, cfg, Grid(problem.hr_shape))
    return {"gaussians": g, "volume": volume, "history": history, "seconds": time.perf_counter() - start}
