"""Maths checks of the FAA model: geometry, GRQ optimality, SDR tightness, gradients, AO (A1-A3)."""

import math

import numpy as np
import pytest
import torch

from raylab.methods.faa import checks
from raylab.methods.faa.beamforming import grq, secrecy_rate
from raylab.methods.faa.channel import draw_paths
from raylab.methods.faa.geometry import array_shape
from raylab.methods.faa.search import System, alternating_optimisation

D = 0.015  # lambda / 2 at 10 GHz
SYSTEM = System("rotation", 3, 3, 0.03, 4.0, 1e-2, 1e-11)


def test_every_shape_is_the_flat_upa_at_zero():
    assert checks.flat_at_zero(3, 3, D) == 0.0


@pytest.mark.parametrize("shape", ["rotation", "bend", "fold"])
def test_neighbouring_columns_keep_their_spacing(shape):
    # rotation is rigid; bend keeps arc length d (chord 2 (d/step) sin(step/2)); fold keeps the
    # distance to the hinge column on each wing.
    psi = torch.tensor(1.1, dtype=torch.float64)
    positions, _ = array_shape(shape, psi, 1, 4, D)
    gaps = torch.linalg.vector_norm(positions[1:] - positions[:-1], dim=-1)
    step = 1.1 / 3
    expected = 2 * (D / step) * math.sin(step / 2) if shape == "bend" else D
    if shape == "fold":  # 4 columns: y = -1.5d, -0.5d, 0.5d, 1.5d; the middle pair straddles the hinge
        torch.testing.assert_close(gaps[[0, 2]], torch.full((2,), D, dtype=torch.float64))
    else:
        torch.testing.assert_close(gaps, torch.full((3,), expected, dtype=torch.float64))


def test_grq_is_optimal_and_matches_the_full_pencil_and_sdr():
    found = checks.grq_checks(np.random.default_rng(0), cases=5, random_beamformers=2000)
    assert found["rate_vs_lambda"] <= 1e-9 and found["reduced_vs_full"] <= 1e-9
    assert found["margin_vs_others"] >= -1e-9
    assert found["sdr_vs_grq"] <= 1e-3


@pytest.mark.parametrize("shape", ["rotation", "bend", "fold"])
def test_autograd_gradient_matches_central_differences(shape):
    system = System(shape, 3, 3, 0.03, 4.0, 1e-2, 1e-11)
    assert checks.gradient_check(system, np.random.default_rng(1), points=5) < 1e-4


def test_degenerate_bob_gives_zero_not_nan():
    found = checks.degenerate_channel(SYSTEM)
    assert found["finite"] == 1.0 and 0.0 <= found["rate_at_zero"] <= 1e-12
    h = torch.zeros(2, 9, dtype=torch.complex128)
    h[1, 0] = 1.0
    rate, w = grq(h[0], h[1], 1.0, 0.1)
    assert float(rate) <= 1e-12 and torch.isfinite(w).all()
    assert float(secrecy_rate(h[0], h[1:], w, 0.1)) == 0.0


def test_ao_is_monotone_and_converges():
    rng = np.random.default_rng(2)
    for _ in range(3):
        run = alternating_optimisation(SYSTEM, draw_paths(rng, [50.0, 60.0], 10, 1e-4, 2.0), 0.0)
        history = np.array(run["history"])
        assert np.all(np.diff(history) >= -1e-9)
        assert len(history) - 1 < 50


def test_sdr_with_more_eves_is_bounded_by_each_single_eve_optimum():
    from raylab.methods.faa.sdr import SDRSolver

    rng = np.random.default_rng(3)
    h = rng.standard_normal((4, 9)) + 1j * rng.standard_normal((4, 9))
    singles = [float(grq(torch.from_numpy(h[0]), torch.from_numpy(h[k]), 1.0, 0.1)[0]) for k in (1, 2, 3)]
    sdr = SDRSolver()
    rates = [sdr.solve(h[0], h[1 : 1 + k], 1.0, 0.1) for k in (1, 2, 3)]
    assert rates[0]["bound"] == pytest.approx(singles[0], abs=1e-4)  # tight for one Eve
    for k, found in enumerate(rates, start=1):
        assert found["bound"] <= min(singles[:k]) + 1e-4  # a max-min of ratios
        assert found["rank_one"] <= found["bound"] + 1e-9
    assert rates[2]["bound"] <= rates[1]["bound"] + 1e-4 <= rates[0]["bound"] + 2e-4


def test_a6_is_judged_on_the_unclipped_sdr_values():
    from raylab.methods.faa.claims import eve_claims

    # The reported rate is clipped to the single-Eve optimum; an SDR that returned more than that
    # for two Eves (impossible for the true optimum) must fail A6.
    sound = [{"rate": [2.0, 1.5], "sdr": [2.0, 1.5], "rank_one": [2.0, 1.5]}]
    wrong = [{"rate": [2.0, 2.0], "sdr": [2.0, 2.3], "rank_one": [2.0, 2.0]}]
    assert {c.id: c.passed for c in eve_claims(sound)}["A6.eves"]
    assert not {c.id: c.passed for c in eve_claims(wrong)}["A6.eves"]
