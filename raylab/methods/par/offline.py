"""Offline RL run: TD3+BC or IQL, with or without PAR, on one dataset (CORL-style single loop).

Reported return = the FINAL policy's normalised return (mean of the last `final_evals` evaluations),
the figure every claim uses. Beside it, the official code's figures: the running
average of the last 10 evaluations (`eval/norm_return_last10`) and the best over training
(`eval/norm_return_best`, what the paper's bar chart shows; optimistic: it selects on the test
episodes).
Every run logs the gate-open fraction (actor steps after T_start on which PAR replaced actions)
and the final ratio p; both are 0 with PAR off. Resumable from the run's checkpoints (Tune trials).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from raylab.context import RunContext
from raylab.methods.par.claims import offline_claims
from raylab.methods.par.config import OfflineConfig
from raylab.methods.par.data import OfflineDataset, load_dataset
from raylab.methods.par.iql import IQL
from raylab.methods.par.td3bc import TD3BC
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


def evaluate(
    actor: torch.nn.Module, data: OfflineDataset, mean: np.ndarray, std: np.ndarray, episodes: int, seed: int
) -> np.ndarray:
    """Undiscounted returns of the deterministic actor on the dataset's environment."""
    import gymnasium as gym

    env = gym.make(data.env_id)
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=derive_seed(seed, "eval", episode) % 2**31)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                action = actor(torch.as_tensor((obs - mean) / std, dtype=torch.float32)[None])[0].numpy()
            obs, reward, terminated, truncated, _ = env.step(action)
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    env.close()
    return np.array(returns)


def make_learner(cfg: OfflineConfig, data: OfflineDataset, generator: torch.Generator):
    obs_dim, act_dim = data.transitions.observations.shape[1], data.transitions.actions.shape[1]
    replacer = cfg.par.build(cfg.steps)
    if cfg.algo == "td3bc":
        return TD3BC(obs_dim, act_dim, data.max_action, cfg.td3bc, replacer, generator)
    return IQL(obs_dim, act_dim, data.max_action, cfg.iql, replacer, generator, total_steps=cfg.steps)


def train_offline(
    cfg: OfflineConfig, report: Callable[[dict, int | None], None] | None = None, checkpointer=None
) -> tuple[dict[str, float], list[float]]:
    """Train one learner on one dataset; returns the final metrics and the normalised return of every
    evaluation. Resumes from `checkpointer`'s latest checkpoint and saves new ones, when given."""
    report = report or (lambda metrics, step: None)
    data = load_dataset(cfg.dataset.id, cfg.dataset.episodes, derive_seed(cfg.seed, "dataset"))
    mean, std = data.transitions.state_stats()
    if not cfg.normalize_states:  # the official PAR code's raw states
        mean, std = np.zeros_like(mean), np.ones_like(std)
    tensors = data.transitions.to_torch(mean, std)
    torch.manual_seed(derive_seed(cfg.seed, "init"))
    generator = torch.Generator().manual_seed(derive_seed(cfg.seed, "batches"))
    learner = make_learner(cfg, data, generator)
    progress: dict[str, Any] = {"step": 0, "evals": [], "gate_open": 0, "actor_steps": 0}
    latest = checkpointer.load_latest() if checkpointer else None
    if latest:
        learner.load_state_dict(latest[1]["learner"])
        generator.set_state(latest[1]["generator"])
        progress = latest[1]["progress"]
    replacer = learner.replacer
    for step in range(progress["step"], cfg.steps):
        rows = torch.randint(len(data.transitions), (cfg.batch,), generator=generator)
        metrics = learner.update({k: v[rows] for k, v in tensors.items()}, step)
        if replacer is not None and step >= replacer.t_start and "gate_open" in metrics:
            progress["actor_steps"] += 1
            progress["gate_open"] += int(metrics["gate_open"])
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            returns = evaluate(
                learner.actor, data, mean, std, cfg.eval_episodes, derive_seed(cfg.seed, step + 1)
            )
            progress["evals"].append(float(data.normalised(returns).mean()))
            report(
                {
                    "eval/norm_return": progress["evals"][-1],
                    "eval/return": float(returns.mean()),
                    "train/critic_loss": metrics["critic_loss"],
                    "train/gate_open_frac": _gate_frac(progress),
                    "train/p": replacer.ratio(step) if replacer else 0.0,
                },
                step + 1,
            )
        progress["step"] = step + 1
        if checkpointer and progress["step"] % cfg.checkpoint_every == 0 and progress["step"] < cfg.steps:
            checkpointer.save(
                {"learner": learner.state_dict(), "generator": generator.get_state(), "progress": progress},
                progress["step"],
            )
    final = float(np.mean(progress["evals"][-cfg.final_evals :]))
    last10 = float(np.mean(progress["evals"][-10:]))
    behaviour = (
        float(data.normalised(data.behaviour_returns).mean())
        if data.behaviour_returns is not None
        else float("nan")
    )
    result = {
        "eval/norm_return": final,
        "eval/norm_return_last10": last10,
        "eval/norm_return_best": float(np.max(progress["evals"])),
        "eval/behaviour_norm_return": behaviour,
        "train/gate_open_frac": _gate_frac(progress),
        "train/actor_steps_after_start": float(progress["actor_steps"]),
        "train/p_final": replacer.ratio(cfg.steps - 1) if replacer else 0.0,
        "data/transitions": float(len(data.transitions)),
    }
    return result, progress["evals"]


def run(cfg: OfflineConfig, ctx: RunContext) -> ResultRecord:
    ctx.expect_steps(cfg.steps)
    result, _ = train_offline(cfg, ctx.report, ctx.checkpointer)
    ctx.report(result)
    return ctx.result(result, offline_claims(cfg, result))


def _gate_frac(progress: dict) -> float:
    return progress["gate_open"] / progress["actor_steps"] if progress["actor_steps"] else 0.0
