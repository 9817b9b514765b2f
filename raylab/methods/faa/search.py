"""Shape search: the exhaustive psi grid (reference) and alternating optimisation (arXiv 2602.23769).

AO (one Eve): w-step = GRQ (optimal for fixed psi); psi-step = gradient ascent on the true R_s with
w fixed, d R_s / d psi by torch autograd, Armijo backtracking so that a step is taken only if it
increases R_s. Both steps never decrease R_s, so the sequence converges (not necessarily globally:
R_s(psi) is multi-modal, hence multi-start).
"""

from __future__ import annotations

import dataclasses
import math

import torch

from raylab.methods.faa.beamforming import grq, secrecy_rate
from raylab.methods.faa.channel import Paths, channel
from raylab.methods.faa.geometry import project, psi_domain


@dataclasses.dataclass(frozen=True)
class System:
    """Everything fixed while searching: array, pattern, power and noise (linear units)."""

    shape: str
    n_v: int
    n_h: int
    wavelength: float
    kappa: float
    power: float
    noise: float
    psi_max: float = math.pi  # |psi| bound (radians); pi = unrestricted

    def channels(self, paths: Paths, psi) -> torch.Tensor:
        return channel(paths, psi, self.shape, self.n_v, self.n_h, self.wavelength, self.kappa)


def psi_grid(shape: str, points: int, psi_max: float = math.pi) -> torch.Tensor:
    """`points` values over the shape's domain; always contains psi = 0 (the rigid array)."""
    low, high, wraps = psi_domain(shape, psi_max)
    grid = torch.linspace(low, high, points + 1 if wraps else points, dtype=torch.float64)
    grid = grid[:-1] if wraps else grid
    return torch.unique(torch.cat([grid, torch.zeros(1, dtype=torch.float64)]))


def grid_search(system: System, paths: Paths, grid: torch.Tensor) -> tuple[float, float, torch.Tensor]:
    """(best GRQ rate, its psi, rates on the grid) for one Eve."""
    h = system.channels(paths, grid)
    rates, _ = grq(h[:, 0], h[:, 1], system.power, system.noise)
    best = int(torch.argmax(rates))
    return float(rates[best]), float(grid[best]), rates


def rate_at(system: System, paths: Paths, psi: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    h = system.channels(paths, psi)
    return secrecy_rate(h[0], h[1:], w, system.noise)


def psi_gradient(system: System, paths: Paths, psi: float, w: torch.Tensor) -> tuple[float, float]:
    """(R_s, d R_s / d psi) at fixed w, by autograd."""
    x = torch.tensor(psi, dtype=torch.float64, requires_grad=True)
    rate = rate_at(system, paths, x, w)
    rate.backward()
    assert x.grad is not None  # backward() set it
    return float(rate.detach()), float(x.grad)


def best_response(system: System, paths: Paths, psi: float) -> tuple[float, torch.Tensor]:
    """The w-step: GRQ at psi, i.e. max_w R_s(w, psi) and its w."""
    h = system.channels(paths, torch.tensor(psi, dtype=torch.float64))
    rate, w = grq(h[0], h[1], system.power, system.noise)
    return float(rate), w


def psi_step(
    system: System,
    paths: Paths,
    psi: float,
    rate: float,
    w: torch.Tensor,
    grad: float,
    step0: float,
    shrink: float = 0.5,
    c: float = 1e-4,
    min_step: float = 1e-12,
):
    """Armijo backtracking along sign(grad) from a first step `step0` (radians).

    `grad` is dR_s/dpsi at fixed w (autograd); by the envelope theorem it is also the gradient of
    max_w R_s. A candidate psi' is judged after its own w-step (GRQ): accepted only if
    max_w R_s(w, psi') >= R + c t |g|. Judging at the old w instead makes the line search zig-zag
    (DEVIATION from a plain fixed-w step: that version hit the 50-iteration cap on 7 of 20 channels).
    Returns (psi', rate', w'); psi itself when no step is accepted.
    """
    if grad == 0.0 or not math.isfinite(grad):
        return psi, rate, w
    step = step0
    while step >= min_step:
        candidate = float(
            project(
                system.shape,
                torch.tensor(psi + step * math.copysign(1.0, grad), dtype=torch.float64),
                system.psi_max,
            )
        )
        new_rate, new_w = best_response(system, paths, candidate)
        if new_rate >= rate + c * step * abs(grad):
            return candidate, new_rate, new_w
        step *= shrink
    return psi, rate, w


def _first_step(grad: float, prev_grad: float | None, moved: float, max_step: float = 0.5) -> float:
    """Secant (1-D quasi-Newton) step |g_k / H| with H = (g_k - g_{k-1}) / (psi_k - psi_{k-1}) when that
    curvature is negative; else `max_step`."""
    if prev_grad is None or moved == 0.0:
        return max_step
    curvature = (grad - prev_grad) / moved
    return min(max_step, abs(grad / curvature)) if curvature < 0 else max_step


def _displacement(system: System, new: float, old: float) -> float:
    """new - old, taken the short way round on the rotation circle."""
    low, high, wraps = psi_domain(system.shape, system.psi_max)
    delta = new - old
    return (delta - low) % (high - low) + low if wraps else delta


def alternating_optimisation(
    system: System, paths: Paths, psi0: float, max_iter: int = 50, tol: float = 1e-6
) -> dict:
    """AO from psi0; returns the final rate, psi, w and the rate after every outer iteration."""
    psi = float(project(system.shape, torch.tensor(psi0, dtype=torch.float64), system.psi_max))
    rate, w = best_response(system, paths, psi)
    history, prev_grad, prev_psi = [rate], None, psi
    for _ in range(max_iter):
        _, grad = psi_gradient(system, paths, psi, w)
        step0 = _first_step(grad, prev_grad, _displacement(system, psi, prev_psi))
        new_psi, rate, w = psi_step(system, paths, psi, rate, w, grad, step0)
        prev_grad, prev_psi, psi = grad, psi, new_psi
        history.append(rate)
        if abs(history[-1] - history[-2]) < tol:
            break
    return {"rate": history[-1], "psi": psi, "w": w, "history": history}


def multistart(system: System, paths: Paths, starts: int, max_iter: int = 50) -> dict:
    """AO from `starts` psi values spread evenly over the domain; the best run."""
    low, high, wraps = psi_domain(system.shape, system.psi_max)
    span = (high - low) / (starts if wraps else max(starts - 1, 1))
    runs = [alternating_optimisation(system, paths, low + i * span, max_iter) for i in range(starts)]
    return max(runs, key=lambda run: run["rate"])
