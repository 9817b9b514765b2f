"""Maths-first checks of the population OT-CFM field (README, The maths), torchcfm-style: each
test checks an equation directly, with a tolerance from float64 round-off or a sampling error."""

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

from raylab.methods.otcfm.claims import hyperbolicity_claims
from raylab.methods.otcfm.config import HyperbolicityConfig
from raylab.methods.otcfm.core import (
    brenier_weights,
    integrate_rescaled,
    power_index,
    simplex_qp_prox,
    sphere_endpoint,
    sphere_field,
    sphere_prox,
    time_of,
)
from raylab.methods.otcfm.hyperbolicity import gap_flow
from raylab.methods.otcfm.minibatch import exact_coupling
from raylab.methods.otcfm.targets import cell_masses, dirichlet_atoms, solve_duals


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("t", [0.05, 0.5, 0.95])
def test_sphere_prox_expression_is_the_analytic_field_inside_and_outside_radius_t(rng, d, t):
    x = rng.standard_normal((2000, d)) * rng.uniform(0.01, 1.5, size=(2000, 1))
    assert (np.linalg.norm(x, axis=1) <= t).any() and (np.linalg.norm(x, axis=1) > t).any()
    np.testing.assert_allclose((sphere_prox(x, t) - x) / (1 - t), sphere_field(x, t), rtol=1e-12, atol=1e-12)


def test_sphere_field_moves_outside_points_radially_to_the_sphere_by_t_equal_one(rng):
    # x_t = (1 - t) x0 + t x0/|x0| lies outside radius t, and v_t(x_t) = x0/|x0| - x0 (the Brenier map).
    x0 = rng.standard_normal((500, 3))
    for t in (0.1, 0.6, 0.99):
        xt = (1 - t) * x0 + t * x0 / np.linalg.norm(x0, axis=1, keepdims=True)
        expected = x0 / np.linalg.norm(x0, axis=1, keepdims=True) - x0
        np.testing.assert_allclose(sphere_field(xt, t), expected, atol=1e-12)


def test_power_diagram_recovers_the_source_cell_for_any_dual_weights(rng):
    # The identity holds for any v (optimality only fixes the masses), so random v will do.
    atoms, duals = rng.uniform(-2, 2, size=(12, 2)), rng.normal(0, 1.0, size=12)
    x0 = rng.standard_normal((20_000, 2))
    j = power_index(x0, atoms, duals, 0.0)
    for t in (0.01, 0.3, 0.7, 0.999):
        assert np.array_equal(power_index((1 - t) * x0 + t * atoms[j], atoms, duals, t), j)


def _qp_objective(lam, x, atoms, weights, t):
    z = lam @ atoms
    return (1 - t) * lam @ weights + 0.5 * t * z @ z - x @ z


@pytest.mark.parametrize("t", [0.2, 0.6, 0.9])
def test_simplex_qp_prox_is_no_worse_than_a_generic_solver_anywhere_gaps_included(rng, t):
    atoms, duals = rng.uniform(-2, 2, size=(7, 2)), rng.normal(0, 0.5, size=7)
    weights = brenier_weights(atoms, duals)
    x = rng.uniform(-3, 3, size=(40, 2))
    ours = simplex_qp_prox(x, atoms, weights, t)
    for xi, zi in zip(x, ours):
        generic = minimize(
            _qp_objective,
            np.full(7, 1 / 7),
            args=(xi, atoms, weights, t),
            method="SLSQP",
            bounds=[(0, 1)] * 7,
            constraints={"type": "eq", "fun": lambda lam: lam.sum() - 1},
            options={"ftol": 1e-14, "maxiter": 500},
        )
        # F(z) = (1-t) phi*(z) + t|z|^2/2 - <x, z> at our z: no higher than SLSQP's optimum (ftol 1e-14)
        ours_value = (1 - t) * _phi_star(zi, atoms, weights) + 0.5 * t * zi @ zi - xi @ zi
        assert ours_value <= generic.fun + 1e-9


def _phi_star(z, atoms, weights):
    """phi*(z) = min <lambda, w> over lambda in the simplex with Y lambda = z (a small LP)."""
    from scipy.optimize import linprog

    m = len(atoms)
    eq = np.vstack([atoms.T, np.ones((1, m))])
    result = linprog(weights, A_eq=eq, b_eq=np.append(z, 1.0), bounds=[(0, None)] * m)
    assert result.status == 0, "the prox must land in conv supp mu_1"
    return result.fun


