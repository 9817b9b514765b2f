"""TD3+BC (Fujimoto & Gu 2021, as in CORL `td3_bc.py` and the PAR code's `agents/TD3_BC.py`) for R
independent replicates at once, each with an optional ProximalActionReplacer acting on its actor's
batch only (arXiv 2602.07441).

Replicates as a batch dimension: every network holds R members (`StackedMLP`), every batch tensor
has a leading replicate axis [R, B, ...] and each replicate's loss is its own mean over its batch.
The summed loss gives each member exactly its own gradient and Adam is elementwise, so replicate r
trains as it would alone: its networks are built right after seeding torch with its init seed, and
its generator alone draws its smoothing noise and PAR's rows.

Actor losses (`actor_loss`): "mse" = TD3+BC, -lambda Q1(S~, pi) + ||pi - A~||^2, lambda = alpha / mean|Q1|;
toy-only (bandit, from the PAR code's toy_experiments/TD3_BC.py):
  "kl"  (BRAC-like): a behaviour net pi_b fit by MSE to A~; actor -Q1(S~, pi) + 10 alpha ||pi - pi_b(S~)||^2;
  "mle" (AWAC-like): mean(w ||pi - A~||^2), w = min(exp((Q1(S~, A~) - mean Q1) / 2), 20).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from torch import nn

from raylab.methods.par.config import ACTOR_LOSSES, TD3BCConfig
from raylab.methods.par.nets import StackedMLP, frozen_copy, mlp, polyak
from raylab.methods.par.replacer import ProximalActionReplacer


class TD3BC:
    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        max_action: float,
        cfg: TD3BCConfig,
        init_seeds: Sequence[int],
        generators: Sequence[torch.Generator],
        replacers: Sequence[ProximalActionReplacer | None] | None = None,
        alphas: Sequence[float] | None = None,
        actor_losses: Sequence[str] | None = None,
    ):
        """One replicate per init seed; `replacers[r]` None trains replicate r without PAR; `alphas`
        and `actor_losses` (default: cfg's, for all) set each replicate's BC trade-off and loss."""
        self.replicates = len(init_seeds)
        if len(generators) != self.replicates:
            raise ValueError(f"TD3BC: {len(generators)} generators for {self.replicates} replicates")
        self.cfg, self.max_action, self.generators = cfg, max_action, list(generators)
        self.replacers = list(replacers) if replacers is not None else [None] * self.replicates
        self.alpha = torch.tensor(list(alphas) if alphas is not None else [cfg.alpha] * self.replicates)
        losses = list(actor_losses) if actor_losses is not None else [cfg.actor_loss] * self.replicates
        if {len(self.replacers), len(self.alpha), len(losses)} != {self.replicates}:
            raise ValueError(f"TD3BC: replacers, alphas and actor_losses need {self.replicates} entries")
        if unknown := set(losses) - set(ACTOR_LOSSES):
            raise ValueError(
                f"TD3BC: unknown actor losses {sorted(unknown)}; choose from {', '.join(ACTOR_LOSSES)}"
            )
        # replicates of each actor loss: a slice when all share it (no gather), else their indices
        self.loss_groups: dict[str, slice | torch.Tensor] = {
            loss: torch.tensor([r for r, own in enumerate(losses) if own == loss])
            for loss in dict.fromkeys(losses)
        }
        if len(self.loss_groups) == 1:
            self.loss_groups = {losses[0]: slice(None)}
        actors, q1s, q2s, behaviours = [], [], [], []
        for seed, loss in zip(init_seeds, losses, strict=True):  # as a lone learner builds them
            torch.manual_seed(seed)
            actors.append(mlp(obs_dim, act_dim, cfg.hidden))
            q1s.append(mlp(obs_dim + act_dim, 1, cfg.hidden))
            q2s.append(mlp(obs_dim + act_dim, 1, cfg.hidden))
            if loss == "kl":
                behaviours.append(mlp(obs_dim, act_dim, cfg.hidden))
        self.actor, self.critic = StackedMLP(actors), StackedMLP(q1s + q2s)  # critic: Q1s, then Q2s
        self.actor_target, self.critic_target = frozen_copy(self.actor), frozen_copy(self.critic)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.lr, foreach=True)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.lr, foreach=True)
        self.behaviour = StackedMLP(behaviours) if behaviours else None
        self.behaviour_opt = (
            torch.optim.Adam(self.behaviour.parameters(), lr=cfg.lr) if self.behaviour else None
        )

    def act(self, obs: torch.Tensor, net: nn.Module | None = None) -> torch.Tensor:
        """max_action tanh(net(s)) for obs [R, B, obs_dim]; the actor by default."""
        return self.max_action * torch.tanh((net or self.actor)(obs))

    def twin_q(self, critic: nn.Module, obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = torch.cat([obs, act], dim=-1)
        return critic(torch.cat([x, x])).squeeze(-1).split(self.replicates)

    def first_q(self, obs: torch.Tensor, act: torch.Tensor, group: slice | torch.Tensor = slice(None)):
        """Q1 of the replicates in `group` (all by default): the critic's first R members."""
        members = slice(0, self.replicates) if isinstance(group, slice) else group
        return self.critic(torch.cat([obs, act], dim=-1), members).squeeze(-1)

    def bellman_target(self, rewards, next_obs, terminals) -> torch.Tensor:
        """y = r + gamma (1 - d) min_i Q'_i(s', clip(pi'(s') + clip(eps)))  (terminations only)."""
        with torch.no_grad():
            next_act = self.act(next_obs, self.actor_target)
            noise = torch.stack([torch.randn(next_act.shape[1:], generator=g) for g in self.generators])
            noise = (noise * self.cfg.policy_noise).clamp(-self.cfg.noise_clip, self.cfg.noise_clip)
            next_act = (next_act + noise).clamp(-self.max_action, self.max_action)
            return rewards + self.cfg.gamma * (1.0 - terminals) * torch.min(
                *self.twin_q(self.critic_target, next_obs, next_act)
            )

    def update(self, batch: dict, step: int) -> list[dict]:
        """One gradient step of every replicate (the actor and PAR every `policy_freq` steps); each
        replicate's metrics."""
        target = self.bellman_target(batch["rewards"], batch["next_observations"], batch["terminals"])
        q1, q2 = self.twin_q(self.critic, batch["observations"], batch["actions"])
        critic_loss = ((q1 - target) ** 2).mean(1) + ((q2 - target) ** 2).mean(1)
        self.critic_opt.zero_grad()
        critic_loss.sum().backward()
        self.critic_opt.step()
        losses = critic_loss.detach().tolist()
        metrics = [{"critic_loss": loss} for loss in losses]
        if step % self.cfg.policy_freq == 0:
            states, actions = self._mix(batch["observations"], batch["actions"], target, step, metrics)
            for replicate, loss in zip(metrics, self._actor_step(states, actions), strict=True):
                replicate["actor_loss"] = loss
            polyak(self.critic_target, self.critic, self.cfg.tau)
            polyak(self.actor_target, self.actor, self.cfg.tau)
        for replacer, loss in zip(self.replacers, losses, strict=True):
            if replacer is not None:
                replacer.observe_critic_loss(loss)
        return metrics

    def _mix(self, states, actions, target, step: int, metrics: list[dict]):
        """Each replicate's actor batch (S~, A~): its replacer's mix, or its batch as sampled."""
        if all(replacer is None for replacer in self.replacers):
            return states, actions
        proposals: list[torch.Tensor] = []  # the target actors' actions, computed once when asked

        def propose(replicate: int, _states: torch.Tensor) -> torch.Tensor:
            if not proposals:
                with torch.no_grad():
                    proposals.append(self.act(states, self.actor_target))
            return proposals[0][replicate]

        mixed = []
        for r, (replacer, replicate) in enumerate(zip(self.replacers, metrics, strict=True)):
            if replacer is None:
                mixed.append((states[r], actions[r]))
                continue
            propose_r = functools.partial(propose, r)
            s, a, info = replacer.mix(
                states[r],
                actions[r],
                target[r],
                step,
                replicate["critic_loss"],
                propose_r,
                self.generators[r],
            )
            replicate.update(gate_open=float(info.gate_open), replaced=float(info.k), p=info.p)
            mixed.append((s, a))
        return torch.stack([s for s, _ in mixed]), torch.stack([a for _, a in mixed])

    def _actor_step(self, states: torch.Tensor, actions: torch.Tensor) -> list[float]:
        pi = self.act(states)
        q = self.first_q(states, pi)
        total, losses = torch.zeros(()), [0.0] * self.replicates
        for kind, group in self.loss_groups.items():
            loss = self._actor_loss(kind, states[group], actions[group], pi[group], q[group], group)
            total = total + loss.sum()
            for r, value in zip(torch.arange(self.replicates)[group].tolist(), loss.tolist(), strict=True):
                losses[r] = value
        self.actor_opt.zero_grad()
        total.backward()
        self.actor_opt.step()
        return losses

    def _actor_loss(self, kind: str, states, actions, pi, q, group) -> torch.Tensor:
        """The actor loss of each replicate in `group` (all with loss `kind`)."""
        alpha = self.alpha[group]
        if kind == "mse":
            return -(alpha / q.abs().mean(1).detach()) * q.mean(1) + ((pi - actions) ** 2).mean((1, 2))
        if kind == "kl":
            assert self.behaviour is not None and self.behaviour_opt is not None  # made for "kl"
            behaviour_loss = ((self.act(states, self.behaviour) - actions) ** 2).mean((1, 2))
            self.behaviour_opt.zero_grad()
            behaviour_loss.sum().backward()
            self.behaviour_opt.step()
            anchor = self.act(states, self.behaviour).detach()
            return -q.mean(1) + 10 * alpha * ((pi - anchor) ** 2).mean((1, 2))
        with torch.no_grad():
            q_data = self.first_q(states, actions, group)
            weights = torch.exp((q_data - q_data.mean(1, keepdim=True)) / 2).clamp(max=20.0)
        return (weights * ((pi - actions) ** 2).sum(-1)).mean(1)

    def state_dict(self) -> dict:
        modules = ("actor", "critic", "actor_target", "critic_target", "actor_opt", "critic_opt")
        state = {name: getattr(self, name).state_dict() for name in modules}
        if self.behaviour is not None and self.behaviour_opt is not None:
            state |= {
                "behaviour": self.behaviour.state_dict(),
                "behaviour_opt": self.behaviour_opt.state_dict(),
            }
        state["replacers"] = [r.state_dict() if r is not None else None for r in self.replacers]
        state["generators"] = [g.get_state() for g in self.generators]
        return state

    def load_state_dict(self, state: dict) -> None:
        for name, value in state.items():
            if name == "replacers":
                for replacer, saved in zip(self.replacers, value, strict=True):
                    if replacer is not None:
                        replacer.load_state_dict(saved)
            elif name == "generators":
                for generator, saved in zip(self.generators, value, strict=True):
                    generator.set_state(saved)
            else:
                getattr(self, name).load_state_dict(value)
