"""`par/pendulum_paired|released|easy`: TD3+BC and TD3+BC + PAR on the same replicate seeds, so the
comparison the paper makes (arXiv 2602.07441: PAR improves BC-regularised actor-critic on hard data
and does not hurt on easy data) is a claim of one run, checked on paired differences.

Every (alpha, replicate, arm) is one run; the runs train as replicate batches, one vectorised TD3+BC
per fan-out item (Ray tasks under `raylab run`). Both arms of a replicate share its data,
initialisation, batches and evaluation episodes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from raylab.context import RunContext
from raylab.methods.par.claims import paired_claims
from raylab.methods.par.config import OfflineConfig, PairedConfig
from raylab.methods.par.data import require_minari
from raylab.methods.par.offline import train_replicates
from raylab.records import ResultRecord
from raylab.reporting.plots import new_figure, save_figure
from raylab.seeding import derive_seed

ARMS = ("base", "par")


@dataclasses.dataclass(frozen=True)
class Arm:
    """One run: one arm at one alpha on one replicate."""

    cfg: OfflineConfig
    arm: str
    alpha: float
    replicate: int


def arms(cfg: PairedConfig) -> list[Arm]:
    items = []
    for alpha in cfg.alphas:
        for r in range(cfg.replicates):
            seed = derive_seed(cfg.seed, "replicate", r)
            for arm in ARMS:
                par = dataclasses.replace(cfg.offline.par, enabled=arm == "par")
                td3bc = dataclasses.replace(cfg.offline.td3bc, alpha=alpha)
                run_cfg = dataclasses.replace(cfg.offline, seed=seed, par=par, td3bc=td3bc)
                items.append(Arm(run_cfg, arm, alpha, r))
    return items


def train_arms(group: tuple[Arm, ...]) -> list[dict]:
    """One replicate batch of arms, trained as one vectorised model (each arm as it would train alone,
    to float32 rounding)."""
    return [{**result, "evals": evals} for result, evals in train_replicates([item.cfg for item in group])]


def run(cfg: PairedConfig, ctx: RunContext) -> ResultRecord:
    source, _, name = cfg.offline.dataset.id.partition(":")
    if source == "minari":  # a missing dataset is reported once, before any fan-out
        require_minari(name)
    items = arms(cfg)
    groups = ctx.map(train_arms, ctx.replicate_batches(items), name="par-paired")
    runs = [run for group in groups for run in group]
    by = {(i.alpha, i.replicate, i.arm): r for i, r in zip(items, runs, strict=True)}
    metrics = {**per_run_metrics(by), **paired_metrics(cfg, by)}
    plot_curves(cfg, by, ctx.artifact("paired.png"))
    ctx.report(metrics)
    return ctx.result(metrics, paired_claims(cfg, metrics))


def per_run_metrics(by: dict) -> dict[str, float]:
    metrics = {}
    for (alpha, r, arm), result in by.items():
        tag = f"{arm}/alpha{alpha:g}/rep{r}"
        metrics[f"eval/{tag}/norm_return"] = result["eval/norm_return"]
        metrics[f"train/{tag}/gate_open_frac"] = result["train/gate_open_frac"]
    return metrics


def paired_metrics(cfg: PairedConfig, by: dict) -> dict[str, float]:
    """Per alpha: each arm's mean return and the mean paired difference (PAR - TD3+BC) for the final
    policy (what the claims use), the last-10-evaluation average and the best over training (the
    official code's figures, suffixes _last10 / _best); the fraction of replicates on which PAR's
    final policy is ahead; PAR's smallest and largest gate-open fractions over the replicates."""
    metrics: dict[str, float] = {}
    for alpha in cfg.alphas:
        reps = range(cfg.replicates)
        tag = f"eval/alpha{alpha:g}"
        for suffix, key in (
            ("", "eval/norm_return"),
            ("_last10", "eval/norm_return_last10"),
            ("_best", "eval/norm_return_best"),
        ):
            base = np.array([by[(alpha, r, "base")][key] for r in reps])
            par = np.array([by[(alpha, r, "par")][key] for r in reps])
            metrics |= {
                f"{tag}/base_mean{suffix}": float(base.mean()),
                f"{tag}/par_mean{suffix}": float(par.mean()),
                f"{tag}/mean_diff{suffix}": float((par - base).mean()),
            }
            if not suffix:
                metrics[f"{tag}/positive_frac"] = float(np.mean(par > base))
        gate_open = [by[(alpha, r, "par")]["train/gate_open_frac"] for r in reps]
        metrics[f"train/alpha{alpha:g}/par_gate_open_min"] = min(gate_open)
        metrics[f"train/alpha{alpha:g}/par_gate_open_max"] = max(gate_open)
    return metrics


def plot_curves(cfg: PairedConfig, by: dict, path) -> None:
    """Normalised return of the evaluated policy over training, mean over replicates, per alpha."""
    fig, axes = new_figure(cols=len(cfg.alphas))
    evaluations = len(next(iter(by.values()))["evals"])
    steps = np.minimum(np.arange(1, evaluations + 1) * cfg.offline.eval_every, cfg.offline.steps)
    for ax, alpha in zip(axes[0], cfg.alphas, strict=True):
        for arm, label in (("base", "TD3+BC"), ("par", "TD3+BC + PAR")):
            curves = np.array([by[(alpha, r, arm)]["evals"] for r in range(cfg.replicates)])
            ax.plot(steps, curves.mean(0), marker="o", label=label)
        ax.set_title(f"alpha = {alpha:g}, {cfg.replicates} paired seeds", fontsize=9)
        ax.set_xlabel("training step")
        ax.set_ylabel("normalised return")
        ax.legend(fontsize=7)
    save_figure(fig, path)
