"""Checks of the trained-field pieces (B4): couplings, the population field, the ODE sampler, W2."""

import sys

import numpy as np
import pytest
import torch

from raylab.methods.otcfm import flow
from raylab.methods.otcfm.core import sphere_field


def test_our_pairs_use_each_target_point_once_and_the_straight_path_velocity():
    gen = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(64, 2, generator=gen), torch.randn(64, 2, generator=gen)
    t, xt, ut = flow.ours_pairs(x0, x1, gen)
    matched = x0 + ut  # the x1 each x0 is paired with (float32 round-off: atol 1e-6)
    torch.testing.assert_close(
        torch.sort(matched[:, 0]).values, torch.sort(x1[:, 0]).values, atol=1e-6, rtol=0
    )
    torch.testing.assert_close(xt, (1 - t) * x0 + t * matched)
    cost = lambda pairs: ((pairs - x0) ** 2).sum()  # noqa: E731
    assert cost(matched) <= cost(x1) + 1e-5  # no worse than the identity coupling


def test_torchcfm_pairs_resample_the_plan_with_replacement():
    pytest.importorskip("torchcfm")
    from torchcfm.conditional_flow_matching import ExactOptimalTransportConditionalFlowMatcher

    torch.manual_seed(0)
    np.random.seed(0)
    x0, x1 = torch.randn(256, 2), torch.randn(256, 2)
    _, _, ut = flow.torchcfm_pairs(ExactOptimalTransportConditionalFlowMatcher(sigma=0.0))(x0, x1, None)
    # with replacement, about 1 - 1/e of the pairs are distinct
    # (https://github.com/atong01/conditional-flow-matching/issues/142)
    assert len(torch.unique(ut, dim=0)) < 0.8 * len(x0)


def test_torchcfm_plan_sampled_without_replacement_gives_our_coupling_back():
    pytest.importorskip("torchcfm")
    from torchcfm.conditional_flow_matching import ExactOptimalTransportConditionalFlowMatcher

    torch.manual_seed(1)
    np.random.seed(1)
    x0, x1 = torch.randn(128, 2, dtype=torch.float64), torch.randn(128, 2, dtype=torch.float64)
    matcher = ExactOptimalTransportConditionalFlowMatcher(sigma=0.0)
    _, _, theirs = flow.torchcfm_plan_pairs(matcher, replace=False)(x0, x1, None)
    _, _, ours = flow.ours_pairs(x0, x1, torch.Generator().manual_seed(0))
    order = lambda u: u[np.lexsort(u.numpy().T)]  # noqa: E731 - the same pairs, in any order
    assert torch.allclose(order(theirs), order(ours), atol=1e-12)


def test_population_field_of_the_circle_is_the_closed_form_along_the_paths():
    x0 = np.random.default_rng(0).standard_normal((500, 2))
    u = flow.population_field("circle", x0, None)
    for t in (0.25, 0.5, 0.75):
        np.testing.assert_allclose(sphere_field(x0 + t * u, t), u, atol=1e-12)


def test_rk4_sampler_is_exact_for_a_constant_field():
    class Constant(torch.nn.Module):
        def forward(self, x, t):
            return torch.full_like(x, 0.5)

    x0 = torch.randn(10, 2, dtype=torch.float64)
    torch.testing.assert_close(flow.sample_ode(Constant(), x0, 7), x0 + 0.5)


def test_w2_of_a_shifted_cloud_is_the_shift():
    points = np.random.default_rng(1).standard_normal((200, 2))
    assert flow.w2(points, points) == pytest.approx(0.0, abs=1e-9)
    assert flow.w2(points + np.array([3.0, 4.0]), points) == pytest.approx(5.0, rel=1e-9)


def test_train2d_claims_fail_on_disagreement_and_need_two_batch_sizes():
    from raylab.methods.otcfm.claims import trained_field_claims

    summary = {
        ("raylab", "circle", 32, "l2_error"): (0.02, 0.001),
        ("raylab", "circle", 512, "l2_error"): (0.01, 0.001),
        ("raylab", "circle", 512, "w2"): (0.08, 0.01),
        ("torchcfm", "circle", 512, "l2_error"): (0.03, 0.001),  # 14 sd away from ours
    }
    found = {c.id: c for c in trained_field_claims(summary, [32, 512], ["raylab", "torchcfm"])}
    assert found["B4.l2_decreasing"].passed and found["B4.w2"].passed
    assert not found["B4.vs_torchcfm"].passed and found["B4.vs_torchcfm"].value == pytest.approx(
        0.02 / np.hypot(0.001, 0.001)
    )
    single = {c.id for c in trained_field_claims(summary, [512], ["raylab", "torchcfm"])}
    assert "B4.l2_decreasing" not in single
    without = {c.id: c for c in trained_field_claims(summary, [32, 512], ["raylab"])}["B4.vs_torchcfm"]
    assert without.not_judged and "torchcfm is not installed" in without.not_judged and not without.passed
    one_replicate = {k: (mean, 0.0) for k, (mean, _) in summary.items()}
    unjudged = {c.id: c for c in trained_field_claims(one_replicate, [32, 512], ["raylab", "torchcfm"])}[
        "B4.vs_torchcfm"
    ]
    assert unjudged.not_judged == "needs >= 2 replicates"


def test_both_trainers_of_a_replicate_see_the_same_x0_batches(monkeypatch):
    """Our trainer draws t from its own generator and torchcfm's from the global RNG: neither moves
    the batch stream, so the two arms differ only in the coupling and the draws of t."""
    from raylab.methods.otcfm import train2d

    def recording_train(field, sample_batch, pairs, steps, lr, times):
        batches = []
        for _ in range(10):
            x0, x1 = sample_batch()
            pairs(x0, x1, times)
            batches.append(x0)
        return {"x0": torch.stack(batches)}

    def global_rng_pairs(x0, x1, times):  # as torchcfm: t from torch's global RNG
        return torch.rand(len(x0), 1), x0, x1 - x0

    monkeypatch.setattr(train2d.flow, "train", recording_train)
    monkeypatch.setattr(train2d, "evaluate", lambda field, run, shared: {})
    monkeypatch.setattr(train2d.flow, "torchcfm_pairs", lambda matcher: global_rng_pairs)
    monkeypatch.setitem(sys.modules, "torchcfm.conditional_flow_matching", _FakeTorchcfm)
    run = dict(target="circle", batch=16, seed=5, eval_seed=0, steps=10, hidden=8, lr=1e-3)
    run |= dict(eval_times=(0.5,), eval_points=8, ode_steps=4, w2_points=8)
    ours = train2d.train_and_evaluate(train2d.TrainRun(trainer="ours", **run))["x0"]
    theirs = train2d.train_and_evaluate(train2d.TrainRun(trainer="torchcfm", **run))["x0"]
    assert torch.equal(ours, theirs)


class _FakeTorchcfm:
    @staticmethod
    def ExactOptimalTransportConditionalFlowMatcher(sigma):  # noqa: N802 - torchcfm's name
        return None
