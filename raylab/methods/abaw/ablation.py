"""`abaw/synthetic`: the paper's ingredients measured against each other on the synthetic set:
modality dropout vs none vs an audio-only model, focal loss vs cross-entropy, and
soft voting with and without impulsive visual corruptions. Every arm is trained `seeds` times, one
model per fan-out item (Ray tasks on a cluster), all arms of a seed from the same initialisation.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from raylab.context import RunContext
from raylab.data_parallel import run_local
from raylab.devices import pick_device
from raylab.methods.abaw import claims, layout, plots, synthetic
from raylab.methods.abaw.config import AbawConfig
from raylab.methods.abaw.evaluate import rare_recall, rarest_classes, score
from raylab.methods.abaw.experiment import data_root, load_model
from raylab.methods.abaw.train import make_windows, train_loop
from raylab.records import ResultRecord
from raylab.seeding import derive_seed

log = logging.getLogger("raylab")
IMPULSIVE_RATE = 0.04  # our pick in 3-5 %: frames showing a wrong-class visual vector (config has none)


def arms(cfg: AbawConfig) -> dict[str, AbawConfig]:
    """The compared models: the configured one (modality dropout) and its ablations."""
    t = cfg.train

    def variant(**changes) -> AbawConfig:
        return dataclasses.replace(cfg, train=dataclasses.replace(t, **changes))

    return {
        "dropout": cfg,
        "no_dropout": variant(visual_dropout=0.0, audio_dropout=0.0),
        "audio_only": variant(visual_dropout=1.0, audio_dropout=0.0),
        "cross_entropy": variant(focal_gamma=0.0, focal_alpha="none"),
    }


def train_arm(item: tuple[str, int], shared: dict) -> dict:
    """One model of one arm and seed, scored on the clean and the corrupted validation set."""
    arm, seed_index = item
    cfg = arms(shared["cfg"])[arm]
    seed = derive_seed(cfg.seed, "abaw", "model", seed_index)
    device = pick_device(cfg.device)
    state = run_local(
        train_loop, {"cfg": cfg, "seed": seed, "windows": shared["windows"]}, workers=1, device=device
    )
    model = load_model(cfg, state, shared["val"], device)
    result, _, _ = score(model, shared["val"], cfg, device)
    impulses, _, _ = score(model, shared["impulsive"], cfg, device, prefix="impulses")
    result |= {k: v for k, v in impulses.items() if k in ("impulses/f1", "impulses_voted/f1")}
    result["val/rare_recall"] = rare_recall(model, shared["val"], cfg, device, shared["rare"])
    result["time/train_s"] = sum(row["time/epoch_s"] for row in state["history"])
    return result


def run(cfg: AbawConfig, ctx: RunContext) -> ResultRecord:
    root = data_root(
        dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, root="synthetic")), ctx.out_dir
    )
    load = lambda folder, split: layout.load_split(folder, split, cfg.data.fps, cfg.data.audio_hz)  # noqa: E731
    train, val = load(root, "train"), load(root, "val")
    corrupted = dataclasses.replace(
        cfg.data.synthetic, impulsive_rate=cfg.data.synthetic.impulsive_rate or IMPULSIVE_RATE
    )
    synthetic.generate(
        ctx.out_dir / "data_impulsive", cfg.seed, corrupted, cfg.data.fps, cfg.data.audio_hz, ("val",)
    )
    shared = {
        "cfg": cfg,
        "windows": make_windows(train, cfg.model.window),
        "val": val,
        "impulsive": load(ctx.out_dir / "data_impulsive", "val"),
        "rare": rarest_classes(np.concatenate([v.labels for v in train])),
    }
    items = [(arm, s) for s in range(cfg.seeds) for arm in arms(cfg)]
    results = ctx.map(train_arm, items, name="abaw-arms", shared=shared)
    per_arm: dict[str, list[dict]] = {arm: [] for arm in arms(cfg)}
    for (arm, _), result in zip(items, results):
        per_arm[arm].append(result)
    metrics = summarise(per_arm)
    main = per_arm["dropout"]
    record_claims = (
        claims.dropout_claims(per_arm)
        + claims.voting_claims(
            [r["val/flips_per_100"] for r in main],
            [r["val_voted/flips_per_100"] for r in main],
            [r["val/f1"] for r in main],
            [r["val_voted/f1"] for r in main],
        )
        + [claims.impulsive_claim([r["impulses/f1"] for r in main], [r["impulses_voted/f1"] for r in main])]
    )
    if metrics["rare_recall/focal"] < metrics["rare_recall/cross_entropy"]:
        log.warning(
            "focal loss recalled the 3 rarest classes less often than cross-entropy (%.3f < %.3f): "
            "expected >=; an uncalibrated check, recorded as metrics only",
            metrics["rare_recall/focal"],
            metrics["rare_recall/cross_entropy"],
        )
    ctx.artifact("ablation.md").write_text(plots.ablation_table(per_arm))
    ctx.report({k: v for k, v in metrics.items() if k.startswith("dropout/")})
    return ctx.result(metrics, record_claims)


def summarise(per_arm: dict[str, list[dict]]) -> dict[str, float]:
    """Mean over seeds of each arm's metrics (`<arm>/<metric>`), plus the long-tail comparison."""
    metrics = {}
    for arm, results in per_arm.items():
        for key in (
            "val/f1",
            "val_no_visual/f1",
            "val_voted/f1",
            "val/accuracy",
            "val/flips_per_100",
            "val_voted/flips_per_100",
            "impulses/f1",
            "impulses_voted/f1",
        ):
            metrics[f"{arm}/{key}"] = float(np.mean([r[key] for r in results]))
        metrics[f"time/{arm}_train_s"] = float(np.mean([r["time/train_s"] for r in results]))
    metrics["rare_recall/focal"] = float(np.mean([r["val/rare_recall"] for r in per_arm["dropout"]]))
    metrics["rare_recall/cross_entropy"] = float(
        np.mean([r["val/rare_recall"] for r in per_arm["cross_entropy"]])
    )
    return metrics
