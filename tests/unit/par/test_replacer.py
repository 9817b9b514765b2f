"""PAR's replacer: schedule, ranking, pool, gate, critic untouched."""

import math

import pytest
import torch

from raylab.methods.par.config import TD3BCConfig
from raylab.methods.par.replacer import ProximalActionReplacer
from raylab.methods.par.td3bc import TD3BC


def batch(size: int = 8, obs: int = 3, act: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(size, obs, generator=g), torch.randn(size, act, generator=g)


def test_schedule_is_zero_before_start_then_linear_to_p_max():
    par = ProximalActionReplacer(t_start=100, t_total=300, p_min=0.1, p_max=0.5)
    assert par.ratio(0) == 0.0 and par.ratio(99) == 0.0
    assert par.ratio(100) == pytest.approx(0.1) and par.ratio(200) == pytest.approx(0.3)
    assert par.ratio(300) == pytest.approx(0.5) and par.ratio(10_000) == pytest.approx(0.5)


def test_top_k_keeps_the_largest_keys_and_k_zero_leaves_the_batch_untouched():
    states, actions = batch(10)
    proposals = lambda s: torch.full((len(s), 2), 7.0)  # noqa: E731
    par = ProximalActionReplacer(0, 10, 0.3, 0.3, gate="off")
    mixed_s, mixed_a, info = par.mix(states, actions, torch.arange(10.0), 5, 1.0, proposals)
    assert info.k == 3 and info.gate_open
    torch.testing.assert_close(mixed_s[:7], states[[9, 8, 7, 6, 5, 4, 3]])  # the 7 largest keys, kept
    assert torch.all(mixed_a[7:] == 7.0)  # 3 pool rows
    zero = ProximalActionReplacer(0, 10, 0.0, 0.0, gate="off")
    same_s, same_a, info = zero.mix(states, actions, torch.arange(10.0), 5, 1.0, proposals)
    assert info.k == 0 and same_s is states and same_a is actions


def test_k_is_capped_by_the_pool_and_the_pool_is_a_fifo_of_detached_target_actions():
    target = torch.nn.Linear(3, 2)
    online = torch.nn.Linear(3, 2)
    assert not torch.equal(target.weight, online.weight)
    par = ProximalActionReplacer(0, 100, 1.0, 1.0, pool_size=20, gate="off")
    for step in range(3):
        states, actions = batch(8, seed=step)
        _, _, info = par.mix(states, actions, torch.zeros(8), step, 1.0, target)
    assert info.k == 8 and len(par.pool_states) == 20  # 24 pushed, the last 20 kept
    newest, _ = batch(8, seed=2)
    torch.testing.assert_close(par.pool_states[-8:], newest)
    torch.testing.assert_close(par.pool_actions[-8:], target(newest).detach())
    assert not par.pool_actions.requires_grad
    first = ProximalActionReplacer(0, 100, 1.0, 1.0, pool_size=20, gate="off")
    _, _, info = first.mix(*batch(8), torch.zeros(8), 0, 1.0, target)
    assert info.k == 8  # pool filled before drawing


def test_lifetime_gate_closes_on_a_loss_spike_for_that_step_only():
    par = ProximalActionReplacer(t_start=2, t_total=100, p_min=0.5, p_max=0.5, beta=1.5)
    for loss in (1.0, 1.0, 1.0):
        par.observe_critic_loss(loss)
    states, actions = batch(8)
    closed_s, closed_a, info = par.mix(states, actions, torch.zeros(8), 4, 10.0, lambda s: s[:, :2])
    assert not info.gate_open and closed_s is states and par.pool_states is None  # nothing pushed
    par.observe_critic_loss(10.0)  # increment clipped at 1.5 Lbar
    assert par.loss_mean == pytest.approx(1.0 * 3 / 4 + 1.5)
    _, _, info = par.mix(states, actions, torch.zeros(8), 6, 1.0, lambda s: s[:, :2])
    assert info.gate_open and info.k == 4
    assert not ProximalActionReplacer(10, 100).gate_open(5, 0.0)  # never before t_start


def test_windowed_gate_follows_a_rising_loss_where_the_lifetime_mean_lags():
    lifetime, window = (
        ProximalActionReplacer(0, 10, gate="lifetime_mean"),
        ProximalActionReplacer(0, 10, gate="window", window=10),
    )
    for step in range(300):
        loss = 1.0 + step / 10  # the critic loss keeps rising
        for par in (lifetime, window):
            par.observe_critic_loss(loss)
    assert not lifetime.gate_open(300, 31.0) and window.gate_open(300, 31.0)


def test_the_critic_gradient_is_the_same_with_par_on_and_off():
    """Same networks, same batch, same noise: PAR (gate open, pool full) changes only the actor step."""
    states, actions = batch(16)
    data = {
        "observations": states[None],
        "actions": actions[None],
        "rewards": torch.randn(1, 16),
        "next_observations": states.flip(0)[None],
        "terminals": torch.zeros(1, 16),
    }
    replacer = ProximalActionReplacer(0, 8, 0.5, 0.5, gate="off")
    with_par = TD3BC(3, 2, 1.0, TD3BCConfig(hidden=16), [0], [torch.Generator().manual_seed(1)], [replacer])
    for step in range(4):
        with_par.update(data, step)
    without = TD3BC(3, 2, 1.0, TD3BCConfig(hidden=16), [0], [torch.Generator()])
    without.load_state_dict({k: v for k, v in with_par.state_dict().items() if k != "replacers"})
    grads = {}
    for name, learner in (("on", with_par), ("off", without)):
        learner.generators[0].manual_seed(7)
        learner.critic_opt.step = lambda learner=learner, name=name: grads.setdefault(
            name, [p.grad.clone() for p in learner.critic.parameters()]
        )
        (metrics,) = learner.update(data, 4)
    # step 4 updates the actor (policy_freq 2), so the replacer has filled its pool by then
    assert math.isfinite(metrics["actor_loss"]) and len(replacer.pool_states) > 0
    assert len(grads["on"]) == len(grads["off"]) > 0
    for x, y in zip(grads["on"], grads["off"], strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
