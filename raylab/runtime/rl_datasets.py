"""Behaviour policies for offline datasets, trained with RLlib's SAC (brief 4.3, recipe B).

`train_sac` trains on an environment and keeps a checkpoint of the policy every `every` iterations
with its deterministic evaluation return; `sac_policy` turns a checkpoint into an action function.
`build_datasets` then writes D4RL-style random / medium / expert minari datasets: expert = the last
checkpoint, medium = the first checkpoint whose return reaches `medium_fraction` of the expert's
(D4RL: about 1/3), actions sampled stochastically. Hours per MuJoCo environment on a core: a cluster
job (jobs/build_mujoco_datasets.py), never CI (the tests run it for one iteration on Pendulum).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from ray.rllib.algorithms.sac import SACConfig
from ray.rllib.core.columns import Columns

from raylab.methods.par.collect import rollout_episodes, write_minari


@dataclasses.dataclass
class PolicyCheckpoint:
    iteration: int
    path: str
    eval_return: float


def _module_action(module, obs: np.ndarray, stochastic: bool) -> np.ndarray:
    with torch.no_grad():
        out = module.forward_inference({Columns.OBS: torch.as_tensor(obs, dtype=torch.float32)[None]})
        dist = module.get_inference_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
        return (dist.sample() if stochastic else dist.to_deterministic().sample())[0].numpy()


def sac_policy(path: str, stochastic: bool) -> Callable[[np.ndarray], np.ndarray]:
    from ray.rllib.core.rl_module.rl_module import RLModule

    module = RLModule.from_checkpoint(
        Path(path) / "learner_group" / "learner" / "rl_module" / "default_policy"
    )
    return lambda obs: _module_action(module, obs, stochastic)


def train_sac(
    env_id: str, iterations: int, every: int, out_dir: str | Path, eval_episodes: int = 10, seed: int = 0
) -> list[PolicyCheckpoint]:
    """SAC for `iterations` (RLlib training iterations); a checkpoint every `every` and at the end."""
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
                episodes = rollout_episodes(
                    env_id, lambda obs: _module_action(module, obs, False), seed, episodes=eval_episodes
                )
                saved.append(
                    PolicyCheckpoint(iteration, path, float(np.mean([e["rewards"].sum() for e in episodes])))
                )
    finally:
        algo.stop()
    return saved


def build_datasets(
    env_id: str,
    name: str,
    checkpoints: list[PolicyCheckpoint],
    transitions: int,
    ref_min: float,
    ref_max: float,
    seed: int = 0,
    medium_fraction: float = 1 / 3,
) -> list[str]:
    """random / medium / expert minari datasets `<name>/<kind>-v0` of at least `transitions` steps."""
    import gymnasium as gym

    expert = checkpoints[-1]
    medium = next(
        (
            c
            for c in checkpoints
            if c.eval_return >= ref_min + medium_fraction * (expert.eval_return - ref_min)
        ),
        expert,
    )
    space = gym.make(env_id).action_space
    space.seed(seed)
    policies = {
        "random": lambda obs: space.sample(),
        "medium": sac_policy(medium.path, True),
        "expert": sac_policy(expert.path, True),
    }
    written = []
    for kind, policy in policies.items():
        episodes = rollout_episodes(env_id, policy, seed, transitions=transitions)
        source = (
            "uniform random actions"
            if kind == "random"
            else f"RLlib SAC iteration {(medium if kind == 'medium' else expert).iteration}"
        )
        written.append(
            write_minari(
                f"{name}/{kind}-v0",
                episodes,
                env_id,
                ref_min,
                ref_max,
                source,
                f"{env_id} {kind} data built by raylab (D4RL-style recipe, brief 4.3)",
            )
        )
    return written
