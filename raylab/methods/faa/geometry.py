"""Flexible antenna array shapes r_n(psi) and element boresights phi_n(psi) (arXiv 2602.23769).

A UPA of N_v x N_h elements in the y-z plane, boresight +x, spacing d. One scalar psi controls the
shape; psi = 0 is the flat UPA for every shape. torch float64 throughout, so d/dpsi comes from
autograd; `psi` may be a tensor of any shape (a grid), the outputs gain an element axis N.
"""

from __future__ import annotations

import math

import torch

SHAPES = ("rigid", "rotation", "bend", "fold")


def flat_coordinates(n_v: int, n_h: int, spacing: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(column offset from the centre in units of d, y_n, z_n) for every element, column-major."""
    cols = torch.arange(1, n_h + 1, dtype=torch.float64).repeat_interleave(n_v)
    rows = torch.arange(1, n_v + 1, dtype=torch.float64).repeat(n_h)
    offset = cols - (n_h + 1) / 2
    return offset, offset * spacing, (2 * rows - n_v - 1) * spacing / 2


def _sinc(x: torch.Tensor) -> torch.Tensor:
    """sin(x)/x, smooth through 0 (torch.sinc is the normalised sin(pi x)/(pi x))."""
    return torch.sinc(x / math.pi)


def array_shape(shape: str, psi: torch.Tensor, n_v: int, n_h: int, spacing: float):
    """Element positions (..., N, 3) and boresight azimuths (..., N) for shape parameter psi (...).

    rotation: the array turns about z by psi.  bend (DEVIATION: our proposal): columns on
    a cylindrical arc of total angle psi, arc length d between columns (psi < 0 bends the other way).
    fold (proposal): a hinge along z at y = 0, wings turned by +-psi/2. rigid ignores psi.
    """
    offset, y, z = flat_coordinates(n_v, n_h, spacing)
    psi = torch.as_tensor(psi, dtype=torch.float64)[..., None]
    zeros = torch.zeros_like(psi * y)
    if shape == "rigid":
        x, y_new, phi = zeros, y + zeros, zeros
    elif shape == "rotation":
        x, y_new, phi = -y * torch.sin(psi), y * torch.cos(psi), psi + zeros
    elif shape == "bend":
        step = psi / max(n_h - 1, 1)  # angle between neighbouring columns
        alpha = offset * step
        # R (cos a - 1) and R sin a with R = d / step, written to stay smooth at psi = 0
        x = -spacing * offset * torch.sin(alpha / 2) * _sinc(alpha / 2)
        y_new = spacing * offset * _sinc(alpha)
        phi = alpha
    elif shape == "fold":
        x = torch.abs(y) * torch.sin(psi / 2)
        y_new = y * torch.cos(psi / 2)
        phi = -torch.sign(y) * psi / 2
    else:
        raise ValueError(f"unknown shape '{shape}' (choose from {', '.join(SHAPES)})")
    positions = torch.stack([x, y_new, z + zeros], dim=-1)
    return positions, phi


def psi_domain(shape: str, psi_max: float = math.pi) -> tuple[float, float, bool]:
    """(low, high, wraps): psi in [-psi_max, psi_max] (radians). Unrestricted rotation (psi_max = pi)
    wraps on [-pi, pi); everything else is clipped to the interval."""
    return -psi_max, psi_max, shape == "rotation" and psi_max >= math.pi


def project(shape: str, psi: torch.Tensor, psi_max: float = math.pi) -> torch.Tensor:
    low, high, wraps = psi_domain(shape, psi_max)
    if wraps:
        return torch.remainder(psi - low, high - low) + low
    return torch.clamp(psi, low, high)
