"""Soft actor-critic (Haarnoja et al. 2018, automatic entropy tuning; CleanRL's `sac_continuous_action`
layout) as a fast single-process behaviour-policy trainer for the D4RL-style dataset builder.

Critic: y = r + gamma (1 - d) (min Q'(s', a') - alpha log pi(a' | s')), a' ~ pi(s')          (SAC Eq. 3, 5)
Actor:  L_pi = E[alpha log pi(a | s) - min Q(s, a)], a ~ pi(s) reparameterised               (SAC Eq. 7)
Temperature: L_alpha = E[-alpha (log pi(a | s) + H_target)], H_target = -dim(A)               (SAC v2 Eq. 18)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F

from raylab.methods.par.collect import PolicyCheckpoint, rollout_episodes
from raylab.methods.par.nets import SquashedGaussianActor, TwinCritic, frozen_copy, polyak
from raylab.seeding import derive_seed


@dataclasses.dataclass(frozen=True)
class SACSettings:
    """SAC's usual MuJoCo settings (CleanRL; D4RL's behaviour policies used the same family)."""

    hidden: int = 256  # units per hidden layer (actor, twin critics)
    lr: float = 3e-4  # Adam step size of actor, critics and temperature
    gamma: float = 0.99  # discount factor
    tau: float = 0.005  # Polyak rate of the target critics
    batch: int = 256  # replay minibatch (transitions)
    random_steps: int = 5000  # uniform-action steps before learning starts


class SAC:
    def __init__(self, obs_dim: int, act_dim: int, max_action: float, settings: SACSettings):
        self.settings = settings
        self.actor = SquashedGaussianActor(obs_dim, act_dim, max_action, settings.hidden)
        self.critic = TwinCritic(obs_dim, act_dim, settings.hidden)
        self.critic_target = frozen_copy(self.critic)
        self.log_alpha = torch.zeros(1, requires_grad=True)
        self.target_entropy = -float(act_dim)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=settings.lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=settings.lr)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=settings.lr)

    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        obs, actions = batch["observations"], batch["actions"]
        alpha = self.log_alpha.exp().detach()
        with torch.no_grad():
            next_actions, next_log_prob = self.actor.sample(batch["next_observations"])
            next_q = torch.min(*self.critic_target(batch["next_observations"], next_actions))
            y = batch["rewards"] + self.settings.gamma * (1 - batch["terminals"]) * (
                next_q - alpha * next_log_prob
            )
        q1, q2 = self.critic(obs, actions)
        critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()
        new_actions, log_prob = self.actor.sample(obs)
        actor_loss = (alpha * log_prob - torch.min(*self.critic(obs, new_actions))).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()
        alpha_loss = -(self.log_alpha.exp() * (log_prob.detach() + self.target_entropy)).mean()
        self.alpha_opt.zero_grad()
        alpha_loss.backward()
        self.alpha_opt.step()
        polyak(self.critic_target, self.critic, self.settings.tau)
        return {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item(), "alpha": alpha.item()}


@torch.no_grad()
def actor_action(actor: SquashedGaussianActor, obs: np.ndarray, stochastic: bool) -> np.ndarray:
    """One environment action: a sample (behaviour data, exploration) or the squashed mean (evaluation)."""
    obs_t = torch.as_tensor(obs, dtype=torch.float32)[None]
    return (actor.sample(obs_t)[0] if stochastic else actor(obs_t))[0].numpy()


def train_sac(
    env_id: str,
    env_steps: int,
    every: int,
    out_dir: str | Path,
    eval_episodes: int = 5,
    seed: int = 0,
    settings: SACSettings = SACSettings(),
) -> list[PolicyCheckpoint]:
    """SAC for `env_steps` environment steps (one update each after `random_steps`); the actor saved
    (`actor_<step>.pt`) with its deterministic evaluation return every `every` steps and at the end."""
    import gymnasium as gym

    env = gym.make(env_id)
    space = cast("gym.spaces.Box", env.action_space)  # (gym.make types every space as a plain Space)
    if not np.allclose(space.low, -space.high):
        raise ValueError(f"{env_id}: SAC here needs a symmetric action box, got [{space.low}, {space.high}]")
    torch.manual_seed(derive_seed(seed, "sac", "init"))
    obs_dim, act_dim = cast("gym.spaces.Box", env.observation_space).shape[0], space.shape[0]
    learner = SAC(obs_dim, act_dim, float(space.high[0]), settings)
    buffer = {
        "observations": np.zeros((env_steps, obs_dim), np.float32),
        "actions": np.zeros((env_steps, act_dim), np.float32),
        "rewards": np.zeros(env_steps, np.float32),
        "next_observations": np.zeros((env_steps, obs_dim), np.float32),
        "terminals": np.zeros(env_steps, np.float32),
    }
    rng = np.random.default_rng(derive_seed(seed, "sac", "replay"))
    space.seed(derive_seed(seed, "sac", "random_actions") % 2**31)
    obs, _ = env.reset(seed=derive_seed(seed, "sac", "env") % 2**31)
    out_dir, saved = Path(out_dir), []
    out_dir.mkdir(parents=True, exist_ok=True)
    for step in range(1, env_steps + 1):
        action = (
            space.sample()
            if step <= settings.random_steps
            else actor_action(learner.actor, obs, stochastic=True)
        )
        next_obs, reward, terminated, truncated, _ = env.step(action)
        for key, value in zip(buffer, (obs, action, reward, next_obs, terminated)):
            buffer[key][step - 1] = value
        obs = env.reset()[0] if terminated or truncated else next_obs
        if step > settings.random_steps:
            rows = rng.integers(0, step, settings.batch)
            learner.update({key: torch.as_tensor(values[rows]) for key, values in buffer.items()})
        if step % every == 0 or step == env_steps:
            path = out_dir / f"actor_{step:08d}.pt"
            torch.save(learner.actor.state_dict(), path)
            episodes = rollout_episodes(
                env_id, lambda o: actor_action(learner.actor, o, False), seed, episodes=eval_episodes
            )
            saved.append(
                PolicyCheckpoint(step, str(path), float(np.mean([e["rewards"].sum() for e in episodes])))
            )
    env.close()
    return saved


def sac_policy(checkpoint: PolicyCheckpoint, env_id: str, stochastic: bool, hidden: int = SACSettings.hidden):
    """The action function of a saved SAC actor (for `collect.build_datasets`)."""
    import gymnasium as gym

    env = gym.make(env_id)
    space = cast("gym.spaces.Box", env.action_space)  # (gym.make types every space as a plain Space)
    actor = SquashedGaussianActor(
        cast("gym.spaces.Box", env.observation_space).shape[0], space.shape[0], float(space.high[0]), hidden
    )
    actor.load_state_dict(torch.load(checkpoint.path))
    return lambda obs: actor_action(actor, obs, stochastic)
