"""Maths checks of the two-layer linear network, its updates and the phase indicators."""

import dataclasses

import numpy as np
import pytest

from raylab.methods.label_noise import claims
from raylab.methods.label_noise.config import DataConfig, LabelNoiseConfig, TrainConfig
from raylab.methods.label_noise.core import (
    Schedule,
    gradients,
    init_params,
    make_task,
    metrics,
    phase_boundaries,
    sam_step,
    sgd_step,
)
from raylab.methods.label_noise.experiment import Condition, make_conditions, run_condition


@pytest.fixture
def setup():
    rngs = [np.random.default_rng(s) for s in range(2)]
    task = make_task(rngs, d=5, n=30, n_test=10)
    a, w = init_params(rngs, m=7, d=5)
    return task, a, w


def loss(a, w, xb, t):
    return 0.5 * np.mean((np.einsum("sbd,smd,sm->sb", xb, w, a) - t) ** 2, axis=1)


def test_gradients_match_central_differences(setup):
    task, a, w = setup
    xb, t = task.x[:, :4], task.y[:, :4] + 0.3
    grad_a, grad_w = gradients(a, w, xb, t)
    h = 1e-6
    for s, j, k in [(0, 0, 0), (1, 3, 2), (0, 6, 4)]:
        wp, wm = w.copy(), w.copy()
        wp[s, j, k] += h
        wm[s, j, k] -= h
        assert grad_w[s, j, k] == pytest.approx(
            (loss(a, wp, xb, t) - loss(a, wm, xb, t))[s] / (2 * h), rel=1e-6
        )
        ap, am = a.copy(), a.copy()
        ap[s, j] += h
        am[s, j] -= h
        assert grad_a[s, j] == pytest.approx((loss(ap, w, xb, t) - loss(am, w, xb, t))[s] / (2 * h), rel=1e-6)


def test_sam_with_zero_radius_is_sgd_and_otherwise_uses_the_perturbed_gradient(setup):
    task, a, w = setup
    xb, t = task.x[:, :1], task.y[:, :1]
    np.testing.assert_allclose(sam_step(a, w, xb, t, 0.1, 0.0)[1], sgd_step(a, w, xb, t, 0.1)[1])
    ga, gw = gradients(a, w, xb, t)
    norm = np.sqrt((ga**2).sum(1) + (gw**2).sum((1, 2)))
    pa, pw = a + 0.05 * ga / norm[:, None], w + 0.05 * gw / norm[:, None, None]
    expected = w - 0.1 * gradients(pa, pw, xb, t)[1]
    np.testing.assert_allclose(sam_step(a, w, xb, t, 0.1, 0.05)[1], expected, rtol=1e-12)


def test_indicators_of_a_rank_one_aligned_network(setup):
    task, a, w = setup
    w = np.einsum("sm,sd->smd", np.ones((2, 7)), task.beta) * 0.5  # every w_j = 0.5 beta*
    a = np.full((2, 7), 2.0 / 7)  # a^T W = beta*^T
    row = metrics(a, w, task)
    np.testing.assert_allclose(row["cos"], 1.0)
    np.testing.assert_allclose(row["inv_stable_rank"], 1.0)
    np.testing.assert_allclose(row["norm"], 0.5)
    np.testing.assert_allclose(row["train_loss"], 0.0, atol=1e-25)


def test_random_init_alignment_is_sqrt_2_over_pi_d():
    # E|cos| of a random direction with a fixed unit vector in d dims ~ sqrt(2 / (pi d)); with
    # 8 x 500 neurons the standard error is ~0.002, so 0.01 is a 5-sigma tolerance.
    rngs = [np.random.default_rng(s) for s in range(8)]
    task = make_task(rngs, d=20, n=5, n_test=5)
    a, w = init_params(rngs, m=500, d=20)
    assert metrics(a, w, task)["cos"].mean() == pytest.approx(np.sqrt(2 / (np.pi * 20)), abs=0.01)


def test_schedule_windows():
    schedule = Schedule(delta=2.0, steps=8, period=2, finish_steps=3)
    assert [schedule.level(k) for k in range(11)] == [2, 2, 0, 0, 2, 2, 0, 0, 0, 0, 0]
    assert schedule.total == 11


def test_phase_boundaries_on_a_synthetic_trace():
    trace = {
        "step": np.array([0, 10, 20, 30]),
        "norm": np.array([[1.0, 0.8, 0.6, 0.5]]),
        "cos": np.array([[0.2, 0.25, 0.3, 0.4]]),
    }
    t_norm, t_align = phase_boundaries(trace)
    assert (t_norm[0], t_align[0]) == (20.0, 30.0)


def c1_item(**train_changes) -> Condition:
    """Config C1 (README, Experiments), cut to the first 5,000 steps (where P1-a is measured)."""
    cfg = LabelNoiseConfig(
        train=dataclasses.replace(TrainConfig(steps=5000), **train_changes),
        data=DataConfig(d=20, n=200, n_test=100),
        num_seeds=3,
        log_every=250,
    )
    return make_conditions(cfg)[0]


def norm_ratio_at_5k(trace) -> np.ndarray:
    return trace["norm"][:, -1] / trace["norm"][:, 0]


def test_fresh_label_noise_passes_phase_one():
    assert norm_ratio_at_5k(run_condition(c1_item())).max() <= 0.6


def test_full_batch_averaging_fails_phase_one():
    # The wrong implementation "average the noisy loss over the whole data set each step": the drift
    # scales like lr * delta^2 / batch, so at batch 200 the norm barely moves in 5k steps.
    assert norm_ratio_at_5k(run_condition(c1_item(batch=200))).min() > 0.9


