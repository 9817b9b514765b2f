"""Pendulum-v1 offline datasets from a hand-written swing-up controller (our reconstruction), built in seconds
with no download: random | weak (the "medium" data: systematically too weak, 0.3 u + N(0, 0.3^2)) |
medium-mix (epsilon = 0.5 uniform mixing) | expert (u + N(0, 0.1^2)).

Episodes end by the 200-step time limit: truncations, never terminations (no bootstrapping cut).
Normalisation references: random -1195, expert -139 (measured here over 20-30 episodes).
"""

from __future__ import annotations

import math

import numpy as np

from raylab.methods.par.collect import rollout_episodes, to_transitions
from raylab.methods.par.collect import write_minari as write_dataset
from raylab.methods.par.transitions import Transitions
from raylab.seeding import derive_seed

ENV_ID = "Pendulum-v1"
REF_MIN, REF_MAX = -1195.0, -139.0
KINDS = ("random", "weak", "medium-mix", "expert")


def expert_action(obs: np.ndarray) -> float:
    """Energy pumping far from the top, PD control near it (our reconstruction)."""
    c, s, w = obs
    theta = math.atan2(s, c)
    if c > 0.85:
        u = -(12 * theta + 2.5 * w)
    else:
        energy = 0.5 * w**2 + 15 * (c - 1)
        u = (2.0 if w >= 0 else -2.0) if energy < 0 else -0.3 * w
    return float(np.clip(u, -2.0, 2.0))


def behaviour_action(kind: str, obs: np.ndarray, rng: np.random.Generator) -> float:
    if kind == "random" or (kind == "medium-mix" and rng.random() < 0.5):
        return float(rng.uniform(-2.0, 2.0))
    if kind == "weak":
        return float(np.clip(0.3 * expert_action(obs) + rng.normal(0.0, 0.3), -2.0, 2.0))
    noise = rng.normal(0.0, 0.1) if kind == "expert" else 0.0
    return float(np.clip(expert_action(obs) + noise, -2.0, 2.0))


def episodes(kind: str, count: int, seed: int) -> list[dict[str, np.ndarray]]:
    """`count` behaviour episodes (observations (T+1, 3), actions (T, 1), rewards, terminations,
    truncations)."""
    if kind not in KINDS:
        raise ValueError(f"unknown Pendulum dataset kind '{kind}' (choose from {', '.join(KINDS)})")
    rng = np.random.default_rng(derive_seed(seed, "pendulum", kind))
    return rollout_episodes(ENV_ID, lambda obs: [behaviour_action(kind, obs, rng)], seed, episodes=count)


def build(kind: str, count: int, seed: int) -> tuple[Transitions, np.ndarray]:
    """(flat transitions, per-episode returns) of `count` behaviour episodes."""
    return to_transitions(episodes(kind, count, seed))


def write_minari(kind: str, count: int, seed: int, dataset_id: str) -> str:
    """Write the episodes as a minari dataset in the local store."""
    return write_dataset(
        dataset_id,
        episodes(kind, count, seed),
        ENV_ID,
        REF_MIN,
        REF_MAX,
        f"hand-written swing-up controller ({kind})",
        f"Pendulum-v1 {kind} data (raylab)",
    )


def normalised(returns, ref_min: float = REF_MIN, ref_max: float = REF_MAX):
    """100 (R - min) / (max - min)."""
    return 100.0 * (np.asarray(returns) - ref_min) / (ref_max - ref_min)
