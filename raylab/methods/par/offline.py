"""Offline RL runs: TD3+BC or IQL, with or without PAR, on one dataset (CORL-style single loop).

`train_replicates` trains runs that differ only in seed, PAR switch and TD3+BC alpha as one
vectorised TD3+BC (replicate r of the batch trains exactly as it would alone); IQL trains one run.
Reported return = the FINAL policy's normalised return (mean of the last `final_evals` evaluations),
the figure every claim uses. Beside it, the official code's figures: the running
average of the last 10 evaluations (`eval/norm_return_last10`) and the best over training
(`eval/norm_return_best`, what the paper's bar chart shows; optimistic: it selects on the test
episodes).
Every run logs the gate-open fraction (actor steps after T_start on which PAR replaced actions)
and the final ratio p; both are 0 with PAR off. Resumable from the run's checkpoints (Tune trials).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
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

Stats = tuple[np.ndarray, np.ndarray]  # the state mean and std a policy sees its states through


def evaluate(
    act: Callable[[torch.Tensor], torch.Tensor],
    data: OfflineDataset,
    stats: Sequence[Stats],
    episodes: int,
    seeds: Sequence[int],
) -> np.ndarray:
    """Undiscounted returns [R, episodes] of R deterministic policies, `act` [R, 1, obs] -> [R, 1, act],
    on the dataset's environment: replicate r's episode e starts from derive_seed(seeds[r], "eval", e),
    and the R environments step in lockstep until each episode ends."""
    import gymnasium as gym

    envs = [gym.make(data.env_id) for _ in seeds]
    returns = np.zeros((len(envs), episodes))
    for episode in range(episodes):
        obs = [env.reset(seed=derive_seed(s, "eval", episode) % 2**31)[0] for env, s in zip(envs, seeds)]
        running = np.ones(len(envs), dtype=bool)
        while running.any():
            states = np.stack([(o - mean) / std for o, (mean, std) in zip(obs, stats, strict=True)])
            with torch.no_grad():
                actions = act(torch.as_tensor(states, dtype=torch.float32)[:, None])[:, 0].numpy()
            for r in np.flatnonzero(running):
                obs[r], reward, terminated, truncated, _ = envs[r].step(actions[r])
                returns[r, episode] += float(reward)
                running[r] = not (terminated or truncated)
    for env in envs:
        env.close()
    return returns


class OneReplicate:
    """IQL behind the replicate-batch interface of `TD3BC` (batches [1, B, ...]; one run)."""

    def __init__(self, learner: IQL, generator: torch.Generator):
        self.learner, self.generator, self.replacers = learner, generator, [learner.replacer]

    def update(self, batch: dict, step: int) -> list[dict]:
        return [self.learner.update({key: value[0] for key, value in batch.items()}, step)]

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        return self.learner.actor(obs[0])[None]

    def state_dict(self) -> dict:
        return self.learner.state_dict() | {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state.pop("generator"))
        self.learner.load_state_dict(state)


def make_learner(cfgs: Sequence[OfflineConfig], data: OfflineDataset, generators: list[torch.Generator]):
    obs_dim, act_dim = data.transitions.observations.shape[1], data.transitions.actions.shape[1]
    first, seeds = cfgs[0], [derive_seed(cfg.seed, "init") for cfg in cfgs]
    replacers = [cfg.par.build(cfg.steps) for cfg in cfgs]
    if first.algo == "td3bc":
        alphas = [cfg.td3bc.alpha for cfg in cfgs]
        return TD3BC(obs_dim, act_dim, data.max_action, first.td3bc, seeds, generators, replacers, alphas)
    if len(cfgs) > 1:
        raise ValueError(f"IQL trains one run at a time, not {len(cfgs)}")
    torch.manual_seed(seeds[0])
    iql = IQL(
        obs_dim, act_dim, data.max_action, first.iql, replacers[0], generators[0], total_steps=first.steps
    )
    return OneReplicate(iql, generators[0])


def shared_settings(cfg: OfflineConfig) -> OfflineConfig:
    """What runs of one replicate batch share: everything but the seed, PAR's switch and alpha."""
    return dataclasses.replace(
        cfg,
        seed=0,
        par=dataclasses.replace(cfg.par, enabled=False),
        td3bc=dataclasses.replace(cfg.td3bc, alpha=0.0),
    )


def train_offline(
    cfg: OfflineConfig, report: Callable[[dict, int | None], None] | None = None, checkpointer=None
) -> tuple[dict[str, float], list[float]]:
    """Train one learner on one dataset; returns the final metrics and the normalised return of every
    evaluation. Resumes from `checkpointer`'s latest checkpoint and saves new ones, when given."""
    return train_replicates([cfg], report, checkpointer)[0]