def test_periodic_claim_measures_each_window():
    trace = {
        "step": np.array([0, 2, 4, 6, 8]),
        "norm": np.array([[1.0, 0.8, 0.799, 0.6, 0.599]]),
        "abs_a": np.array([[0.1, 0.2, 0.2, 0.1, 0.1]]),
    }
    on, off, _ = claims.periodic(trace, period=2, steps=8)
    assert on.passed and on.value == pytest.approx(0.2)  # worst on-window: 1.0 -> 0.8
    worst_off = max((0.8 - 0.799) / 0.8 / 0.2, (0.6 - 0.599) / 0.6 / (1 - 0.6 / 0.799))
    assert off.passed and off.value == pytest.approx(worst_off)


def test_second_layer_claim_fails_when_a_keeps_moving_without_noise():
    steps = np.arange(0, 17)  # period 4: updates 0-3 noisy, 4-7 clean, ...; row k = state after k updates
    noisy_update = (steps > 0) & (((steps - 1) // 4) % 2 == 0)
    moving_on = np.where(noisy_update, 0.05 * (-1.0) ** steps, 0.0)
    settled = {"step": steps, "abs_a": 0.1 + moving_on[None, :]}
    assert claims.a_settles(settled, period=4).max() == pytest.approx(0.0)
    jittery = {"step": steps, "abs_a": 0.1 + 0.05 * (-1.0) ** steps[None, :]}  # never settles
    assert claims.a_settles(jittery, period=4).min() > 0.5


def test_ordering_fails_when_alignment_never_rises():
    from raylab.methods.label_noise.claims import order_ratio

    assert order_ratio(np.array([20.0, 20.0]), np.array([60.0, 50.0])).max() < 0.5
    ratio = order_ratio(np.array([20.0, 20.0]), np.array([60.0, np.inf]))
    assert ratio[0] < 0.5 and ratio[1] == np.inf
    assert order_ratio(np.array([np.inf]), np.array([np.inf]))[0] == np.inf


def test_second_layer_kicks_shrink_w_like_weight_decay_in_expectation():
    """Forced oscillation: E over kicks xi ~ N(0, eps^2 I) of grad_w at a + xi is grad_w(a) + eps^2 W Sigma,
    Sigma = mean_b x_b x_b^T, so each kicked step adds -lr eps^2 W Sigma (why the norm falls)."""
    from raylab.methods.label_noise.core import gradients

    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((1, 5)), rng.standard_normal((1, 5, 3))
    xb, targets = rng.standard_normal((1, 8, 3)), rng.standard_normal((1, 8))
    eps, draws = 0.3, 40_000
    kicks = eps * rng.standard_normal((draws, 5))
    mean = np.mean([gradients(a + k, w, xb, targets)[1] for k in kicks], axis=0)
    sigma = np.einsum("sbd,sbe->sde", xb, xb) / xb.shape[1]
    expected = gradients(a, w, xb, targets)[1] + eps**2 * np.einsum("smd,sde->sme", w, sigma)
    # the Monte-Carlo standard error of the mean is at most 0.0053 per entry here: 0.02 is ~4 sd
    np.testing.assert_allclose(mean, expected, atol=0.02)


def test_teacher_norm_scales_labels_not_the_alignment_metric():
    """The sensitivity knobs: ||beta*|| scales the labels (same draws), |cos(w_j, beta*)| is scale-free,
    init_scale scales both layers' initial weights."""
    unit = make_task([np.random.default_rng(3)], d=6, n=20, n_test=5)
    big = make_task([np.random.default_rng(3)], d=6, n=20, n_test=5, teacher_norm=2.5)
    np.testing.assert_allclose(np.linalg.norm(big.beta), 2.5, rtol=1e-12)
    np.testing.assert_allclose(big.y, 2.5 * unit.y, rtol=1e-12)
    a, w = init_params([np.random.default_rng(4)], m=9, d=6)
    a2, w2 = init_params([np.random.default_rng(4)], m=9, d=6, scale=0.5)
    np.testing.assert_allclose(a2, 0.5 * a, rtol=1e-15)
    np.testing.assert_allclose(w2, 0.5 * w, rtol=1e-15)
    np.testing.assert_allclose(metrics(a, w, big)["cos"], metrics(a, w, unit)["cos"], rtol=1e-12)


def test_a_diverging_run_stops_with_an_error_that_names_the_knobs():
    cfg = LabelNoiseConfig(kind="single", num_seeds=1, log_every=10)
    cfg.train = dataclasses.replace(cfg.train, lr=5.0, steps=200)
    with pytest.raises(FloatingPointError, match="diverged by step .* lower train.lr"):
        with np.errstate(over="ignore", invalid="ignore"):  # the overflow on the way there
            run_condition(make_conditions(cfg)[0])


def test_readme_scale_claims_need_both_phases_in_order():
    steps = np.array([0, 10, 20, 30, 40])
    in_order = {
        "step": steps,
        "norm": np.array([[1.0, 0.6, 0.4, 0.3, 0.2]]),
        "cos": np.array([[0.2, 0.22, 0.25, 0.5, 0.7]]),
        "inv_stable_rank": np.array([[0.1, 0.1, 0.2, 0.6, 0.9]]),
    }
    assert all(c.passed for c in claims.readme_scale(in_order, steps=40))
    no_phase_two = {**in_order, "cos": np.full((1, 5), 0.2), "inv_stable_rank": np.full((1, 5), 0.1)}
    failed = {c.id for c in claims.readme_scale(no_phase_two, steps=40) if not c.passed}
    assert failed == {"R-b.order", "R-c.cos", "R-c.rank"}
