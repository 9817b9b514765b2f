"""The continuous bandit of the PAR code's toy_main.py (arXiv 2602.07441): a constant 2-D zero state,
actions in [-10, 10]^2, data actions ~ N([2, 2], I), reward -||a||^2 (optimum a* = 0). TD3+BC's BC
term pins the actor to the data mean; PAR moves it to the value-filtered data mean (the mean of the
top-(1 - P_max) of a batch), not to the optimum.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from raylab.methods.par.config import BanditConfig, TD3BCConfig
from raylab.methods.par.td3bc import TD3BC
from raylab.seeding import derive_seed

MAX_ACTION = 10.0
DATA_MEAN = np.array([2.0, 2.0])


def bandit_data(size: int, seed: int) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(derive_seed(seed, "bandit-data"))
    actions = np.clip(rng.normal(DATA_MEAN, 1.0, (size, 2)), -MAX_ACTION, MAX_ACTION)
    zeros = torch.zeros(size, 2)
    return {
        "observations": zeros,
        "next_observations": zeros,
        "terminals": torch.zeros(size),
        "actions": torch.as_tensor(actions, dtype=torch.float32),
        "rewards": torch.as_tensor(-(actions**2).sum(1), dtype=torch.float32),
    }


def top_fraction_mean(data: dict, batch: int, keep: float, draws: int, seed: int) -> np.ndarray:
    """Mean action of the best `keep` fraction (by reward) of random batches: PAR's predicted end point."""
    rng = np.random.default_rng(derive_seed(seed, "top-fraction"))
    actions, rewards = data["actions"].numpy(), data["rewards"].numpy()
    kept = int(round(batch * keep))
    means = []
    for _ in range(draws):
        rows = rng.integers(len(actions), size=batch)
        means.append(actions[rows[np.argsort(-rewards[rows])[:kept]]].mean(0))
    return np.mean(means, axis=0)


@dataclasses.dataclass(frozen=True)
class BanditRun:
    """One work item: one BC loss, with or without PAR, on one replicate's data and seed."""

    cfg: BanditConfig
    loss: str
    replicate_seed: int  # derive_seed(run seed, "replicate", r): the data and the training stream
    par: bool


def train_bandit(item: BanditRun) -> dict:
    """One run -> final action and reward."""
    cfg = item.cfg
    seed = derive_seed(item.replicate_seed, "bandit-run", item.loss, item.par)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    data = bandit_data(cfg.dataset_size, item.replicate_seed)
    replacer = cfg.par.build(cfg.steps) if item.par else None
    learner_cfg = TD3BCConfig(
        hidden=cfg.hidden,
        alpha=cfg.alpha,
        actor_loss=item.loss,
        policy_noise=cfg.policy_noise,
        noise_clip=cfg.noise_clip,
    )
    learner = TD3BC(2, 2, MAX_ACTION, learner_cfg, replacer, generator)
    gate_steps = actor_steps = 0
    for step in range(cfg.steps):
        rows = torch.randint(cfg.dataset_size, (cfg.batch,), generator=generator)
        metrics = learner.update({k: v[rows] for k, v in data.items()}, step)
        if replacer is not None and step >= replacer.t_start and "actor_loss" in metrics:
            actor_steps += 1
            gate_steps += metrics["gate_open"]
    with torch.no_grad():
        action = learner.actor(torch.zeros(1, 2))[0].numpy()
    return {
        "loss": item.loss,
        "seed": item.replicate_seed,
        "par": item.par,
        "action": action.tolist(),
        "reward": float(-(action**2).sum()),
        "norm": float(np.linalg.norm(action)),
        "gate_open_frac": gate_steps / actor_steps if actor_steps else 0.0,
        "p_final": replacer.ratio(cfg.steps - 1) if replacer else 0.0,
    }
