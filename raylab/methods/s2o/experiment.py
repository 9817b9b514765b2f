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
    in_best_window,
    learning_rate,
    selection_score,
    train_epoch,
)
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


def train_cell(
    cell: Cell, cfg: S2OConfig, shared: ImageData, checkpointer: Checkpointer | None = None, report=None
) -> dict:
    """Train one cell (resuming from `checkpointer`'s latest epoch when given), then evaluate it.
    Returns its per-epoch curve, the final model's metrics and, with `eval.best_window`, the metrics of
    the window's best model (`best`, with its 1-based `epoch`)."""
    data, device = shared, pick_device(cfg.device)
    model, optimizer = build(cell, cfg, data, device)
    generator = torch.Generator().manual_seed(derive_seed(cell.seed, "batches"))
    curve, start, best = [], 0, None
    restored = checkpointer.load_latest() if checkpointer else None
    if restored:
        epoch, state = restored
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        curve, start, best = state["curve"], epoch + 1, state.get("best")
    for epoch in range(start, cfg.train.epochs):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(cfg, epoch)
        stats = train_epoch(model, optimizer, cell, cfg, data, generator, device)
        curve.append({"epoch": epoch, **stats, **curve_point(model, cfg, data, cell, epoch, device)})
        if in_best_window(cfg, epoch):
            curve[-1]["select_pgd20"] = score = selection_score(model, cfg, data, cell, device)
            best = better_checkpoint(best, model, epoch, score)
        if checkpointer:
            checkpointer.save(checkpoint_state(model, optimizer, generator, curve, best), epoch)
        if report:
            row = curve[-1]
            # eval/cell/*: this cell's accuracy now (curve points per epoch, eval points at the end), one
            # name across a sweep's trials for Tune's metric and schedulers
            report(
                {"train/loss": row["loss"], "eval/cell/clean": row["clean"], "eval/cell/pgd20": row["pgd20"]}
                | {"time/images_per_s": row["images_per_s"]},
                epoch,
            )
    result = {"curve": curve, "final": evaluate(model, cfg, data, cell, device)}
    if best is not None:
        model.load_state_dict(best["model"])
        result["best"] = {**evaluate(model, cfg, data, cell, device), "epoch": best["epoch"]}
    return result


def cpu_state(model: torch.nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def checkpoint_state(model, optimizer, generator, curve: list[dict], best: dict | None) -> dict:
    """What a resumed cell needs: model, optimizer, batch RNG, curve and the window's best so far."""
    state = {
        "model": cpu_state(model),
        "optimizer": optimizer.state_dict(),
        "generator": generator.get_state(),
        "curve": curve,
    }
    return state | ({"best": best} if best is not None else {})


def better_checkpoint(best: dict | None, model: torch.nn.Module, epoch: int, score: float) -> dict:
    """The window's best model after the 0-based `epoch` scored `score` (the earliest of equal scores):
    {"epoch" (from 1), "score", "model" (a CPU copy of its state)}."""
    if best is not None and best["score"] >= score:
        return best
    return {"epoch": epoch + 1, "score": score, "model": cpu_state(model)}


def cells(cfg: S2OConfig) -> list[Cell]:
    """Replicate-major, so that every variant of a replicate shares its seed (init, batches, attacks)."""
    return [
        Cell(variant, r, derive_seed(cfg.seed, "replicate", r))
        for r in range(cfg.replicates)
        for variant in cfg.variants
    ]


def metric_family(grid: list[Cell], rows: list[dict], prefix: str) -> tuple[dict, dict]:
    """(rows by variant, `{prefix}/{variant}/r{replicate}/{key}` per cell then `{prefix}/{variant}/{key}`
    means and `_sd` over replicates)."""
    by_variant: dict[str, list[dict]] = {}
    metrics: dict[str, float] = {}
    for cell, row in zip(grid, rows):
        by_variant.setdefault(cell.variant, []).append(row)
        metrics |= {f"{prefix}/{cell.variant}/r{cell.replicate}/{key}": v for key, v in row.items()}
    for variant, variant_rows in by_variant.items():
        for key in variant_rows[0]:
            values = [row[key] for row in variant_rows]
            metrics[f"{prefix}/{variant}/{key}"] = float(np.mean(values))
            if len(values) > 1:
                metrics[f"{prefix}/{variant}/{key}_sd"] = float(np.std(values, ddof=1))
    return by_variant, metrics


def metrics_of(grid: list[Cell], results: list[dict]) -> tuple[dict, dict, dict]:
    """(reported metrics by variant, curves by variant, flat metrics). The reported model is the
    window's best with `eval.best_window` (then `eval/best/*` and `eval/final/*` hold both models'
    metrics as well), else the final one; `eval/{variant}/*` are its per-variant means and sds and
    per-cell values; a one-cell run (a sweep trial) also reports them as `eval/cell/*`, one name across
    trials for Tune."""
    reported = [result.get("best", result["final"]) for result in results]
    finals, metrics = metric_family(grid, reported, "eval")
    curves: dict[str, list[list[dict]]] = {}
    for cell, result in zip(grid, results):
        curves.setdefault(cell.variant, []).append(result["curve"])
        metrics[f"time/{cell.variant}/r{cell.replicate}/images_per_s"] = float(
            np.mean([row["images_per_s"] for row in result["curve"]])
        )
    if len(grid) == 1:
        metrics.update({f"eval/cell/{key}": value for key, value in reported[0].items()})
    if any("best" in result for result in results):
        metrics |= metric_family(grid, [r["best"] for r in results], "eval/best")[1]
        metrics |= metric_family(grid, [r["final"] for r in results], "eval/final")[1]
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
    ctx.artifact("results.md").write_text(results_markdown(cfg, grid, results, finals))
    return ctx.result(metrics, claims)


def results_markdown(cfg: S2OConfig, grid: list[Cell], results: list[dict], reported: dict) -> str:
    """The results table of the reported models; with a best-of-window selection, the final models'
    table below it."""
    table = plots.results_table(reported, cfg.data.name)
    if not cfg.eval.best_window:
        return table
    first, last = cfg.eval.best_window
    epochs = ", ".join(f"{c.variant} r{c.replicate}: {r['best']['epoch']}" for c, r in zip(grid, results))
    finals = metric_family(grid, [r["final"] for r in results], "eval")[0]
    final_table = plots.results_table(finals, cfg.data.name, paper=False)
    return (
        f"Best of epochs {first}-{last} by PGD-20 on the attacked test images ({epochs}):\n\n{table}\n"
        f"Final model (epoch {cfg.train.epochs}):\n\n{final_table}"
    )
