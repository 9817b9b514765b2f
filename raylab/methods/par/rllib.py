"""Everything of PAR that builds on RLlib (the one file of this method that imports Ray's libraries).

1. PAR inside RLlib's IQL (Ray 2.60, new API stack): a custom `TorchLearner`.
   PAR cannot live in a learner connector: those run inside `OfflinePreLearner` on Ray Data workers with
   a stale module copy, and would also change the critic batch (PAR leaves it). Here the Learner keeps
   the replacer (pool, running critic loss) and an EMA copy of the actor (the PAR code's IQL adds one:
   IQL has no target actor), and in `compute_loss_for_module`
     1. lets IQL compute its value, critic and actor losses on the batch as sampled;
     2. mixes the actor batch: ranking key y = r + gamma (1 - d) V(s'), synthetic actions = the EMA actor's
        deterministic action (its mean squashed into the action bounds), gate on the critic loss;
     3. replaces the actor loss by the AWR loss recomputed on the mixed batch.
   PAR state (replacer, EMA actor, step) is part of the Learner's get_state / set_state, so it survives
   checkpoints.

       config = par_iql_config(IQLConfig(), PARSettings(enabled=True), steps, obs_space, act_space, [data])
   sets RLlib's IQL to the standalone learner's hyperparameters (AWR temperature, expectile,
   Polyak tau every update, gamma, learning rates), not RLlib's defaults (beta 0.1, expectile 0.8,
   hard target copies).

2. Behaviour policies for offline datasets, trained with RLlib's SAC (D4RL's recipe).
   `train_sac` trains on an environment and keeps a checkpoint of the policy every `every` iterations
   with its deterministic evaluation return; `sac_policy` turns a checkpoint into an action function
   for `collect.build_datasets`. On a 2-core machine RLlib's SAC runs ~9 environment steps a second
   (replay-episode slicing and connector overhead dominate), so small machines use `sac.py` instead
   (jobs/build_mujoco_datasets.py --trainer raylab); the tests run this one for two iterations.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray.rllib.algorithms.dqn.dqn_learner import QF_LOSS_KEY
from ray.rllib.algorithms.iql.iql_learner import VF_PREDS_NEXT
from ray.rllib.algorithms.iql.torch.iql_torch_learner import IQLTorchLearner
from ray.rllib.algorithms.sac import SACConfig
from ray.rllib.algorithms.sac.sac_learner import QF_TWIN_LOSS_KEY
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.learner import POLICY_LOSS_KEY
from ray.rllib.core.models.base import ENCODER_OUT
from ray.rllib.utils.lambda_defaultdict import LambdaDefaultDict

from raylab.methods.par.collect import PolicyCheckpoint, rollout_episodes
from raylab.methods.par.config import PARSettings
from raylab.methods.par.nets import polyak
from raylab.methods.par.replacer import ProximalActionReplacer

PAR_STATE = "par"


class IQLPARTorchLearner(IQLTorchLearner):
    """IQL's Torch Learner with proximal action replacement on the actor loss."""

    par_settings: PARSettings = PARSettings(enabled=True)
    total_steps: int = 1000
    ema_tau: float = 0.005
    awr_temperature: float | None = None  # exp(temperature A) in the actor loss; None: RLlib's `beta`
    # set in build(), one per module
    replacers: dict[str, ProximalActionReplacer]
    ema_actors: dict[str, torch.nn.ModuleDict]
    par_step: int

    def build(self) -> None:
        super().build()
        self.replacers, self.ema_actors, self.par_step = {}, {}, 0
        if self.awr_temperature is not None:  # RLlib validates `beta` into [0, 1] (MARWIL's meaning)
            self.temperature = LambdaDefaultDict(
                lambda module_id: self._get_tensor_variable([self.awr_temperature], trainable=False)
            )

    def _ema_actor(self, module_id, module) -> torch.nn.ModuleDict:
        if module_id not in self.ema_actors:
            self.ema_actors[module_id] = copy.deepcopy(
                torch.nn.ModuleDict({"encoder": module.pi_encoder, "head": module.pi})
            ).requires_grad_(False)
            replacer = self.par_settings.build(self.total_steps)
            assert replacer is not None  # this learner runs with PAR enabled (PARSettings(enabled=True))
            self.replacers[module_id] = replacer
        return self.ema_actors[module_id]

    def _dist(self, module, encoder, head, obs):
        logits = head(encoder({Columns.OBS: obs})[ENCODER_OUT])
        return module.get_train_action_dist_cls().from_logits(logits)

    def propose(self, module, ema: torch.nn.ModuleDict, obs: torch.Tensor) -> torch.Tensor:
        """PAR's synthetic actions: the EMA actor's deterministic action, its Gaussian mean squashed into
        the action bounds by the distribution's own map (the one `logp` inverts). RLlib's
        `to_deterministic().sample()` is the raw pre-tanh mean: unbounded, not the actor's action."""
        dist = self._dist(module, ema["encoder"], ema["head"], obs)
        return dist._squash(dist.loc)

    def compute_loss_for_module(self, *, module_id, config, batch, fwd_out):
        total = super().compute_loss_for_module(
            module_id=module_id, config=config, batch=batch, fwd_out=fwd_out
        )
        # the IQL torch module (RLlib types it as a plain RLModule, without IQL's heads)
        module: Any = self.module[module_id].unwrapped()
        ema = self._ema_actor(module_id, module)
        replacer = self.replacers[module_id]
        critic_loss = float(self._temp_losses[(module_id, QF_LOSS_KEY)].detach())
        if config.twin_q:  # RLlib halves each twin's MSE; the standalone gate sees MSE(Q1) + MSE(Q2)
            critic_loss = 2 * (critic_loss + float(self._temp_losses[(module_id, QF_TWIN_LOSS_KEY)].detach()))
        with torch.no_grad():
            rank_key = (
                batch[Columns.REWARDS]
                + config.gamma * (1 - batch[Columns.TERMINATEDS].float()) * fwd_out[VF_PREDS_NEXT]
            )
        obs, actions, info = replacer.mix(
            batch[Columns.OBS],
            batch[Columns.ACTIONS],
            rank_key,
            self.par_step,
            critic_loss,
            lambda states: self.propose(module, ema, states),
        )
        if info.k > 0:
            old_actor_loss = self._temp_losses[(module_id, POLICY_LOSS_KEY)]
            mixed = {Columns.OBS: obs, Columns.ACTIONS: actions}
            with torch.no_grad():
                q_target = module._qf_forward_train_helper(
                    mixed, encoder=module.target_qf_encoder, head=module.target_qf
                )
                if module.twin_q:
                    q_target = torch.min(
                        q_target,
                        module._qf_forward_train_helper(
                            mixed, encoder=module.target_qf_twin_encoder, head=module.target_qf_twin
                        ),
                    )
                weights = torch.clamp(
                    torch.exp(self.temperature[module_id] * (q_target - module.compute_values(mixed))),
                    max=100.0,
                )
            logp = self._dist(module, module.pi_encoder, module.pi, obs).logp(actions)
            actor_loss = -torch.mean(weights * logp)
            self._temp_losses[(module_id, POLICY_LOSS_KEY)] = actor_loss
            total = total - old_actor_loss + actor_loss
        replacer.observe_critic_loss(critic_loss)
        self.metrics.log_dict(
            {"par_gate_open": float(info.gate_open), "par_p": info.p, "par_replaced": float(info.k)},
            key=module_id,
            window=1,
        )
        return total

    def apply_gradients(self, gradients_dict) -> None:
        """After each optimizer step (one per learner update): EMA actor and PAR step counter."""
        super().apply_gradients(gradients_dict)
        for module_id, ema in self.ema_actors.items():
            module: Any = self.module[module_id].unwrapped()
            polyak(ema["encoder"], module.pi_encoder, self.ema_tau)
            polyak(ema["head"], module.pi, self.ema_tau)
        self.par_step += 1

    def get_state(self, components=None, *, not_components=None, **kwargs):
        state = super().get_state(components, not_components=not_components, **kwargs)
        state[PAR_STATE] = {
            "step": self.par_step,
            "replacers": {m: r.state_dict() for m, r in self.replacers.items()},
            "ema_actors": {m: a.state_dict() for m, a in self.ema_actors.items()},
        }
        return state

    def set_state(self, state) -> None:
        super().set_state(state)
        if PAR_STATE in state:
            par = state[PAR_STATE]
            self.par_step = par["step"]
            for module_id, ema_state in par["ema_actors"].items():
                self._ema_actor(module_id, self.module[module_id].unwrapped()).load_state_dict(ema_state)
                self.replacers[module_id].load_state_dict(par["replacers"][module_id])


