"""Behaviour data from any gymnasium environment: roll a policy out, flatten the episodes into
transitions, or write them as a minari dataset (jax-free: from episode buffers)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from raylab.methods.par.transitions import Transitions
from raylab.seeding import derive_seed

Policy = Callable[[np.ndarray], ArrayLike]  # observation -> action (taken as np.asarray)


@dataclasses.dataclass
class PolicyCheckpoint:
    """A behaviour-policy snapshot: when it was taken (trainer's unit), where, its evaluation return."""

    iteration: int
    path: str
    eval_return: float


def rollout_episodes(
    env_id: str, policy: Policy, seed: int, episodes: int = 0, transitions: int = 0
) -> list[dict]:
    """Whole episodes until `episodes` of them, or at least `transitions` steps, have been collected:
    observations (T+1, ...), actions, rewards, terminations, truncations (T, ...)."""
    import gymnasium as gym

    if (episodes > 0) == (transitions > 0):
        raise ValueError("give exactly one of episodes or transitions")
    out: list[dict]
    env, out, steps = gym.make(env_id), [], 0
    while (episodes and len(out) < episodes) or (transitions and steps < transitions):
        obs, _ = env.reset(seed=derive_seed(seed, env_id, "episode", len(out)) % 2**31)
        rows: dict[str, list] = {
            "observations": [obs],
            "actions": [],
            "rewards": [],
            "terminations": [],
            "truncations": [],
        }
        done = False
        while not done:
            action = np.asarray(policy(obs), dtype=np.float32)
            obs, reward, terminated, truncated, _ = env.step(action)
            for key, value in zip(list(rows)[1:], (action, reward, terminated, truncated)):
                rows[key].append(value)
            rows["observations"].append(obs)
            done = terminated or truncated
        out.append({k: np.asarray(v) for k, v in rows.items()})
        steps += len(out[-1]["rewards"])
    env.close()
    return out


def to_transitions(episodes: list[dict]) -> tuple[Transitions, np.ndarray]:
    """(flat transitions with terminations only as terminals, per-episode returns)."""
    parts = zip(
        *(
            (e["observations"][:-1], e["actions"], e["rewards"], e["observations"][1:], e["terminations"])
            for e in episodes
        )
    )
    return Transitions(*(np.concatenate(p).astype(np.float32) for p in parts)), np.array(
        [e["rewards"].sum() for e in episodes]
    )


def write_minari(
    dataset_id: str,
    episodes: list[dict],
    env_id: str,
    ref_min: float,
    ref_max: float,
    algorithm: str,
    description: str,
) -> str:
    """The episodes as a minari dataset in the local store ($MINARI_DATASETS_PATH)."""
    import minari
    from minari.data_collector import EpisodeBuffer

    buffers = [
        EpisodeBuffer(
            id=i,
            observations=list(e["observations"]),
            actions=list(e["actions"]),
            rewards=list(e["rewards"]),
            terminations=list(e["terminations"]),
            truncations=list(e["truncations"]),
        )
        for i, e in enumerate(episodes)
    ]
    minari.create_dataset_from_buffers(
        dataset_id,
        buffers,
        env=env_id,
        eval_env=env_id,
        author="raylab",
        author_email="n/a",
        code_permalink="raylab/methods/par/collect.py",
        ref_min_score=ref_min,
        ref_max_score=ref_max,
        algorithm_name=algorithm,
        description=description,
    )
    return dataset_id


def build_datasets(
    env_id: str,
    name: str,
    checkpoints: list[PolicyCheckpoint],
    policy_for: Callable[[PolicyCheckpoint, str, bool], Policy],
    transitions: int,
    ref_min: float,
    ref_max: float,
    seed: int = 0,
    medium_fraction: float = 1 / 3,
    trainer: str = "SAC",
) -> list[str]:
    """D4RL-style random / medium / expert minari datasets `<name>/<kind>-v0` of at least `transitions`
    steps each: expert = the last checkpoint, medium = the first whose return reaches `medium_fraction`
    of the way from `ref_min` to the expert's (D4RL: about 1/3), actions sampled stochastically.
    `policy_for(checkpoint, env_id, stochastic)` loads a checkpoint of the trainer that made them."""
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
    sources = {"random": None, "medium": medium, "expert": expert}
    written = []
    for kind, checkpoint in sources.items():
        policy = (lambda obs: space.sample()) if checkpoint is None else policy_for(checkpoint, env_id, True)
        episodes = rollout_episodes(env_id, policy, seed, transitions=transitions)
        source = (
            "uniform random actions" if checkpoint is None else f"{trainer} checkpoint {checkpoint.iteration}"
        )
        description = f"{env_id} {kind} data built by raylab (D4RL-style recipe)"
        written.append(
            write_minari(f"{name}/{kind}-v0", episodes, env_id, ref_min, ref_max, source, description)
        )
    return written
