"""Phase retrieval with a spiked covariance; GD, SpecGD, normalised GD and Muon updates.

Model (our reconstruction of arXiv 2601.22652; the paper's full text was not available):
  x ~ N(0, Sigma), Sigma = I + (lam - 1) u u^T, u orthogonal to theta, ||u|| = ||theta|| = 1,
  teacher y = (theta^T x)^2, student f_W(x) = ||W x||^2 with W in R^{m x d}, M = W^T W.
Pure numpy float64 maths except `MuonStepper`, which drives `torch.optim.Muon`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

METHODS = ("gd", "specgd", "normgd", "muon")


@dataclasses.dataclass(frozen=True)
class PhaseRetrieval:
    """One problem instance: teacher `theta`, spike `u`, covariance `sigma`, optional sample X."""

    theta: np.ndarray
    u: np.ndarray
    sigma: np.ndarray
    x: np.ndarray | None = None  # (n, d) fixed sample; None means the population loss

    @property
    def labels(self) -> np.ndarray:
        return (self.x @ self.theta) ** 2


def make_problem(d: int, lam: float, rng: np.random.Generator, n_samples: int = 0) -> PhaseRetrieval:
    """Random orthonormal (theta, u) and Sigma = I + (lam - 1) u u^T; X ~ N(0, Sigma) if n > 0."""
    basis, _ = np.linalg.qr(rng.standard_normal((d, 2)))
    theta, u = basis[:, 0], basis[:, 1]
    sigma = np.eye(d) + (lam - 1.0) * np.outer(u, u)
    x = None
    if n_samples > 0:
        z = rng.standard_normal((n_samples, d))
        x = z + (np.sqrt(lam) - 1.0) * np.outer(z @ u, u)  # Sigma^{1/2} z
    return PhaseRetrieval(theta, u, sigma, x)


def init_weights(m: int, d: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """W_0 with entries N(0, scale^2 / d) (our reconstruction)."""
    return rng.standard_normal((m, d)) * scale / np.sqrt(d)


def population_loss(w, sigma, theta):
    """L(W) = 1/4 [tr(D Sigma)^2 + 2 tr(D Sigma D Sigma)], D = W^T W - theta theta^T.

    The Gaussian fourth-moment identity applied to 1/4 E[(x^T D x)^2]. Written with `@`, `*` and
    `.sum()` only, so the same code runs on numpy arrays and on torch tensors (for autograd checks).
    """
    d_mat = w.T @ w - theta[:, None] * theta[None, :]
    d_sigma = d_mat @ sigma
    return 0.25 * ((d_mat * sigma.T).sum() ** 2 + 2.0 * (d_sigma * d_sigma.T).sum())


def population_grad(w: np.ndarray, sigma: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """grad_W L = W [tr(D Sigma) Sigma + 2 Sigma D Sigma]  (our reconstruction)."""
    d_mat = w.T @ w - np.outer(theta, theta)
    return w @ (np.sum(d_mat * sigma.T) * sigma + 2.0 * sigma @ d_mat @ sigma)


def sample_grad(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Finite-sample gradient of 1/(4n) sum_i (||W x_i||^2 - y_i)^2:  W X^T diag(r) X / n."""
    residual = np.sum((x @ w.T) ** 2, axis=1) - y
    return w @ ((x.T * residual) @ x) / x.shape[0]


def gradient_fn(problem: PhaseRetrieval) -> Callable[[np.ndarray], np.ndarray]:
    x = problem.x  # (the problem is frozen)
    if x is None:
        return lambda w: population_grad(w, problem.sigma, problem.theta)
    labels = problem.labels
    return lambda w: sample_grad(w, x, labels)


def polar(g: np.ndarray) -> np.ndarray:
    """polar(G) = U V^T for the thin SVD G = U S V^T: the SpecGD direction (exact, not Newton-Schulz)."""
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    return u @ vt


def summary_stats(w: np.ndarray, problem: PhaseRetrieval) -> dict[str, float]:
    """Figure-1 coordinates: signal a, spike b, bulk c, cos(M, theta theta^T), ||M - theta theta^T||_F."""
    theta, u = problem.theta, problem.u
    m_mat = w.T @ w
    a = float(theta @ m_mat @ theta)
    b = float(u @ m_mat @ u)
    d = m_mat.shape[0]
    c = (float(np.trace(m_mat)) - a - b) / (d - 2)
    norm = float(np.linalg.norm(m_mat))
    err = float(np.linalg.norm(m_mat - np.outer(theta, theta)))
    return {"a": a, "b": b, "c": c, "spike_ratio": b / a, "cos": a / norm, "error": err}


class NumpyStepper:
    """W <- W - eta_k * direction(G) for GD (G), SpecGD (polar G) and normalised GD (G / ||G||_F)."""

    DIRECTIONS = {
        "gd": lambda g: g,
        "specgd": polar,
        # A tempting wrong implementation: keeps GD's direction, so the spike still wins.
        "normgd": lambda g: g / max(np.linalg.norm(g), 1e-300),
    }

    def __init__(self, method: str):
        self.direction = self.DIRECTIONS[method]

    def __call__(self, w: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        return w - lr * self.direction(g)


class MuonStepper:
    """`torch.optim.Muon` with weight decay 0, no momentum, no Nesterov: SpecGD via Newton-Schulz-5."""

    def __init__(self, w0: np.ndarray, momentum: float = 0.0):
        import torch

        self.torch = torch
        self.param = torch.nn.Parameter(torch.from_numpy(w0.copy()))
        self.opt = torch.optim.Muon([self.param], lr=1.0, weight_decay=0.0, momentum=momentum, nesterov=False)

    def __call__(self, w: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        with self.torch.no_grad():
            self.param.copy_(self.torch.from_numpy(w))
        self.param.grad = self.torch.from_numpy(g)
        self.opt.param_groups[0]["lr"] = lr
        self.opt.step()
        return self.param.detach().numpy().copy()


def make_stepper(method: str, w0: np.ndarray) -> Callable[[np.ndarray, np.ndarray, float], np.ndarray]:
    if method == "muon":
        return MuonStepper(w0)
    if method in NumpyStepper.DIRECTIONS:
        return NumpyStepper(method)
    raise ValueError(f"unknown optimiser '{method}' (choose from {', '.join(METHODS)})")


def simulate(
    problem: PhaseRetrieval,
    w0: np.ndarray,
    method: str,
    lr: float,
    steps: int,
    lr_decay: float = 1.0,
    on_step: Callable[[int, dict], None] | None = None,
) -> dict[str, np.ndarray]:
    """Run `steps` updates with eta_k = lr * lr_decay^k; summary statistics at every step 0..steps."""
    grad, step = gradient_fn(problem), make_stepper(method, w0)
    w = w0.copy()
    rows = []
    for k in range(steps + 1):
        stats = summary_stats(w, problem)
        rows.append(stats)
        if on_step is not None:
            on_step(k, stats)
        if k < steps:
            w = step(w, grad(w), lr * lr_decay**k)
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def escape_step(cos: np.ndarray, level: float = 0.9) -> float:
    """First step with cos > level, or inf when it never gets there (so "escapes by step T" fails)."""
    above = np.nonzero(cos > level)[0]
    return float(above[0]) if above.size else float("inf")
