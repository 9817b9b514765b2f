"""Baselines run beside the Gaussians on the same input: nearest, trilinear and cubic
B-spline interpolation along the thick axis with slice-centre-aware coordinates, and an implicit
neural representation (SIREN) fitted through the same forward model."""

from __future__ import annotations

import math
import time
from typing import Literal, cast

import numpy as np
import torch
from scipy import ndimage

from raylab.methods.mri_gs.acquisition import degrade
from raylab.methods.mri_gs.metrics import psnr

SplineOrder = Literal[0, 1, 2, 3, 4, 5]
INTERPOLATIONS: dict[str, SplineOrder] = {"nearest": 0, "trilinear": 1, "cubic": 3}


def interpolate(lowres: np.ndarray, factor: int, order: SplineOrder, n_hr: int | None = None) -> np.ndarray:
    """Upsample the last axis: output voxel j reads the input at (j - (f-1)/2) / f (slice centres), so
    a constant-in-z volume and the slice positions are reproduced exactly; edges repeat the end slice.
    `order` 1 is trilinear (linear in z, identity in-plane), 3 the cubic B-spline."""
    n_hr = n_hr or lowres.shape[2] * factor
    z = (np.arange(n_hr) - (factor - 1) / 2) / factor
    x, y = np.arange(lowres.shape[0]), np.arange(lowres.shape[1])
    coords = np.stack(np.meshgrid(x, y, z, indexing="ij")).astype(np.float64)
    return ndimage.map_coordinates(lowres, coords, order=order, mode="nearest")


class Siren(torch.nn.Module):
    """x -> sin(w0 (W x + b)) layers, SIREN initialisation (Sitzmann et al. 2020), linear output."""

    def __init__(self, width: int = 64, depth: int = 3, w0: float = 30.0):
        super().__init__()
        sizes = [3] + [width] * depth
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.out = torch.nn.Linear(width, 1)
        self.w0 = w0
        with torch.no_grad():
            for i, layer in enumerate(self.layers):
                bound = 1 / sizes[i] if i == 0 else np.sqrt(6 / sizes[i]) / w0
                cast(torch.nn.Linear, layer).weight.uniform_(-bound, bound)  # (a ModuleList holds Modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.sin(self.w0 * layer(x))
        return self.out(x)[:, 0]


PLATEAU_DB = 0.01  # a SIREN step "gains" when data consistency rises by at least this much


def fit_inr(
    lowres: torch.Tensor,
    matrix: torch.Tensor,
    hr_shape: tuple[int, int, int],
    *,
    iterations: int,
    lr: float,
    width: int,
    seed: int,
    truth: torch.Tensor | None = None,
    patience: int = 0,
    max_seconds: float = math.inf,
) -> dict:
    """Fit a SIREN to the low-resolution slices through the slice matrix (full-batch Adam).
    It stops after `iterations` steps, once `max_seconds` have passed, or (`patience` > 0) at its
    plateau: `patience` steps without a PLATEAU_DB gain in data consistency; `stop` says which.
    Returns the high-resolution volume, the seconds and steps taken and (with `truth`) the PSNR after
    each step with its elapsed time, for time-to-equal-PSNR comparisons."""
    torch.manual_seed(seed)
    net = Siren(width).to(lowres.dtype)
    axes = [torch.linspace(-1, 1, n, dtype=lowres.dtype) for n in hr_shape]
    coords = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    curve, start, stop = [], time.perf_counter(), "iterations"
    best_db, steps_without_gain, steps = -math.inf, 0, 0
    for _ in range(iterations):
        steps += 1
        volume = net(coords).reshape(hr_shape)
        loss = torch.mean((degrade(volume, matrix) - lowres) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if truth is not None:
            curve.append((time.perf_counter() - start, psnr(volume.detach(), truth)))
        consistency_db = -10 * math.log10(max(loss.item(), 1e-30))
        if consistency_db >= best_db + PLATEAU_DB:
            best_db, steps_without_gain = consistency_db, 0
        else:
            steps_without_gain += 1
        if patience and steps_without_gain >= patience:
            stop = "plateau"
            break
        if time.perf_counter() - start >= max_seconds:
            stop = "time"
            break
    seconds = time.perf_counter() - start
    with torch.no_grad():
        volume = net(coords).reshape(hr_shape)
    return {"volume": volume, "seconds": seconds, "steps": steps, "stop": stop, "curve": curve}


def seconds_to_reach(curve: list[tuple[float, float]], target_db: float) -> float | None:
    """First elapsed time at which a (seconds, PSNR) curve reaches `target_db`; None if it never does."""
    return next((seconds for seconds, value in curve if value >= target_db), None)
