"""Numerical checks S3-a (gradient) and S3-b (polar factor, Newton-Schulz) (our acceptance checks)."""

from __future__ import annotations

import numpy as np

from raylab.methods.specgd.core import make_problem, polar, population_grad, population_loss, sample_grad


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(float(np.linalg.norm(b)), 1e-300))


def gradient_errors(d: int, lam: float, n_samples: int, rng: np.random.Generator) -> dict[str, float]:
    """S3-a: closed-form population gradient vs torch autograd of the closed-form loss, and vs the
    finite-sample gradient on `n_samples` draws (random W with entries N(0, 0.09 / d))."""
    import torch

    problem = make_problem(d, lam, rng, n_samples=n_samples)
    w = rng.standard_normal((d, d)) * 0.3 / np.sqrt(d)
    closed = population_grad(w, problem.sigma, problem.theta)
    w_t = torch.tensor(w, requires_grad=True)
    population_loss(w_t, torch.tensor(problem.sigma), torch.tensor(problem.theta)).backward()
    assert problem.x is not None and w_t.grad is not None  # n_samples > 0; backward() set the grad
    sampled = sample_grad(w, problem.x, problem.labels)
    return {"autograd_rel_err": rel_err(closed, w_t.grad.numpy()), "sample_rel_err": rel_err(sampled, closed)}


def matrix_with_condition(d: int, cond: float, rng: np.random.Generator) -> np.ndarray:
    u, _ = np.linalg.qr(rng.standard_normal((d, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return u @ np.diag(np.geomspace(1.0, 1.0 / cond, d)) @ v.T


def polar_errors(d: int, rng: np.random.Generator, conds=(1.0, 10.0, 100.0)) -> dict[str, float]:
    """S3-b: exact polar has unit singular values and <polar(G), G> = ||G||_*; torch's Muon
    Newton-Schulz-5 (bf16) keeps singular values within [0.5, 1.5] for cond(G) <= 100."""
    import torch
    from torch.optim._muon import (
        DEFAULT_A,
        DEFAULT_B,
        DEFAULT_C,
        DEFAULT_NS_STEPS,
        EPS,
        _zeropower_via_newtonschulz,
    )

    g = rng.standard_normal((d, d))
    p = polar(g)
    sv = np.linalg.svd(p, compute_uv=False)
    nuclear = np.linalg.svd(g, compute_uv=False).sum()
    ns_min, ns_max = np.inf, -np.inf
    for cond in conds:
        g_cond = torch.tensor(matrix_with_condition(d, cond, rng), dtype=torch.float32)
        ns = _zeropower_via_newtonschulz(g_cond, (DEFAULT_A, DEFAULT_B, DEFAULT_C), DEFAULT_NS_STEPS, EPS)
        ns_sv = np.linalg.svd(ns.float().numpy(), compute_uv=False)
        ns_min, ns_max = min(ns_min, ns_sv.min()), max(ns_max, ns_sv.max())
    return {
        "polar_sv_err": float(np.abs(sv - 1).max()),
        "polar_nuclear_rel_err": abs(float(np.sum(p * g)) - nuclear) / nuclear,
        "ns_sv_min": float(ns_min),
        "ns_sv_max": float(ns_max),
    }
