"""Label-noise SGD / SAM on a two-layer linear net: the studied run plus its controls, side by side.

`kind` picks the study; each condition (e.g. delta=4 and its delta=0 control) runs all seeds at once
(vectorised), and conditions are fanned out with `ctx.map`. Conditions share the teacher, data and
initialisation of each seed (common random numbers). A single condition streams its metrics.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from raylab.context import RunContext
from raylab.methods.label_noise import claims
from raylab.methods.label_noise.config import DataConfig, LabelNoiseConfig, TrainConfig
from raylab.methods.label_noise.core import Schedule, init_params, make_task, phase_boundaries, train
from raylab.methods.label_noise.plots import plot_conditions
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


def conditions(cfg: LabelNoiseConfig) -> dict[str, TrainConfig]:
    """The studied run and the controls its claims compare against."""
    main = cfg.train
    if cfg.kind in ("two_phase", "generalisation"):
        return {"noisy": main, "clean": dataclasses.replace(main, delta=0.0, finish_steps=0)}
    if cfg.kind == "sam":
        return {"sam": main, "sgd": dataclasses.replace(main, sam_rho=0.0)}
    if cfg.kind == "sam_noise":
        return {"sam_noise": main, "noise_sgd": dataclasses.replace(main, sam_rho=0.0)}
    if cfg.kind == "forced":
        return {"forced": main, "unforced": dataclasses.replace(main, oscillate=0.0)}
    return {cfg.kind: main}


@dataclasses.dataclass(frozen=True)
class Condition:
    """One work item: a training condition run on every seed's (teacher, data, init) draw."""

    label: str
    train: TrainConfig
    data: DataConfig
    task_seeds: tuple[int, ...]  # one per seed; shared by every condition (common random numbers)
    train_seed: int  # label-noise / minibatch stream
    log_every: int


def make_conditions(cfg: LabelNoiseConfig) -> list[Condition]:
    task_seeds = tuple(derive_seed(cfg.seed, "task", s) for s in range(cfg.num_seeds))
    return [
        Condition(label, tc, cfg.data, task_seeds, derive_seed(cfg.seed, "train"), cfg.log_every)
        for label, tc in conditions(cfg).items()
    ]


def run_condition(item: Condition, on_log=None) -> dict[str, np.ndarray]:
    """Train one condition for every seed; returns (seeds, steps) traces."""
    data, tc = item.data, item.train
    seed_rngs = [np.random.default_rng(seed) for seed in item.task_seeds]
    task = make_task(seed_rngs, data.d, data.n, data.n_test, data.sparsity, data.teacher_norm)
    a, w = init_params(seed_rngs, tc.m, data.d, tc.init_scale)
    schedule = Schedule(tc.delta, tc.steps, tc.period, tc.finish_steps)
    rng = np.random.default_rng(item.train_seed)
    return train(
        a,
        w,
        task,
        schedule,
        tc.lr,
        tc.batch,
        rng,
        item.log_every,
        noise=tc.noise,
        sam_rho=tc.sam_rho,
        fresh_noise=tc.fresh_noise,
        oscillate=tc.oscillate,
        on_log=on_log,
    )


def summarise(label: str, trace: dict) -> dict[str, float]:
    t_norm, t_align = phase_boundaries(trace)
    final = {
        key: float(trace[key][:, -1].mean())
        for key in ("norm", "abs_a", "cos", "inv_stable_rank", "train_loss", "test_loss")
    }
    final["norm_ratio"] = float((trace["norm"][:, -1] / trace["norm"][:, 0]).mean())
    final["t_norm"], final["t_align"] = float(t_norm.mean()), float(t_align.mean())
    return {f"eval/{label}/{key}": value for key, value in final.items()}


def evaluate(cfg: LabelNoiseConfig, traces: dict[str, dict]) -> list:
    tc = cfg.train
    if cfg.kind == "two_phase":
        return claims.two_phase(traces["noisy"], traces["clean"], tc.steps, finished=tc.finish_steps > 0)
    if cfg.kind == "periodic":
        return claims.periodic(traces["periodic"], tc.period, tc.steps)
    if cfg.kind == "forced":
        return claims.forced(traces["forced"], traces["unforced"], tc.steps)
    if cfg.kind == "forced_periodic":
        return claims.periodic(
            traces["forced_periodic"], tc.period, tc.steps, prefix="F-e", second_layer=False
        )
    if cfg.kind == "sam":
        return claims.sam(traces["sam"], traces["sgd"])
    if cfg.kind == "sam_noise":
        return claims.sam_noise(traces["sam_noise"], traces["noise_sgd"], tc.steps)
    if cfg.kind == "generalisation":
        return claims.generalisation(traces["noisy"], traces["clean"])
    if cfg.kind == "readme_scale":
        return claims.readme_scale(traces["readme_scale"], tc.steps)
    return claims.phase_one_under_way(traces[cfg.kind])


def run(cfg: LabelNoiseConfig, ctx: RunContext) -> ResultRecord:
    items = make_conditions(cfg)
    if len(items) == 1:
        ctx.expect_steps(items[0].train.steps + items[0].train.finish_steps)

        def stream(step, row):
            ctx.report({f"train/{key}": float(np.mean(value)) for key, value in row.items()}, step=step)

        traces = {items[0].label: run_condition(items[0], on_log=stream)}
    else:
        runs = ctx.map(run_condition, items, name="label-noise-condition")
        traces = {item.label: trace for item, trace in zip(items, runs, strict=True)}

    metrics: dict[str, float] = {}
    for label, trace in traces.items():
        metrics.update(summarise(label, trace))
    ctx.report(metrics)
    plot_conditions(traces, ctx.artifact("dynamics.png"), title=f"{ctx.experiment} ({cfg.kind})")
    return ctx.result(metrics, evaluate(cfg, traces))