def test_rk4_in_rescaled_time_contracts_the_radius_exactly_like_exp_minus_s(rng):
    # dr/ds = 1 - r outside the gap, so r(s) - 1 = exp(-s)(r0 - 1); RK4 at ds = 0.01 errs ~ ds^4.
    x0 = rng.standard_normal((300, 2))
    s, states = integrate_rescaled(x0, sphere_endpoint, 0.0, 5.0, 0.01)
    r0, r5 = np.linalg.norm(x0, axis=1), np.linalg.norm(states[-1], axis=1)
    np.testing.assert_allclose(r5 - 1, np.exp(-5.0) * (r0 - 1), atol=1e-10)
    assert s[-1] == pytest.approx(5.0) and time_of(5.0) == pytest.approx(1 - np.exp(-5.0))


def test_exact_duals_give_the_target_masses_on_fresh_draws(rng):
    atoms, masses = dirichlet_atoms(8, rng)
    duals, fit = solve_duals(atoms, masses, rng, 20_000)
    assert fit["fit_cell_mass_error"] < 2e-3  # ot.emd is exact on its draws (up to ties / 1/N)
    fresh = cell_masses(rng.standard_normal((200_000, 2)), atoms, duals)
    # fit and check samples each add a binomial error sqrt(b(1-b)/N) <= 0.0035 + 0.0011: 5 sd
    np.testing.assert_allclose(fresh, masses, atol=5 * (0.0035 + 0.0011))


def test_exact_coupling_is_the_optimal_permutation(rng):
    x0, x1 = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    sigma = exact_coupling(x0, x1)
    cost = lambda p: ((x0 - x1[list(p)]) ** 2).sum()  # noqa: E731
    assert cost(sigma) == pytest.approx(min(cost(p) for p in itertools.permutations(range(6))))
    assert sorted(sigma) == list(range(6))


# normal_hyperbolicity's metrics of a flow with the exact rates (the gap left to each test)
IDEAL_FLOW = {
    "circle/slope": -1.0,
    "circle/angle_drift": 0.0,
    "von_mises/slope": -1.0,
    "von_mises/normal_ratio": np.exp(-3),
    "von_mises/tangential_ratio": 1.0,
    "von_mises/drift_p99_from_s3": 0.0,
    "von_mises/ks": 0.0,
}


def test_gap_claim_fails_for_a_naive_radial_field(monkeypatch):
    """B6 guards against a field that pulls gap points onto the circle: swap in x/|x| everywhere."""
    import raylab.methods.otcfm.hyperbolicity as hyper

    cfg = HyperbolicityConfig(particles=200, ds=0.05)
    honest = gap_flow(cfg, np.random.default_rng(0))
    naive = lambda x, t: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    monkeypatch.setattr(hyper, "sphere_endpoint", naive)
    pulled = gap_flow(cfg, np.random.default_rng(0))

    def gap_claim(gap):
        found = hyperbolicity_claims(cfg, {**IDEAL_FLOW, "gap/min_distance": gap["min_distance"]})
        return next(c for c in found if c.id == "B6.gap_not_attracted")

    assert gap_claim(honest).passed and not gap_claim(pulled).passed


def test_the_exact_rate_one_contraction_checks_are_invariants_and_the_assignment_checks_claims():
    """On the closed-form field (RK4) and the exact straight paths the normal rate is 1 by
    construction: those checks are recorded as invariants; what depends on the fitted duals'
    assignment (tangential neutrality, drift, KS) and the gap stay claims."""
    metrics = {**IDEAL_FLOW, "gap/min_distance": 1.0}
    kinds = {c.id: c.kind for c in hyperbolicity_claims(HyperbolicityConfig(), metrics)}
    exact = {"B2.normal_rate", "B2.angle_drift", "B5.normal_rate", "B5.normal_ratio"}
    assert {i for i, kind in kinds.items() if kind == "invariant"} == exact
    assert {i for i, kind in kinds.items() if kind == "claim"} == {
        "B5.tangential_neutral",
        "B5.drift",
        "B5.ks",
        "B6.gap_not_attracted",
    }
