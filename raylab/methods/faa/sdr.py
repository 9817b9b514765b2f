"""SDR + bisection reference for K >= 1 Eves (brief 1.4, option a).

max_w min_k (s2 + |h_B^H w|^2) / (s2 + |h_Ek^H w|^2), ||w||^2 <= P, relaxed to W = w w^H >= 0:
for a target gamma, find W >= 0, tr W <= 1, 1 + tr(H_B W) >= gamma (1 + tr(H_Ek W)) for all k (in units
where P = s2 = 1), and bisect on gamma. Exact when the relaxation is tight (rank one), an upper bound
otherwise. The optimum lies in span{h_B, h_E1..h_EK}, so W is (K+1) x (K+1).
"""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np


class SDRSolver:
    """Compiled feasibility problems, one per (span dimension, number of Eves), reused across solves."""

    def __init__(self, tol: float = 1e-6, max_iter: int = 60):
        self.tol, self.max_iter = tol, max_iter
        self._problems: dict[tuple[int, int], tuple] = {}

    def _problem(self, dim: int, eves: int):
        if (dim, eves) not in self._problems:
            w = cp.Variable((dim, dim), hermitian=True)
            bob = cp.Parameter((dim, dim), hermitian=True)
            scaled_eves = [cp.Parameter((dim, dim), hermitian=True) for _ in range(eves)]   # gamma H_Ek
            gamma = cp.Parameter(nonneg=True)
            constraints = [w >> 0, cp.real(cp.trace(w)) <= 1]
            constraints += [1 + cp.real(cp.trace(bob @ w)) >= gamma + cp.real(cp.trace(e @ w)) for e in scaled_eves]
            self._problems[(dim, eves)] = (cp.Problem(cp.Minimize(0), constraints), w, bob, scaled_eves, gamma)
        return self._problems[(dim, eves)]

    def rate(self, h_bob: np.ndarray, h_eves: np.ndarray, power: float, noise: float) -> tuple[float, float]:
        """(secrecy rate bound in bit/s/Hz, rank-one gap lambda_2 / lambda_1 of the last feasible W)."""
        scale = np.sqrt(power / noise)
        basis, _ = np.linalg.qr(np.column_stack([h_bob, *h_eves]) * scale)
        bob = basis.conj().T @ (h_bob * scale)
        eves = [basis.conj().T @ (h * scale) for h in h_eves]
        problem, w, bob_p, eve_ps, gamma = self._problem(basis.shape[1], len(eves))
        bob_p.value = np.outer(bob, bob.conj())
        low, high, gap = 1.0, 1.0 + float(np.vdot(bob, bob).real), 0.0
        for _ in range(self.max_iter):
            if high - low <= self.tol * low:
                break
            mid = 0.5 * (low + high)
            gamma.value = mid
            for param, e in zip(eve_ps, eves):
                param.value = mid * np.outer(e, e.conj())
            achieved = self._achieved(problem, w, bob, eves) if self._solved(problem) else None
            if achieved is not None and achieved >= mid * (1 - 1e-9):
                low = max(mid, min(achieved, high))
                eig = np.linalg.eigvalsh(w.value)
                gap = float(eig[-2] / max(eig[-1], 1e-300)) if len(eig) > 1 else 0.0
            else:
                high = mid
        return float(np.log2(low)), gap

    @staticmethod
    def _solved(problem: cp.Problem) -> bool:
        """Clarabel first, SCS if Clarabel breaks down."""
        for solver in (cp.CLARABEL, cp.SCS):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    problem.solve(solver=solver)
                return problem.status in ("optimal", "optimal_inaccurate")
            except KeyboardInterrupt:
                raise
            except BaseException:  # noqa: BLE001 - SolverError, and Clarabel's Rust panics (pyo3)
                continue
        return False

    @staticmethod
    def _achieved(problem, w, bob: np.ndarray, eves: list[np.ndarray]) -> float:
        """The ratio min_k (1 + b^H W b) / (1 + e_k^H W e_k) that the solver's W really attains once
        projected onto {W >= 0, tr W <= 1}: a solver's "feasible" is only trusted with this
        certificate (inaccurate solutions otherwise overstate the rate)."""
        values, vectors = np.linalg.eigh(w.value)
        values = np.clip(values, 0.0, None)
        values /= max(1.0, values.sum())
        psd = (vectors * values) @ vectors.conj().T
        quad = lambda h: float(np.real(h.conj() @ psd @ h))  # noqa: E731
        return min((1 + quad(bob)) / (1 + quad(e)) for e in eves)
