"""Targets mu_1 and the semi-discrete OT duals that make their Brenier maps exact.

A discrete target is (atoms Y [m, d], masses b [m]). Its semi-discrete duals v (cost |x - y|^2,
source N(0, I)) put mass b_j in each Laguerre cell {x : j = argmin_k |x - y_k|^2 - v_k}.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import ot

from raylab.methods.otcfm.core import power_index


@dataclasses.dataclass(frozen=True)
class DiscreteTarget:
    """mu_1 = sum_j b_j delta_{y_j}, with the duals v of its semi-discrete OT from N(0, I)."""

    atoms: np.ndarray  # [m, d]
    masses: np.ndarray  # [m], sums to 1
    duals: np.ndarray  # [m], centred (sum 0)

    def brenier_index(self, x0: np.ndarray) -> np.ndarray:
        """j(x0): the atom the population OT map sends x0 to (its Laguerre cell)."""
        return power_index(x0, self.atoms, self.duals, 0.0)

    def sample_indices(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(len(self.masses), size=n, p=self.masses)


def dirichlet_atoms(m: int, rng: np.random.Generator, box: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """m atoms uniform in [-box, box]^2 with Dirichlet(1, ..., 1) masses (check B1)."""
    return rng.uniform(-box, box, size=(m, 2)), rng.dirichlet(np.ones(m))


def von_mises_circle(m: int, kappa: float) -> tuple[np.ndarray, np.ndarray]:
    """m atoms evenly spaced on the unit circle with masses proportional to exp(kappa cos theta)."""
    theta = 2 * np.pi * np.arange(m) / m
    masses = np.exp(kappa * np.cos(theta))
    return np.stack([np.cos(theta), np.sin(theta)], axis=1), masses / masses.sum()


def uniform_circle(n: int, rng: np.random.Generator) -> np.ndarray:
    theta = rng.uniform(0, 2 * np.pi, size=n)
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def cell_masses(x: np.ndarray, atoms: np.ndarray, duals: np.ndarray) -> np.ndarray:
    """The fraction of the sample x in each Laguerre cell (hard assignment)."""
    return np.bincount(power_index(x, atoms, duals, 0.0), minlength=len(atoms)) / len(x)


def solve_duals(
    atoms: np.ndarray, masses: np.ndarray, rng: np.random.Generator, mc_points: int
) -> tuple[np.ndarray, dict]:
    """Semi-discrete duals from exact OT (POT `ot.emd`, log=True) between `mc_points` draws of N(0, I)
    and the atoms. Its duals satisfy |x_i - y_j|^2 = u_i + v_j on the plan's support, so the Laguerre
    cells of v hold the masses b on the draws (up to 1/mc_points); on fresh draws the error is the
    Monte-Carlo error of the fit, O(mc_points^-1/2). (Fixed-step dual ascent failed at m = 256 and the
    entropic semi-dual with L-BFGS stalled at a 1.7e-2 mass error there: measured for
    check B5; README, Deviations.)
    Returns (centred duals, diagnostics)."""
    x = rng.standard_normal((mc_points, atoms.shape[1]))
    uniform = np.full(mc_points, 1.0 / mc_points)
    _, log = ot.emd(uniform, masses, ot.dist(x, atoms), numItermax=50_000_000, log=True)
    if log["warning"]:
        raise RuntimeError(f"ot.emd did not converge on {mc_points} x {len(atoms)}: {log['warning']}")
    duals = log["v"] - log["v"].mean()
    error = float(np.abs(cell_masses(x, atoms, duals) - masses).max())
    return duals, {"fit_cell_mass_error": error}
