"""Pendulum-v1 offline datasets from a hand-written swing-up controller (brief 4.2), built in seconds
with no download: random | weak (the "medium" data: systematically too weak, 0.3 u + N(0, 0.3^2)) |
medium-mix (epsilon = 0.5 uniform mixing) | expert (u + N(0, 0.1^2)).

Episodes end by the 200-step time limit: truncations, never terminations (no bootstrapping cut).
Normalisation references: random -1195, expert -139 (brief 4.2, measured over 20-30 episodes).
"""

from __future__ import annotations

import math

import numpy as np

from raylab.methods.par.data import Transitions
from raylab.seeding import derive_seed

ENV_ID = "Pendulum-v1"
REF_MIN, REF_MAX = -1195.0, -139.0
KINDS = ("random", "weak", "medium-mix", "expert")


def expert_action(obs: np.ndarray) -> float:
    """Energy pumping far from the top, PD control near it (brief 4.2)."""
    c, s, w = obs
    theta = math.atan2(s, c)
    if c > 0.85:
        u = -(12 * theta + 2.5 * w)
    else:
        energy = 0.5 * w ** 2 + 15 * (c - 1)
        u = (2.0 if w >= 0 else -2.0) if energy < 0 else -0.3 * w
    return float(np.clip(u, -2.0, 2.0))


def behaviour_action(kind: str, obs: np.ndarray, rng: np.random.Generator) -> float:
    if kind == "random" or (kind == "medium-mix" and rng.random() < 0.5):
        return float(rng.uniform(-2.0, 2.0))
    if kind == "weak":
        return float(np.clip(0.3 * expert_action(obs) + rng.normal(0.0, 0.3), -2.0, 2.0))
    noise = rng.normal(0.0, 0.1) if kind == "expert" else 0.0
    return float(np.clip(expert_action(obs) + noise, -2.0, 2.0))


def build(kind: str, episodes: int, seed: int) -> tuple[Transitions, np.ndarray]:
    """(transitions, per-episode returns) of `episodes` behaviour episodes."""
    import gymnasium as gym

    if kind not in KINDS:
        raise ValueError(f"unknown Pendulum dataset kind '{kind}' (choose from {', '.join(KINDS)})")
    env = gym.make(ENV_ID)
    rng = np.random.default_rng(derive_seed(seed, "pendulum", kind))
    rows: dict[str, list] = {k: [] for k in ("observations", "actions", "rewards", "next_observations", "terminals")}
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=derive_seed(seed, "pendulum-episode", kind, episode) % 2**31)
        total, done = 0.0, False
        while not done:
            action = np.array([behaviour_action(kind, obs, rng)], dtype=np.float32)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            for key, value in zip(rows, (obs, action, reward, next_obs, float(terminated))):
                rows[key].append(value)
            obs, total, done = next_obs, total + float(reward), terminated or truncated
        returns.append(total)
    env.close()
    data = Transitions(**{k: np.asarray(v, dtype=np.float32) for k, v in rows.items()})
    return data, np.array(returns)


def normalised(returns, ref_min: float = REF_MIN, ref_max: float = REF_MAX):
    """100 (R - min) / (max - min)."""
    return 100.0 * (np.asarray(returns) - ref_min) / (ref_max - ref_min)