def train_replicates(
    cfgs: Sequence[OfflineConfig],
    report: Callable[[dict, int | None], None] | None = None,
    checkpointer=None,
) -> list[tuple[dict[str, float], list[float]]]:
    """Train `cfgs` (differing only in `shared_settings`) as one replicate batch, each on its own
    data, batches and evaluation episodes: `train_offline` of each. `report` gets the first run's
    evaluations."""
    cfg = cfgs[0]
    if any(shared_settings(other) != shared_settings(cfg) for other in cfgs):
        raise ValueError("a replicate batch's runs may differ only in seed, par.enabled and td3bc.alpha")
    report = report or (lambda metrics, step: None)
    by_seed = {  # both arms of a paired replicate share its seed, hence its data: load it once
        c.seed: load_dataset(c.dataset.id, c.dataset.episodes, derive_seed(c.seed, "dataset")) for c in cfgs
    }
    datasets = [by_seed[c.seed] for c in cfgs]
    stats = [state_stats(data, cfg.normalize_states) for data in datasets]
    tensors = [data.transitions.to_torch(*stat) for data, stat in zip(datasets, stats, strict=True)]
    generators = [torch.Generator().manual_seed(derive_seed(c.seed, "batches")) for c in cfgs]
    learner = make_learner(cfgs, datasets[0], generators)
    runs = len(cfgs)
    progress: dict[str, Any] = {
        "step": 0,
        "evals": [[] for _ in cfgs],
        "gate_open": [0] * runs,
        "actor_steps": [0] * runs,
    }
    latest = checkpointer.load_latest() if checkpointer else None
    if latest:
        learner.load_state_dict(latest[1]["learner"])
        progress = latest[1]["progress"]
    for step in range(progress["step"], cfg.steps):
        rows = [
            torch.randint(len(data.transitions), (cfg.batch,), generator=g)
            for data, g in zip(datasets, generators)
        ]
        batch = {
            key: torch.stack([t[key][r] for t, r in zip(tensors, rows, strict=True)]) for key in tensors[0]
        }
        metrics = learner.update(batch, step)
        count_gate(progress, learner.replacers, metrics, step)
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            seeds = [derive_seed(c.seed, step + 1) for c in cfgs]
            returns = evaluate(learner.act, datasets[0], stats, cfg.eval_episodes, seeds)
            for r, data in enumerate(datasets):
                progress["evals"][r].append(float(data.normalised(returns[r]).mean()))
            replacer = learner.replacers[0]
            report(
                {
                    "eval/norm_return": progress["evals"][0][-1],
                    "eval/return": float(returns[0].mean()),
                    "train/critic_loss": metrics[0]["critic_loss"],
                    "train/gate_open_frac": _gate_frac(progress, 0),
                    "train/p": replacer.ratio(step) if replacer else 0.0,
                },
                step + 1,
            )
        progress["step"] = step + 1
        if checkpointer and progress["step"] % cfg.checkpoint_every == 0 and progress["step"] < cfg.steps:
            checkpointer.save({"learner": learner.state_dict(), "progress": progress}, progress["step"])
    return [
        (final_metrics(c, data, learner.replacers[r], progress, r), progress["evals"][r])
        for r, (c, data) in enumerate(zip(cfgs, datasets, strict=True))
    ]


def state_stats(data: OfflineDataset, normalize: bool) -> Stats:
    """The dataset's state mean and std (CORL), or 0 and 1: the official PAR code's raw states."""
    mean, std = data.transitions.state_stats()
    return (mean, std) if normalize else (np.zeros_like(mean), np.ones_like(std))


def count_gate(progress: dict, replacers: list, metrics: list[dict], step: int) -> None:
    """Count each PAR run's actor steps after T_start and those on which its gate was open."""
    for r, (replacer, replicate) in enumerate(zip(replacers, metrics, strict=True)):
        if replacer is not None and step >= replacer.t_start and "gate_open" in replicate:
            progress["actor_steps"][r] += 1
            progress["gate_open"][r] += int(replicate["gate_open"])


def final_metrics(
    cfg: OfflineConfig, data: OfflineDataset, replacer, progress: dict, r: int
) -> dict[str, float]:
    evals = progress["evals"][r]
    behaviour = (
        float(data.normalised(data.behaviour_returns).mean())
        if data.behaviour_returns is not None
        else float("nan")
    )
    return {
        "eval/norm_return": float(np.mean(evals[-cfg.final_evals :])),
        "eval/norm_return_last10": float(np.mean(evals[-10:])),
        "eval/norm_return_best": float(np.max(evals)),
        "eval/behaviour_norm_return": behaviour,
        "train/gate_open_frac": _gate_frac(progress, r),
        "train/actor_steps_after_start": float(progress["actor_steps"][r]),
        "train/p_final": replacer.ratio(cfg.steps - 1) if replacer else 0.0,
        "data/transitions": float(len(data.transitions)),
    }


def run(cfg: OfflineConfig, ctx: RunContext) -> ResultRecord:
    ctx.expect_steps(cfg.steps)
    result, _ = train_offline(cfg, ctx.report, ctx.checkpointer)
    ctx.report(result)
    return ctx.result(result, offline_claims(cfg, result))


def _gate_frac(progress: dict, r: int) -> float:
    steps = progress["actor_steps"][r]
    return progress["gate_open"][r] / steps if steps else 0.0
