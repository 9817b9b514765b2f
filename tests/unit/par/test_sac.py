"""The SAC behaviour-policy trainer: the temperature moves towards the target entropy; a short run on
Pendulum saves loadable checkpoints whose actions fill the environment's bounds."""

import numpy as np
import pytest
import torch

from raylab.methods.par.collect import PolicyCheckpoint
from raylab.methods.par.sac import SAC, SACSettings, sac_policy, train_sac


def batch(n: int = 64) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "observations": torch.randn(n, 3, generator=g),
        "actions": torch.rand(n, 1, generator=g) * 4 - 2,
        "rewards": torch.randn(n, generator=g),
        "next_observations": torch.randn(n, 3, generator=g),
        "terminals": torch.zeros(n),
    }


@pytest.mark.parametrize("log_std, direction", [(-6.0, 1), (0.0, -1)])
def test_temperature_rises_when_the_policy_is_too_certain_and_falls_when_too_random(log_std, direction):
    """L_alpha = -alpha (log pi + H_target), H_target = -1: d/d log alpha = -alpha (log pi - 1), so
    log alpha grows iff the entropy -log pi is below the target (Adam's first step is lr sign(grad)).
    Entropy of tanh(N(0, s^2)): log s + 1.42 + E log(1 - tanh^2) ~ -4.6 at log s = -6, ~ +0.55 at 0
    (a wider Gaussian saturates tanh and loses entropy again)."""
    torch.manual_seed(0)
    learner = SAC(3, 1, 2.0, SACSettings(hidden=16))
    with torch.no_grad():  # last layer: mean 0, log std fixed, for every state
        last = learner.actor.trunk[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.0, log_std]))
    learner.update(batch())
    assert learner.log_alpha.item() == pytest.approx(direction * 3e-4, rel=1e-3)


def test_short_pendulum_run_saves_checkpoints_that_load_and_act_inside_the_bounds(tmp_path):
    settings = SACSettings(hidden=16, batch=32, random_steps=200)
    saved = train_sac("Pendulum-v1", 400, 200, tmp_path, eval_episodes=1, settings=settings)
    assert [c.iteration for c in saved] == [200, 400]
    assert all(np.isfinite(c.eval_return) and c.eval_return < 0 for c in saved)
    policy = sac_policy(PolicyCheckpoint(400, saved[-1].path, 0.0), "Pendulum-v1", True, hidden=16)
    actions = np.array([policy(np.array([1.0, 0.0, 0.0], np.float32)) for _ in range(200)])
    assert actions.shape == (200, 1) and np.abs(actions).max() <= 2.0
    assert np.abs(actions).max() > 1.0  # the tanh sample is rescaled to Pendulum's [-2, 2]
