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
    """One run: one BC loss, with or without PAR, on one replicate's data and seed."""

    cfg: BanditConfig
    loss: str
    replicate_seed: int  # derive_seed(run seed, "replicate", r): the data and the training stream
    par: bool


def train_bandit(runs: tuple[BanditRun, ...]) -> list[dict]:
    """Runs of one config trained as one vectorised TD3+BC (each as it would train alone, to float32
    rounding) -> each run's final action and reward."""
    cfg = runs[0].cfg
    seeds = [derive_seed(run.replicate_seed, "bandit-run", run.loss, run.par) for run in runs]
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]
    data = {seed: bandit_data(cfg.dataset_size, seed) for seed in {run.replicate_seed for run in runs}}
    replacers = [cfg.par.build(cfg.steps) if run.par else None for run in runs]
    learner_cfg = TD3BCConfig(
        hidden=cfg.hidden, alpha=cfg.alpha, policy_noise=cfg.policy_noise, noise_clip=cfg.noise_clip
    )
    learner = TD3BC(
        2, 2, MAX_ACTION, learner_cfg, seeds, generators, replacers, actor_losses=[run.loss for run in runs]
    )
    keys = next(iter(data.values()))
    own = {key: torch.stack([data[run.replicate_seed][key] for run in runs]) for key in keys}  # [R, N, ...]
    members = torch.arange(len(runs))[:, None]
    gate_steps, actor_steps = np.zeros(len(runs)), np.zeros(len(runs))
    for step in range(cfg.steps):
        rows = torch.stack([torch.randint(cfg.dataset_size, (cfg.batch,), generator=g) for g in generators])
        batch = {key: values[members, rows] for key, values in own.items()}  # [R, B, ...]: run r's rows
        for i, (replacer, metrics) in enumerate(zip(replacers, learner.update(batch, step), strict=True)):
            if replacer is not None and step >= replacer.t_start and "actor_loss" in metrics:
                actor_steps[i] += 1
                gate_steps[i] += metrics["gate_open"]
    with torch.no_grad():
        actions = learner.act(torch.zeros(len(runs), 1, 2))[:, 0].numpy()
    return [
        {
            "loss": run.loss,
            "seed": run.replicate_seed,
            "par": run.par,
            "action": action.tolist(),
            "reward": float(-(action**2).sum()),
            "norm": float(np.linalg.norm(action)),
            "gate_open_frac": gates / steps if steps else 0.0,
            "p_final": replacer.ratio(cfg.steps - 1) if replacer else 0.0,
        }
        for run, action, gates, steps, replacer in zip(
            runs, actions, gate_steps, actor_steps, replacers, strict=True
        )
    ]
