"""IQL (Kostrikov et al. 2021, as in CORL `iql.py`) with optional PAR, as in the PAR code's
`agents/IQL.py` (arXiv 2602.07441): an EMA copy of the actor proposes the synthetic actions (its mean),
the ranking key is r + gamma (1 - d) V(s'), and the AWR weights are recomputed on the mixed batch:
  L_pi = -mean( min(exp(temperature (Q'(S~, A~) - V(S~))), 100) log pi(A~ | S~) ).
Value: expectile regression of min Q'(s, a) - V(s); critics: y = r + gamma (1 - d) V(s').
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from raylab.methods.par.config import IQLConfig
from raylab.methods.par.nets import (
    MeanGaussianActor,
    SquashedGaussianActor,
    TwinCritic,
    frozen_copy,
    learner_state,
    load_learner_state,
    mlp,
    polyak,
)
from raylab.methods.par.replacer import ProximalActionReplacer


class IQL:
    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        max_action: float,
        cfg: IQLConfig,
        replacer: ProximalActionReplacer | None = None,
        generator: torch.Generator | None = None,
        total_steps: int = 1,
    ):
        self.cfg, self.replacer, self.generator = cfg, replacer, generator
        actor_class = SquashedGaussianActor if cfg.policy == "squashed" else MeanGaussianActor
        self.actor = actor_class(obs_dim, act_dim, max_action, cfg.hidden)
        self.critic, self.value = TwinCritic(obs_dim, act_dim, cfg.hidden), mlp(obs_dim, 1, cfg.hidden)
        self.critic_target, self.actor_target = frozen_copy(self.critic), frozen_copy(self.actor)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.lr)
        self.value_opt = torch.optim.Adam(self.value.parameters(), lr=cfg.lr)
        # CORL's option: cosine decay of the actor's step size to 0 over the run
        self.actor_schedule = (
            torch.optim.lr_scheduler.CosineAnnealingLR(self.actor_opt, total_steps)
            if cfg.actor_lr_decay
            else None
        )

    def _v(self, obs: torch.Tensor) -> torch.Tensor:
        return self.value(obs).squeeze(-1)

    def update(self, batch: dict, step: int) -> dict:
        obs, actions = batch["observations"], batch["actions"]
        with torch.no_grad():
            target_q = torch.min(*self.critic_target(obs, actions))
        diff = target_q - self._v(obs)
        value_loss = (torch.abs(self.cfg.expectile - (diff < 0).float()) * diff**2).mean()
        self.value_opt.zero_grad()
        value_loss.backward()
        self.value_opt.step()
        with torch.no_grad():
            y = batch["rewards"] + self.cfg.gamma * (1.0 - batch["terminals"]) * self._v(
                batch["next_observations"]
            )
        q1, q2 = self.critic(obs, actions)
        critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()
        loss = float(critic_loss.detach())
        metrics = {"critic_loss": loss, "value_loss": float(value_loss.detach())}
        if self.replacer is not None:
            obs, actions, info = self.replacer.mix(
                obs, actions, y, step, loss, self.actor_target, self.generator
            )
            metrics.update(gate_open=float(info.gate_open), replaced=float(info.k), p=info.p)
        with torch.no_grad():  # AWR weights on the (mixed) actor batch
            weights = torch.exp(
                self.cfg.temperature * (torch.min(*self.critic_target(obs, actions)) - self._v(obs))
            )
        actor_loss = -(weights.clamp(max=100.0) * self.actor.log_prob(obs, actions)).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()
        if self.actor_schedule is not None:
            self.actor_schedule.step()
        metrics["actor_loss"] = float(actor_loss.detach())
        polyak(self.critic_target, self.critic, self.cfg.tau)
        polyak(self.actor_target, self.actor, self.cfg.tau)
        if self.replacer is not None:
            self.replacer.observe_critic_loss(loss)
        return metrics

    def state_dict(self) -> dict:
        return learner_state(
            self,
            (
                "actor",
                "critic",
                "value",
                "critic_target",
                "actor_target",
                "actor_opt",
                "critic_opt",
                "value_opt",
                "actor_schedule",
                "replacer",
            ),
        )

    def load_state_dict(self, state: dict) -> None:
        load_learner_state(self, state)
