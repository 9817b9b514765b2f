"""`s2o/*`: adversarial training with and without S2O (and SAM) on one data split, then clean /
PGD-20 / CW-20 / AutoAttack accuracy and the mechanism statistics.

Cells (variant x replicate) fan out through the run's mapper; a run of one cell trains in the
driver instead, checkpointing every epoch so that a stopped or preempted run (a Tune trial) resumes
where it stopped.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from raylab.context import Checkpointer, RunContext
from raylab.devices import pick_device
from raylab.methods.s2o import claims as claims_mod
from raylab.methods.s2o import plots
from raylab.methods.s2o.config import S2OConfig
from raylab.methods.s2o.data import ImageData, load
from raylab.methods.s2o.train import (
    Cell,
    build,
    curve_point,
    evaluate,
    learning_rate,
    train_epoch,
)
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


def train_cell(
    cell: Cell, cfg: S2OConfig, shared: ImageData, checkpointer: Checkpointer | None = None, report=None
) -> dict:
    """Train one cell (resuming from `checkpointer`'s latest epoch when given), then evaluate it.
    Returns its per-epoch curve and final metrics."""
    data, device = shared, pick_device(cfg.device)
    model, optimizer = build(cell, cfg, data, device)
    generator = torch.Generator().manual_seed(derive_seed(cell.seed, "batches"))
    curve, start = [], 0
    restored = checkpointer.load_latest() if checkpointer else None
    if restored:
        epoch, state = restored
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        curve, start = state["curve"], epoch + 1
    for epoch in range(start, cfg.train.epochs):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(cfg, epoch)
        stats = train_epoch(model, optimizer, cell, cfg, data, generator, device)
        curve.append({"epoch": epoch, **stats, **curve_point(model, cfg, data, cell, epoch, device)})
        if checkpointer:
            state = {
                "model": {k: v.cpu() for k, v in model.state_dict().items()},
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
                "curve": curve,
            }
            checkpointer.save(state, epoch)
        if report:
            row = curve[-1]
            # eval/cell/*: this cell's accuracy now (curve points per epoch, eval points at the end), one
            # name across a sweep's trials for Tune's metric and schedulers
            report(
                {"train/loss": row["loss"], "eval/cell/clean": row["clean"], "eval/cell/pgd20": row["pgd20"]}
                | {"time/images_per_s": row["images_per_s"]},
                epoch,
            )
    return {"curve": curve, "final": evaluate(model, cfg, data, cell, device)}


def cells(cfg: S2OConfig) -> list[Cell]:
    """Replicate-major, so that every variant of a replicate shares its seed (init, batches, attacks)."""
    return [
        Cell(variant, r, derive_seed(cfg.seed, "replicate", r))
        for r in range(cfg.replicates)
        for variant in cfg.variants
    ]


def metrics_of(grid: list[Cell], results: list[dict]) -> tuple[dict, dict, dict]:
    """(finals by variant, curves by variant, flat metrics: per-variant means and sds, per-cell values;
    a one-cell run (a sweep trial) also reports `eval/cell/*`, one name across trials for Tune)."""
    finals: dict[str, list[dict]] = {}
    curves: dict[str, list[list[dict]]] = {}
    metrics: dict[str, float] = {}
    for cell, result in zip(grid, results):
        finals.setdefault(cell.variant, []).append(result["final"])
        curves.setdefault(cell.variant, []).append(result["curve"])
        for key, value in result["final"].items():
            metrics[f"eval/{cell.variant}/r{cell.replicate}/{key}"] = value
        metrics[f"time/{cell.variant}/r{cell.replicate}/images_per_s"] = float(
            np.mean([row["images_per_s"] for row in result["curve"]])
        )
    if len(grid) == 1:
        metrics.update({f"eval/cell/{key}": value for key, value in results[0]["final"].items()})
    for variant, rows in finals.items():
        for key in rows[0]:
            values = [row[key] for row in rows]
            metrics[f"eval/{variant}/{key}"] = float(np.mean(values))
            if len(values) > 1:
                metrics[f"eval/{variant}/{key}_sd"] = float(np.std(values, ddof=1))
    return finals, curves, metrics


def run(cfg: S2OConfig, ctx: RunContext) -> ResultRecord:
    d = cfg.data
    data = load(d.name, d.root, d.n_train, d.n_test, derive_seed(cfg.seed, "data"))
    grid = cells(cfg)
    ctx.expect_steps(cfg.train.epochs)
    if len(grid) == 1:
        results = [train_cell(grid[0], cfg, data, ctx.checkpointer, ctx.report)]
    else:
        results = ctx.map(functools.partial(train_cell, cfg=cfg), grid, name="s2o cells", shared=data)
    finals, curves, metrics = metrics_of(grid, results)
    ctx.report({k: v for k, v in metrics.items() if k.startswith("eval/") and k.count("/") == 2})

    claims = [
        *claims_mod.attack_claims(finals, cfg.eval.eps_grid),
        *claims_mod.pair_claims(finals),
        *claims_mod.trades_claims(finals, d.name, cfg.eval.eps),
    ]
    plots.plot_curves(curves, ctx.artifact("curves.png"))
    ctx.artifact("results.md").write_text(plots.results_table(finals, d.name))
    return ctx.result(metrics, claims)
