"""TD3+BC (Fujimoto & Gu 2021, as in CORL `td3_bc.py` and the PAR code's `agents/TD3_BC.py`) with an
optional ProximalActionReplacer acting on the actor's batch only (arXiv 2602.07441).

Actor losses (`actor_loss`): "mse" = TD3+BC, -lambda Q1(S~, pi) + ||pi - A~||^2, lambda = alpha / mean|Q1|;
toy-only (bandit, from the PAR code's toy_experiments/TD3_BC.py):
  "kl"  (BRAC-like): a behaviour net pi_b fit by MSE to A~; actor -Q1(S~, pi) + 10 alpha ||pi - pi_b(S~)||^2;
  "mle" (AWAC-like): mean(w ||pi - A~||^2), w = min(exp((Q1(S~, A~) - mean Q1) / 2), 20).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from raylab.methods.par.config import TD3BCConfig
from raylab.methods.par.nets import Actor, TwinCritic, frozen_copy, learner_state, load_learner_state, polyak
from raylab.methods.par.replacer import ProximalActionReplacer


class TD3BC:
    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        max_action: float,
        cfg: TD3BCConfig,
        replacer: ProximalActionReplacer | None = None,
        generator: torch.Generator | None = None,
    ):
        self.cfg, self.max_action, self.replacer, self.generator = cfg, max_action, replacer, generator
        self.actor, self.critic = (
            Actor(obs_dim, act_dim, max_action, cfg.hidden),
            TwinCritic(obs_dim, act_dim, cfg.hidden),
        )
        self.actor_target, self.critic_target = frozen_copy(self.actor), frozen_copy(self.critic)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.lr, foreach=True)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.lr, foreach=True)
        self.behaviour = Actor(obs_dim, act_dim, max_action, cfg.hidden) if cfg.actor_loss == "kl" else None
        self.behaviour_opt = (
            torch.optim.Adam(self.behaviour.parameters(), lr=cfg.lr) if self.behaviour else None
        )

    def bellman_target(self, rewards, next_obs, terminals) -> torch.Tensor:
        """y = r + gamma (1 - d) min_i Q'_i(s', clip(pi'(s') + clip(eps)))  (terminations only)."""
        with torch.no_grad():
            next_act = self.actor_target(next_obs)
            noise = torch.randn(next_act.shape, generator=self.generator) * self.cfg.policy_noise
            noise = noise.clamp(-self.cfg.noise_clip, self.cfg.noise_clip)
            next_act = (next_act + noise).clamp(-self.max_action, self.max_action)
            return rewards + self.cfg.gamma * (1.0 - terminals) * torch.min(
                *self.critic_target(next_obs, next_act)
            )

    def update(self, batch: dict, step: int) -> dict:
        """One gradient step; the actor (and PAR) every `policy_freq` steps."""
        target = self.bellman_target(batch["rewards"], batch["next_observations"], batch["terminals"])
        q1, q2 = self.critic(batch["observations"], batch["actions"])
        critic_loss = F.mse_loss(q1, target) + F.mse_loss(q2, target)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()
        loss = float(critic_loss.detach())
        metrics = {"critic_loss": loss}
        if step % self.cfg.policy_freq == 0:
            states, actions = batch["observations"], batch["actions"]
            if self.replacer is not None:
                states, actions, info = self.replacer.mix(
                    states, actions, target, step, loss, self.actor_target, self.generator
                )
                metrics.update(gate_open=float(info.gate_open), replaced=float(info.k), p=info.p)
            metrics["actor_loss"] = self._actor_step(states, actions)
            polyak(self.critic_target, self.critic, self.cfg.tau)
            polyak(self.actor_target, self.actor, self.cfg.tau)
        if self.replacer is not None:
            self.replacer.observe_critic_loss(loss)
        return metrics

    def _actor_step(self, states: torch.Tensor, actions: torch.Tensor) -> float:
        pi = self.actor(states)
        q = self.critic.first(states, pi)
        if self.cfg.actor_loss == "mse":
            loss = -(self.cfg.alpha / q.abs().mean().detach()) * q.mean() + F.mse_loss(pi, actions)
        elif self.cfg.actor_loss == "kl":
            assert self.behaviour is not None and self.behaviour_opt is not None  # made for "kl"
            behaviour_loss = F.mse_loss(self.behaviour(states), actions)
            self.behaviour_opt.zero_grad()
            behaviour_loss.backward()
            self.behaviour_opt.step()
            loss = -q.mean() + 10 * self.cfg.alpha * F.mse_loss(pi, self.behaviour(states).detach())
        else:
            with torch.no_grad():
                q_data = self.critic.first(states, actions)
                weights = torch.exp((q_data - q_data.mean()) / 2).clamp(max=20.0)
            loss = (weights * ((pi - actions) ** 2).sum(-1)).mean()
        self.actor_opt.zero_grad()
        loss.backward()
        self.actor_opt.step()
        return float(loss.detach())

    def state_dict(self) -> dict:
        return learner_state(
            self,
            (
                "actor",
                "critic",
                "actor_target",
                "critic_target",
                "actor_opt",
                "critic_opt",
                "behaviour",
                "behaviour_opt",
                "replacer",
            ),
        )

    def load_state_dict(self, state: dict) -> None:
        load_learner_state(self, state)
