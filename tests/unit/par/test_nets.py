"""The Gaussian policies: the official PAR IQL form (tanh-squashed, state-dependent std) against
torch's own transformed distribution, and IQL's policy and step-size options."""

import math

import pytest
import torch

from raylab.methods.par.config import IQLConfig
from raylab.methods.par.iql import IQL
from raylab.methods.par.nets import MeanGaussianActor, SquashedGaussianActor


def squashed(max_action: float = 2.0) -> SquashedGaussianActor:
    torch.manual_seed(0)
    return SquashedGaussianActor(3, 2, max_action, hidden=16).double()


def test_squashed_log_prob_is_the_tanh_transformed_gaussian_density():
    actor, obs = squashed(), torch.randn(64, 3, dtype=torch.float64)
    normal = actor._normal(obs)
    reference = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(normal.loc, normal.scale),
        [torch.distributions.TanhTransform(), torch.distributions.AffineTransform(0.0, 2.0)],
    )
    actions = reference.sample()
    actions = actions.clamp(-2 * (1 - 1e-3), 2 * (1 - 1e-3))  # away from the bounds' 1e-6 guards
    # ours drops the constant log(max_action) per dimension, as the official code does; the + 1e-6
    # inside the log moves each dimension's term by at most 1e-6 / (1 - u^2) <= 1e-6 / 2e-3
    expected = reference.log_prob(actions).sum(-1) + 2 * math.log(2.0)
    assert torch.allclose(actor.log_prob(obs, actions), expected, atol=2 * 1e-6 / 2e-3)


def test_squashed_sample_reports_its_own_log_prob_and_stays_inside_the_bounds():
    actor, obs = squashed(), torch.randn(256, 3, dtype=torch.float64)
    actions, log_prob = actor.sample(obs)
    assert actions.abs().max() < 2.0
    inside = (actions.abs() < 2 * (1 - 1e-3)).all(-1)  # where log_prob's clamp to 1 - 1e-6 is inactive
    assert torch.allclose(log_prob[inside], actor.log_prob(obs, actions)[inside], atol=1e-8)
    assert torch.equal(actor(obs), 2.0 * torch.tanh(actor._normal(obs).loc))


def test_the_std_depends_on_the_state_only_in_the_squashed_form():
    obs = torch.randn(8, 3, dtype=torch.float64)
    assert squashed()._normal(obs).scale.std(0).min() > 0
    corl = MeanGaussianActor(3, 2, 2.0, hidden=16)
    assert corl.log_std.shape == (2,)  # one std per action dimension, shared by every state


@pytest.mark.parametrize(
    "policy, actor_class", [("squashed", SquashedGaussianActor), ("corl", MeanGaussianActor)]
)
def test_iql_policy_option_and_cosine_actor_decay(policy, actor_class):
    steps = 20
    learner = IQL(3, 2, 1.0, IQLConfig(hidden=8, policy=policy, actor_lr_decay=True), total_steps=steps)
    assert isinstance(learner.actor, actor_class)
    batch = {
        "observations": torch.randn(16, 3),
        "actions": torch.rand(16, 2) * 2 - 1,
        "rewards": torch.randn(16),
        "next_observations": torch.randn(16, 3),
        "terminals": torch.zeros(16),
    }
    for step in range(steps // 2):
        learner.update(batch, step)
    lr = learner.actor_opt.param_groups[0]["lr"]
    assert lr == pytest.approx(3e-4 * 0.5 * (1 + math.cos(math.pi / 2)), rel=1e-9)  # half way: lr0 / 2
    assert learner.critic_opt.param_groups[0]["lr"] == 3e-4  # only the actor decays
    restored = IQL(3, 2, 1.0, IQLConfig(hidden=8, policy=policy, actor_lr_decay=True), total_steps=steps)
    restored.load_state_dict(learner.state_dict())
    assert restored.actor_schedule.last_epoch == steps // 2


def test_iql_rejects_an_unknown_policy():
    with pytest.raises(ValueError, match="iql.policy"):
        IQLConfig(policy="beta")


def test_polyak_is_the_per_tensor_update_bit_for_bit():
    """theta' <- (1 - tau) theta' + tau theta, done with foreach ops: the same numbers as the loop."""
    from raylab.methods.par.nets import polyak

    torch.manual_seed(0)
    source, target = torch.nn.Linear(5, 3), torch.nn.Linear(5, 3)
    expected = [
        t.detach().clone().mul_(1 - 0.005).add_(s.detach(), alpha=0.005)
        for t, s in zip(target.parameters(), source.parameters())
    ]
    with torch.no_grad():
        polyak(target, source, 0.005)
    assert all(torch.equal(t, e) for t, e in zip(target.parameters(), expected))
    with torch.no_grad():
        polyak(torch.nn.Identity(), torch.nn.Identity(), 0.005)  # no parameters: nothing to do
