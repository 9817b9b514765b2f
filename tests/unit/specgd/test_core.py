"""Maths-first checks of the phase-retrieval model and the optimiser updates (checks S3-a/b)."""

import numpy as np
import pytest
import torch

from raylab.methods.specgd import checks
from raylab.methods.specgd.core import (
    MuonStepper,
    escape_step,
    make_problem,
    polar,
    population_grad,
    population_loss,
    simulate,
    summary_stats,
)

D = 20


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_population_loss_matches_monte_carlo(rng):
    # 1/4 E[(x^T D x)^2] by sampling; the std error of the mean sets the 3% tolerance at n = 4e5.
    problem = make_problem(6, 5.0, rng, n_samples=400_000)
    w = rng.standard_normal((6, 6)) * 0.5
    residual = np.sum((problem.x @ w.T) ** 2, axis=1) - problem.labels
    assert 0.25 * np.mean(residual**2) == pytest.approx(
        population_loss(w, problem.sigma, problem.theta), rel=0.03
    )


def test_population_gradient_equals_autograd_and_large_sample(rng):
    errors = checks.gradient_errors(D, 20.0, 200_000, rng)
    assert errors["autograd_rel_err"] < 1e-8  # float64 round-off only
    assert errors["sample_rel_err"] < 0.05  # sampling error ~ 1/sqrt(n) x kurtosis factor


def test_polar_factor_and_newton_schulz(rng):
    errors = checks.polar_errors(D, rng)
    assert errors["polar_sv_err"] < 1e-10
    assert errors["polar_nuclear_rel_err"] < 1e-12  # <polar(G), G> = ||G||_*
    assert 0.5 <= errors["ns_sv_min"] and errors["ns_sv_max"] <= 1.5


def test_gd_linearised_growth_rates_are_1_plus_3eta_lam_eta_and_eta(rng):
    # Near W = sigma I, D ~ -theta theta^T, so one GD step scales W by I + eta (Sigma + 2 theta theta^T):
    # a grows by (1 + 3 eta)^2, b by (1 + lam eta)^2, the bulk c by (1 + eta)^2, up to O(sigma^2).
    lam, eta, sigma = 20.0, 0.05, 1e-4
    problem = make_problem(D, lam, rng)
    w0 = sigma * np.eye(D)
    w1 = w0 - eta * population_grad(w0, problem.sigma, problem.theta)
    s0, s1 = summary_stats(w0, problem), summary_stats(w1, problem)
    assert s1["a"] / s0["a"] == pytest.approx((1 + 3 * eta) ** 2, rel=1e-6)
    assert s1["b"] / s0["b"] == pytest.approx((1 + lam * eta) ** 2, rel=1e-6)
    assert s1["c"] / s0["c"] == pytest.approx((1 + eta) ** 2, rel=1e-6)


@pytest.mark.parametrize("lam", [1.0, 20.0])
def test_specgd_first_step_is_lambda_free(rng, lam):
    # polar(-(sigma)(Sigma + 2 theta theta^T) + O(sigma^3)) = -I: every direction advances by eta.
    problem = make_problem(D, lam, rng)
    w0 = 1e-4 * np.eye(D)
    w1 = w0 - 0.01 * polar(population_grad(w0, problem.sigma, problem.theta))
    np.testing.assert_allclose(w1, (1e-4 + 0.01) * np.eye(D), atol=1e-12)


@pytest.mark.parametrize("method", ["gd", "specgd"])
def test_three_dimensional_invariant_manifold(rng, method):
    # From W_0 = sigma I, M stays in span{theta theta^T, u u^T, P} under both updates
    # (README, Model and optimisers).
    problem = make_problem(D, 5.0, rng)
    theta, u = problem.theta, problem.u
    projector = np.eye(D) - np.outer(theta, theta) - np.outer(u, u)
    w = 1e-3 * np.eye(D)
    for _ in range(40):
        g = population_grad(w, problem.sigma, problem.theta)
        w = w - (0.05 * g if method == "gd" else 0.01 * polar(g))
    s = summary_stats(w, problem)
    m_hat = s["a"] * np.outer(theta, theta) + s["b"] * np.outer(u, u) + s["c"] * projector
    np.testing.assert_allclose(w.T @ w, m_hat, atol=1e-10 * max(1.0, np.abs(w.T @ w).max()))


def test_summary_stats_of_the_teacher():
    theta, u = np.eye(4)[0], np.eye(4)[1]
    problem = make_problem(4, 1.0, np.random.default_rng(0))
    problem = type(problem)(theta, u, problem.sigma)
    s = summary_stats(np.outer(np.eye(4)[0], theta), problem)
    assert (s["a"], s["b"], s["c"], s["cos"], s["error"]) == (1.0, 0.0, 0.0, 1.0, 0.0)


def test_muon_stepper_is_one_newton_schulz_step(rng):
    from torch.optim._muon import DEFAULT_A, DEFAULT_B, DEFAULT_C, EPS, _zeropower_via_newtonschulz

    w, g = rng.standard_normal((D, D)), rng.standard_normal((D, D))
    expected = (
        w
        - 0.1
        * _zeropower_via_newtonschulz(torch.from_numpy(g), (DEFAULT_A, DEFAULT_B, DEFAULT_C), 5, EPS)
        .double()
        .numpy()
    )
    np.testing.assert_allclose(MuonStepper(w)(w, g, 0.1), expected, atol=1e-12)


def test_escape_step():
    assert escape_step(np.array([0.1, 0.5, 0.95, 0.99])) == 2
    assert escape_step(np.array([0.1, 0.5])) == float("inf")


def test_normalised_gd_is_the_wrong_fix(rng):
    # The negative control (normgd in the README): Frobenius-normalised GD keeps GD's direction, so at
    # lam = 20 the spike still dominates (max b/a >> 2), while SpecGD keeps it at its initial level.
    problem = make_problem(50, 20.0, rng)
    w0 = rng.standard_normal((50, 50)) * 1e-3 / np.sqrt(50)
    norm_gd = simulate(problem, w0, "normgd", 0.01, 150)
    spec = simulate(problem, w0, "specgd", 0.01, 150)
    assert norm_gd["spike_ratio"].max() >= 100
    assert spec["spike_ratio"].max() <= 2


def _summaries(escape: float) -> dict:
    """Per-(optimiser, lam) summaries of two seeds in which SpecGD and GD behave as the paper says,
    except that the second seed of every cell escapes at `escape`."""
    row = {
        "max_spike_ratio": 1.0,
        "spike_growth": 1.0,
        "min_cos": 0.1,
        "min_cos_rel": 1.0,
        "final_error": 0.0,
    }
    cells = {}
    for opt in ("gd", "specgd"):
        for lam in (1.0, 3.0, 5.0, 20.0):
            cells[(opt, lam)] = [{**row, "escape_step": 100.0}, {**row, "escape_step": escape}]
    return cells


def test_a_run_that_never_escapes_fails_the_escape_claims():
    from raylab.methods.specgd.claims import population_claims

    ok = {c.id: c for c in population_claims(_summaries(escape=101.0))}
    stuck = {c.id: c for c in population_claims(_summaries(escape=float("inf")))}
    for claim_id in ("S3-c.gd_escape", "S3-c.specgd_escape", "S3-e.specgd_escape_spread"):
        assert ok[claim_id].passed and not stuck[claim_id].passed, claim_id