def par_iql_learner(
    settings: PARSettings, total_steps: int, ema_tau: float = 0.005, temperature: float | None = None
) -> type[IQLPARTorchLearner]:
    """A Learner class bound to these PAR settings (schedule over `total_steps` learner updates), the
    EMA actor's Polyak rate and, when given, the AWR temperature."""
    attributes = {"par_settings": settings, "total_steps": total_steps, "ema_tau": ema_tau}
    return type("IQLPARTorchLearner", (IQLPARTorchLearner,), {**attributes, "awr_temperature": temperature})


def par_iql_config(
    iql, par: PARSettings, total_steps: int, observation_space, action_space, inputs: list[str]
):
    """RLlib's IQLConfig with the standalone learner's hyperparameters (`iql`: raylab's IQLConfig) and
    the PAR learner: the AWR temperature (RLlib's `beta`, which its config validation
    holds in [0, 1], so the learner sets it: exp(temperature A)), the expectile, Polyak rate tau applied
    after every update (target_network_update_freq 0), gamma, one learning rate for actor, critics and
    value; the EMA actor uses the same tau. Offline data from `inputs`
    (parquet written by `write_parquet`: raw states, as the official PAR code; actions in [-1, 1])."""
    from ray.rllib.algorithms.iql import IQLConfig as RLlibIQLConfig

    return (
        RLlibIQLConfig()
        .environment(observation_space=observation_space, action_space=action_space)
        .offline_data(
            input_=list(inputs),
            dataset_num_iters_per_learner=1,
            map_batches_kwargs={"concurrency": 1, "num_cpus": 1},  # a 2-CPU cluster deadlocks otherwise
        )
        .training(
            expectile=iql.expectile,
            tau=iql.tau,
            target_network_update_freq=0,
            gamma=iql.gamma,
            actor_lr=iql.lr,
            critic_lr=iql.lr,
            value_lr=iql.lr,
        )
        .learners(num_learners=0, learner_class=par_iql_learner(par, total_steps, iql.tau, iql.temperature))
    )


