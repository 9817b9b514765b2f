"""Directional element pattern and the narrowband multipath / LoS channels of Bob and the Eves.

h_k(psi)[n] = L^{-1/2} sum_l beta_l sqrt(G_E(theta_l, phi_l - phi_n(psi))) exp(-j 2pi/lambda r_n(psi).u_l),
G_E(theta, phi) = 2(1 + kappa) sin^kappa(theta) cos^kappa(phi) on the front half-space |phi| <= pi/2
(arXiv 2602.23769, from the repository's "formula 8"; beta_l ~ CN(0, g0 d^-alpha / L)).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from raylab.methods.faa.geometry import array_shape


@dataclasses.dataclass
class Paths:
    """Propagation paths of U users (Bob first, then the Eves): arrays (U, L)."""

    theta: np.ndarray
    phi: np.ndarray
    gain: np.ndarray  # complex


def draw_paths(
    rng: np.random.Generator, distances: list[float], paths: int, g0: float, alpha: float
) -> Paths:
    """Multipath: theta ~ U[0, pi], phi ~ U[-pi, pi], beta ~ CN(0, g0 d^-alpha / L) per user. Users are
    drawn one after another, so the first users are the same however many Eves follow."""
    draws = []
    for distance in distances:
        std = np.sqrt(g0 * distance ** (-alpha) / paths / 2)
        theta, phi = rng.uniform(0, np.pi, paths), rng.uniform(-np.pi, np.pi, paths)
        draws.append((theta, phi, std * (rng.standard_normal(paths) + 1j * rng.standard_normal(paths))))
    theta, phi, gain = (np.stack(column) for column in zip(*draws))
    return Paths(theta, phi, gain)


def los_paths(theta: list[float], phi: list[float], distances: list[float], g0: float, alpha: float) -> Paths:
    """Pure line of sight: one deterministic path per user (real gain sqrt(g0 d^-alpha))."""
    gain = np.sqrt(g0 * np.asarray(distances, dtype=float) ** (-alpha))[:, None].astype(complex)
    return Paths(np.asarray(theta, float)[:, None], np.asarray(phi, float)[:, None], gain)


def subset(paths: Paths, users: list[int]) -> Paths:
    return Paths(paths.theta[users], paths.phi[users], paths.gain[users])


def pattern_amplitude(theta: torch.Tensor, relative_phi: torch.Tensor, kappa: float) -> torch.Tensor:
    """sqrt(G_E): zero behind the element (cos(relative_phi) < 0)."""
    front = torch.clamp(torch.cos(relative_phi), min=0.0)
    return math.sqrt(2 * (1 + kappa)) * torch.abs(torch.sin(theta)) ** (kappa / 2) * front ** (kappa / 2)


def channel(
    paths: Paths, psi: torch.Tensor, shape: str, n_v: int, n_h: int, wavelength: float, kappa: float
) -> torch.Tensor:
    """Channel vectors (..., U, N), complex128, for shape parameter(s) psi (...)."""
    positions, boresight = array_shape(shape, psi, n_v, n_h, wavelength / 2)  # (..., N, 3), (..., N)
    theta, phi = torch.from_numpy(paths.theta), torch.from_numpy(paths.phi)  # (U, L)
    direction = torch.stack(
        [torch.sin(theta) * torch.cos(phi), torch.sin(theta) * torch.sin(phi), torch.cos(theta)], dim=-1
    )  # (U, L, 3)
    path_delay = torch.einsum("...nx,ulx->...unl", positions, direction)  # (..., U, N, L)
    amplitude = pattern_amplitude(theta[:, None, :], phi[:, None, :] - boresight[..., None, :, None], kappa)
    phase = torch.exp(-1j * (2 * math.pi / wavelength) * path_delay)
    gain = torch.from_numpy(paths.gain)[:, None, :]  # (U, 1, L)
    return (gain * amplitude * phase).sum(dim=-1) / math.sqrt(paths.theta.shape[1])
