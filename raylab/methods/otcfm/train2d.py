"""`otcfm/train2d`: a trained exact-OT CFM field against the population field, and our trainer beside
torchcfm's in the same run (check B4: a 2-D trained model compared with torchcfm).

Each (target, B, replicate, trainer) training is one work item fanned out through the mapper. Both
trainers of a replicate share its seed: the same initial network and the same minibatches of x0 and
x1 (t is drawn from a generator of its own); they differ only in the coupling (our exact permutation
vs torchcfm's plan re-sampling) and in the draws of t.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from raylab.context import RunContext
from raylab.methods.otcfm import flow, plots
from raylab.methods.otcfm.claims import trained_field_claims
from raylab.methods.otcfm.config import Train2DConfig
from raylab.methods.otcfm.proximal import make_discrete_target
from raylab.methods.otcfm.targets import DiscreteTarget
from raylab.records import ResultRecord
from raylab.seeding import derive_seed, seed_everything

log = logging.getLogger("raylab")


@dataclasses.dataclass(frozen=True)
class TrainRun:
    """One training and its evaluation; `eval_seed` is shared by every run on the same target."""

    target: str
    batch: int
    seed: int
    trainer: str
    eval_seed: int
    steps: int
    hidden: int
    lr: float
    eval_times: tuple[float, ...]
    eval_points: int
    ode_steps: int
    w2_points: int


def batch_sampler(run: TrainRun, shared: DiscreteTarget | None) -> Callable[[], tuple[Any, Any]]:
    """The run's minibatches (x0, x1): x0 from a torch generator and x1 from a numpy one, both seeded
    by the replicate's seed alone, so both trainers of a replicate see the same batches."""
    rng, generator = np.random.default_rng(run.seed), torch.Generator().manual_seed(run.seed)

    def sample_batch() -> tuple[torch.Tensor, torch.Tensor]:
        x0 = torch.randn(run.batch, 2, generator=generator)
        return x0, torch.from_numpy(flow.sample_target(run.target, run.batch, rng, shared)).float()

    return sample_batch


def train_and_evaluate(run: TrainRun, shared: DiscreteTarget | None = None) -> dict:
    """Train one field; returns its final loss, throughput and `evaluate`'s metrics. Our trainer
    draws t from a generator of its own (torchcfm draws it from torch's global RNG), so drawing t
    never moves the batch streams."""
    seed_everything(run.seed)  # torchcfm draws t and its plan samples from the global RNGs
    field = flow.VectorField(run.hidden)
    times = torch.Generator().manual_seed(derive_seed(run.seed, "t"))
    if run.trainer.startswith("torchcfm"):
        from torchcfm.conditional_flow_matching import ExactOptimalTransportConditionalFlowMatcher

        matcher = ExactOptimalTransportConditionalFlowMatcher(sigma=0.0)
        replace = run.trainer == "torchcfm"
        pairs = flow.torchcfm_pairs(matcher) if replace else flow.torchcfm_plan_pairs(matcher, replace=False)
    else:
        pairs = flow.ours_pairs
    return {
        **flow.train(field, batch_sampler(run, shared), pairs, run.steps, run.lr, times),
        **evaluate(field, run, shared),
    }


@torch.no_grad()
def evaluate(field: flow.VectorField, run: TrainRun, shared: DiscreteTarget | None) -> dict:
    """L2 error against the population field along mu_t at the eval times (where it is exact), and
    W2 to fresh target draws of RK4 samples and of one Euler step; common draws for every run."""
    evaluation = np.random.default_rng(run.eval_seed)
    x0 = evaluation.standard_normal((run.eval_points, 2))
    exact = flow.population_field(run.target, x0, shared)
    found = {}
    if exact is not None:
        predicted = [
            field(torch.from_numpy(x0 + t * exact).float(), torch.tensor(t)).numpy() for t in run.eval_times
        ]
        found["l2_error"] = float(np.mean([((p - exact) ** 2).sum(1).mean() for p in predicted]))
    start = torch.from_numpy(evaluation.standard_normal((run.w2_points, 2))).float()
    reference = flow.sample_target(run.target, 2 * run.w2_points, evaluation, shared)
    found["w2"] = flow.w2(flow.sample_ode(field, start, run.ode_steps).numpy(), reference)
    found["w2_euler1"] = flow.w2((start + field(start, torch.tensor(0.0))).numpy(), reference)
    return found


def available_trainers(cfg: Train2DConfig) -> list[str]:
    """The configured trainers that are installed (torchcfm is an optional extra: both its arms)."""
    if any(t.startswith("torchcfm") for t in cfg.trainers) and importlib.util.find_spec("torchcfm") is None:
        log.warning("torchcfm is not installed: `pip install --no-deps torchcfm==1.0.7` adds its arms")
        return [t for t in cfg.trainers if not t.startswith("torchcfm")]
    return list(cfg.trainers)


def run(cfg: Train2DConfig, ctx: RunContext) -> ResultRecord:
    discrete = make_discrete_target(cfg.discrete, cfg.seed)[0] if "discrete" in cfg.targets else None
    trainers = available_trainers(cfg)
    runs = [
        TrainRun(
            target,
            batch,
            derive_seed(cfg.seed, "train", target, batch, r),
            trainer,
            derive_seed(cfg.seed, "eval", target),
            cfg.steps,
            cfg.hidden,
            cfg.lr,
            tuple(cfg.eval_times),
            cfg.eval_points,
            cfg.ode_steps,
            cfg.w2_points,
        )
        for target in cfg.targets
        for batch in cfg.batch_sizes
        for r in range(cfg.replicates)
        for trainer in trainers
    ]
    results = ctx.map(train_and_evaluate, runs, name="otcfm-train", shared=discrete)
    summary = summarise(runs, results)
    metrics = {"torchcfm/available": float("torchcfm" in trainers), **exact_sampler_w2(cfg, discrete)}
    for (trainer, target, batch, key), (mean, sd) in summary.items():
        namespace = "time/" if key == "steps_per_s" else ""
        metrics[f"{namespace}{trainer}/{target}/B{batch}/{key}"] = mean
        if key != "steps_per_s":
            metrics[f"{trainer}/{target}/B{batch}/{key}_sd"] = sd
    ctx.report(metrics)
    plots.plot_training(summary, cfg.batch_sizes, ctx.artifact("train2d.png"))
    return ctx.result(metrics, trained_field_claims(summary, cfg.batch_sizes, trainers))


def exact_sampler_w2(cfg: Train2DConfig, discrete: DiscreteTarget | None) -> dict:
    """W2 between two independent samples of each target at the evaluation's sizes: one draw of what
    an exact sampler scores (the empirical W2 does not go to 0 at finite sample sizes; on multi-modal
    targets it is dominated by how the draws split between the modes)."""
    found = {}
    for target in cfg.targets:
        a, b = (np.random.default_rng(derive_seed(cfg.seed, "exact_samples", target, k)) for k in (0, 1))
        samples = flow.sample_target(target, cfg.w2_points, a, discrete)
        found[f"reference/{target}/w2_exact_samples"] = flow.w2(
            samples, flow.sample_target(target, 2 * cfg.w2_points, b, discrete)
        )
    return found


def summarise(runs: list[TrainRun], results: list[dict]) -> dict:
    """(trainer, target, B, metric) -> (mean, sd over replicates)."""
    groups: dict = {}
    for item, result in zip(runs, results, strict=True):
        for key, value in result.items():
            groups.setdefault((item.trainer, item.target, item.batch, key), []).append(value)
    return {
        k: (float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0) for k, v in groups.items()
    }
