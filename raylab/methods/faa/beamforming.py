"""Beamformers and the secrecy rate for perfect CSI (arXiv 2602.23769).

R_s(w) = [log2(1 + |h_B^H w|^2 / s2) - max_k log2(1 + |h_Ek^H w|^2 / s2)]^+ with ||w||^2 <= P.
For one Eve the optimum is the generalised Rayleigh quotient (GRQ): the principal generalised
eigenvector of (h_B h_B^H + c I, h_E h_E^H + c I), c = s2 / P, with R_s = log2 lambda_max. It lies in
span{h_B, h_E}, so a batched 2x2 problem gives it exactly. For K > 1 Eves, the SDR + bisection
reference (cvxpy) is exact when the relaxation is tight and an upper bound otherwise.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch


def secrecy_rate(h_bob: torch.Tensor, h_eves: torch.Tensor, w: torch.Tensor, noise: float) -> torch.Tensor:
    """R_s for h_bob (..., N), h_eves (..., K, N), w (..., N); never NaN (h_B = 0 gives 0)."""
    bob = torch.abs((h_bob.conj() * w).sum(-1)) ** 2
    eve = (torch.abs((h_eves.conj() * w[..., None, :]).sum(-1)) ** 2).max(dim=-1).values
    return torch.clamp(torch.log2(1 + bob / noise) - torch.log2(1 + eve / noise), min=0.0)


def grq(h_bob: torch.Tensor, h_eve: torch.Tensor, power: float, noise: float):
    """Optimal (rate, w) for one Eve, batched over leading axes, via the exact 2x2 reduction."""
    basis, _ = torch.linalg.qr(torch.stack([h_bob, h_eve], dim=-1))  # (..., N, 2)
    a = basis.conj().transpose(-1, -2) @ h_bob[..., None]  # (..., 2, 1)
    b = basis.conj().transpose(-1, -2) @ h_eve[..., None]
    c = noise / power
    eye = torch.eye(2, dtype=h_bob.dtype)
    mat_a = a @ a.conj().transpose(-1, -2) + c * eye
    chol = torch.linalg.cholesky(b @ b.conj().transpose(-1, -2) + c * eye)
    inv = torch.linalg.inv(chol)
    values, vectors = torch.linalg.eigh(inv @ mat_a @ inv.conj().transpose(-1, -2))
    v = inv.conj().transpose(-1, -2) @ vectors[..., :, -1:]  # (..., 2, 1)
    w = (basis @ v)[..., 0]
    w = w * (power**0.5 / torch.linalg.vector_norm(w, dim=-1, keepdim=True))
    return torch.clamp(torch.log2(values[..., -1]), min=0.0), w


def grq_full(h_bob: np.ndarray, h_eve: np.ndarray, power: float, noise: float):
    """The same optimum from the full N x N Hermitian-definite pencil (scipy.linalg.eigh): a check."""
    c = noise / power
    mat_a = np.outer(h_bob, h_bob.conj()) + c * np.eye(len(h_bob))
    mat_b = np.outer(h_eve, h_eve.conj()) + c * np.eye(len(h_bob))
    values, vectors = scipy.linalg.eigh(mat_a, mat_b)
    w = vectors[:, -1] * np.sqrt(power) / np.linalg.norm(vectors[:, -1])
    return max(float(np.log2(values[-1])), 0.0), w


def mrt(h_bob: torch.Tensor, power: float) -> torch.Tensor:
    """Maximum-ratio transmission to Bob (zero vector when h_B = 0)."""
    norm = torch.linalg.vector_norm(h_bob, dim=-1, keepdim=True)
    return h_bob * (power**0.5 / torch.clamp(norm, min=1e-300))


def zero_forcing(h_bob: torch.Tensor, h_eve: torch.Tensor, power: float) -> torch.Tensor:
    """Bob's channel projected orthogonally to the Eve's, at full power."""
    unit = h_eve / torch.clamp(torch.linalg.vector_norm(h_eve, dim=-1, keepdim=True), min=1e-300)
    return mrt(h_bob - unit * (unit.conj() * h_bob).sum(-1, keepdim=True), power)


def random_beams(rng: np.random.Generator, count: int, n: int, power: float) -> torch.Tensor:
    w = rng.standard_normal((count, n)) + 1j * rng.standard_normal((count, n))
    return torch.from_numpy(w * np.sqrt(power) / np.linalg.norm(w, axis=1, keepdims=True))
