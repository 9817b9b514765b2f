"""`par/bandit`: every (BC loss, seed) with and without PAR, fanned out as replicate batches;
claims (our acceptance checks 6-7) and a figure like the paper's (oracle Q, data, optimum, learned
actions; MSE / KL / MLE, with and without PAR)."""

from __future__ import annotations

import numpy as np

from raylab.context import RunContext
from raylab.methods.par.bandit import BanditRun, bandit_data, top_fraction_mean, train_bandit
from raylab.methods.par.claims import bandit_claims
from raylab.methods.par.config import BanditConfig
from raylab.records import ResultRecord
from raylab.reporting.plots import new_figure, save_figure
from raylab.seeding import derive_seed


def replicate_seeds(cfg: BanditConfig) -> list[int]:
    """One seed per replicate (its data set and training stream), derived from the run seed."""
    return [derive_seed(cfg.seed, "replicate", r) for r in range(cfg.replicates)]


def run(cfg: BanditConfig, ctx: RunContext) -> ResultRecord:
    seeds = replicate_seeds(cfg)
    items = [
        BanditRun(cfg, loss, seed, par) for loss in cfg.losses for par in (False, True) for seed in seeds
    ]
    runs = [
        run
        for group in ctx.map(train_bandit, ctx.replicate_batches(items), name="par-bandit")
        for run in group
    ]
    by = {
        (item.loss, item.par, seeds.index(item.replicate_seed)): r
        for item, r in zip(items, runs, strict=True)
    }
    targets = [
        top_fraction_mean(bandit_data(cfg.dataset_size, seed), cfg.batch, 1 - cfg.par.p_max, 2000, seed)
        for seed in seeds
    ]
    metrics: dict[str, float] = {
        "data/top_fraction_mean_x": float(np.mean([t[0] for t in targets])),
        "data/top_fraction_mean_y": float(np.mean([t[1] for t in targets])),
    }
    for (loss, par, rep), r in by.items():
        tag = f"{loss}/{'par' if par else 'base'}/rep{rep}"
        metrics.update(
            {
                f"{tag}/reward": r["reward"],
                f"{tag}/norm": r["norm"],
                f"{tag}/a0": r["action"][0],
                f"{tag}/a1": r["action"][1],
                f"{tag}/gate_open_frac": r["gate_open_frac"],
            }
        )
    for loss in cfg.losses:
        for par in (False, True):
            tag = f"{loss}/{'par' if par else 'base'}"
            reps = range(cfg.replicates)
            metrics[f"{tag}/mean_reward"] = float(np.mean([by[(loss, par, r)]["reward"] for r in reps]))
            metrics[f"{tag}/mean_norm"] = float(np.mean([by[(loss, par, r)]["norm"] for r in reps]))
    plot(cfg, by, seeds[0], ctx.artifact("bandit.png"))
    ctx.report(metrics)
    return ctx.result(metrics, bandit_claims(cfg, by, targets))


def plot(cfg: BanditConfig, by: dict, data_seed: int, path) -> None:
    data = bandit_data(cfg.dataset_size, data_seed)["actions"].numpy()[:1500]
    grid = np.linspace(-1.5, 5.0, 120)
    xx, yy = np.meshgrid(grid, grid)
    fig, axes = new_figure(rows=2, cols=len(cfg.losses), panel_size=(3.2, 3.0))
    for col, loss in enumerate(cfg.losses):
        for row, par in enumerate((False, True)):
            ax = axes[row][col]
            ax.contourf(xx, yy, -(xx**2 + yy**2), levels=20, cmap="viridis")
            ax.scatter(data[:, 0], data[:, 1], s=1, color="tab:blue", alpha=0.3, label="data actions")
            ax.scatter([0], [0], marker="*", s=120, color="lime", label="optimum a* = 0")
            actions = np.array([by[(loss, par, r)]["action"] for r in range(cfg.replicates)])
            ax.scatter(actions[:, 0], actions[:, 1], marker="x", s=60, color="red", label="learned action")
            ax.set_xlabel("action a_0")
            ax.set_ylabel("action a_1")
            ax.set_title(f"{loss.upper()} BC{' + PAR' if par else ''}", fontsize=9)
            ax.set_xlim(grid[0], grid[-1])
            ax.set_ylim(grid[0], grid[-1])
    axes[0][0].legend(fontsize=6, loc="upper left")
    fig.suptitle("reward -||a||^2 (contours); one learned action per replicate", fontsize=9)
    save_figure(fig, path)