def write_parquet(transitions, folder: str | Path, episode_length: int, action_space) -> Path:
    """Flat transitions (raylab.methods.par.data.Transitions) as one RLlib offline parquet file, actions
    rescaled from the Box `action_space` into [-1, 1]: RLlib's modules work there (normalize_actions,
    the default; its env runners rescale on the way out), and the new stack's offline reader passes
    actions through unchanged, so raw Pendulum torques in [-2, 2] would reach log pi clamped to +-1."""
    import pandas as pd

    low, high = action_space.low, action_space.high
    actions = np.clip((transitions.actions - low) / (high - low) * 2.0 - 1.0, -1.0, 1.0).astype(np.float32)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(transitions)
    frame = pd.DataFrame(
        {
            "eps_id": [f"ep{i // episode_length}" for i in range(n)],
            "t": np.arange(n) % episode_length,
            "obs": list(transitions.observations),
            "actions": list(actions),
            "rewards": transitions.rewards.astype(float),
            "new_obs": list(transitions.next_observations),
            "terminateds": transitions.terminals.astype(bool),
            "truncateds": (np.arange(n) % episode_length) == episode_length - 1,
        }
    )
    path = folder / "part-0.parquet"
    frame.to_parquet(path)
    return path


def module_action(module, space, obs: np.ndarray, stochastic: bool) -> np.ndarray:
    """The environment action of an RLlib SAC module: a squashed-Gaussian sample (or its mean squashed
    by the same map), in [-1, 1] because SAC normalises actions, rescaled to the Box `space` as RLlib's
    env runner would. `to_deterministic().sample()` would be the raw pre-tanh mean instead."""
    with torch.no_grad():
        out = module.forward_inference({Columns.OBS: torch.as_tensor(obs, dtype=torch.float32)[None]})
        dist = module.get_inference_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
        unit = (dist.sample() if stochastic else dist._squash(dist.loc))[0].numpy()
    return (space.low + (unit + 1.0) / 2.0 * (space.high - space.low)).astype(space.dtype)


def sac_policy(
    checkpoint: PolicyCheckpoint, env_id: str, stochastic: bool
) -> Callable[[np.ndarray], np.ndarray]:
    """The action function of an RLlib SAC checkpoint (for `collect.build_datasets`)."""
    import gymnasium as gym
    from ray.rllib.core.rl_module.rl_module import RLModule

    space = gym.make(env_id).action_space
    module = RLModule.from_checkpoint(
        Path(checkpoint.path) / "learner_group" / "learner" / "rl_module" / "default_policy"
    )
    return lambda obs: module_action(module, space, obs, stochastic)


def train_sac(
    env_id: str, iterations: int, every: int, out_dir: str | Path, eval_episodes: int = 10, seed: int = 0
) -> list[PolicyCheckpoint]:
    """SAC for `iterations` (RLlib training iterations); a checkpoint every `every` and at the end."""
    import gymnasium as gym

    space = gym.make(env_id).action_space
    config = (
        SACConfig()
        .environment(env_id)
        .env_runners(num_env_runners=0)
        .learners(num_learners=0)
        .debugging(seed=seed)
    )
    algo = config.build_algo()
    saved = []
    try:
        for iteration in range(1, iterations + 1):
            algo.train()
            if iteration % every == 0 or iteration == iterations:
                path = str(Path(out_dir) / f"iter_{iteration:05d}")
                algo.save_to_path(path)
                module = algo.get_module()

                def policy(obs, module=module):  # (a def: mypy cannot type a lambda with a default)
                    return module_action(module, space, obs, False)

                episodes = rollout_episodes(env_id, policy, seed, episodes=eval_episodes)
                saved.append(
                    PolicyCheckpoint(iteration, path, float(np.mean([e["rewards"].sum() for e in episodes])))
                )
    finally:
        algo.stop()
    return saved
