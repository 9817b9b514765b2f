"""SDR reference for K >= 1 Eves (arXiv 2602.23769), as one SDP per channel and psi.

max_w min_k (s2 + |h_B^H w|^2) / (s2 + |h_Ek^H w|^2), ||w||^2 <= P. In units P = s2 = 1, relax
W = w w^H >= 0, tr W <= 1, and homogenise (Charnes-Cooper): Z = u W with u = 1 / (1 + tr(B W)) gives

    min tau  s.t.  tau >= u + tr(E_k Z) for all k,  u + tr(B Z) = 1,  tr Z <= u,  Z >= 0,  u >= 0,

whose optimum is 1 / max-min ratio: one solve instead of a bisection. The value is an upper bound of
the true optimum, exact when W is rank one (always for K = 1, Huang-Palomar for K + 1 <= 3
constraints). The optimum lies in span{h_B, h_E1..h_EK}, so Z is (K+1) x (K+1).
"""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np

from raylab import RaylabError

# Tighter than Clarabel's defaults (1e-8): the rates are compared across K to 1e-4 bit/s/Hz.
CLARABEL_TOLERANCES = {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11}


class SDRSolver:
    """Compiled SDPs, one per (span dimension, number of Eves), re-solved with new parameters."""

    def __init__(self):
        self._problems: dict[tuple[int, int], tuple] = {}

    def _problem(self, dim: int, eves: int):
        if (dim, eves) not in self._problems:
            z = cp.Variable((dim, dim), hermitian=True)
            u, tau = cp.Variable(nonneg=True), cp.Variable()
            bob = cp.Parameter((dim, dim), hermitian=True)
            eve_params = [cp.Parameter((dim, dim), hermitian=True) for _ in range(eves)]
            constraints = [z >> 0, u + cp.real(cp.trace(bob @ z)) == 1, cp.real(cp.trace(z)) <= u]
            constraints += [tau >= u + cp.real(cp.trace(e @ z)) for e in eve_params]
            self._problems[(dim, eves)] = (cp.Problem(cp.Minimize(tau), constraints), z, u, bob, eve_params)
        return self._problems[(dim, eves)]

    def solve(self, h_bob: np.ndarray, h_eves: np.ndarray, power: float, noise: float) -> dict:
        """{"bound": SDR rate (bit/s/Hz), "rank_one": rate of the principal-eigenvector beam}.
        The solver's W is projected onto the feasible set; both it and the rank-one
        beam are feasible points of the relaxation, so "bound" is the better of the two."""
        scale = np.sqrt(power / noise)
        basis, _ = np.linalg.qr(np.column_stack([h_bob, *h_eves]) * scale)
        bob = basis.conj().T @ (h_bob * scale)
        eves = [basis.conj().T @ (h * scale) for h in h_eves]
        problem, z, u, bob_p, eve_ps = self._problem(basis.shape[1], len(eves))
        bob_p.value = np.outer(bob, bob.conj())
        for param, e in zip(eve_ps, eves):
            param.value = np.outer(e, e.conj())
        if not self._solved(problem) or u.value is None or u.value <= 0:
            raise RaylabError(f"SDR solver failed (status {problem.status}) for a {len(eves)}-Eve channel")
        values, vectors = np.linalg.eigh(z.value / u.value)
        values = np.clip(values, 0.0, None)
        values /= max(1.0, values.sum())  # project onto {W >= 0, tr W <= 1}
        ratio = lambda quad: min((1 + quad(bob)) / (1 + quad(e)) for e in eves)  # noqa: E731
        bound = ratio(lambda h: float(np.real(h.conj() @ ((vectors * values) @ vectors.conj().T) @ h)))
        unit = vectors[:, -1]
        rank_one = ratio(lambda h: float(np.abs(h.conj() @ unit) ** 2))
        return {
            "bound": max(float(np.log2(max(bound, rank_one))), 0.0),
            "rank_one": max(float(np.log2(rank_one)), 0.0),
        }

    @staticmethod
    def _solved(problem: cp.Problem) -> bool:
        """Clarabel first, SCS if Clarabel breaks down (including its Rust panics)."""
        for solver, options in ((cp.CLARABEL, CLARABEL_TOLERANCES), (cp.SCS, {"eps": 1e-9})):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    problem.solve(solver=solver, **options)
                if problem.status in ("optimal", "optimal_inaccurate"):
                    return True
            except KeyboardInterrupt:
                raise
            except BaseException:  # noqa: BLE001 - SolverError, and Clarabel's pyo3 panics
                continue
        return False
