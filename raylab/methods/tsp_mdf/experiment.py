"""TSP-MDF experiment: train the modifier (or load one), then on the test instances compare, per
heuristic and on one common sample stream: plain H, the untrained random-shift ablation (best sigma),
the untrained modifier (its initial state) and the trained modifier, at each K; optional 2-opt and an
LKH-3 anchor. Every sampled construction goes through `ctx.map` (Ray actors under `raylab run`).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch

from raylab.context import RunContext
from raylab.methods.tsp_mdf import claims as claim_sets
from raylab.methods.tsp_mdf import keys, plots
from raylab.methods.tsp_mdf.anchors import lkh_lengths, two_opt_lengths
from raylab.methods.tsp_mdf.config import TSPConfig
from raylab.methods.tsp_mdf.data import InstanceSet, load
from raylab.methods.tsp_mdf.evaluate import (
    Sampled,
    ablation_models,
    gaps,
    modifier_models,
    per_instance_gap,
    sample,
)
from raylab.methods.tsp_mdf.heuristics import insertion_tour
from raylab.methods.tsp_mdf.modifier import InstanceModifier
from raylab.methods.tsp_mdf.train import train_modifier
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


def obtain_modifier(cfg: TSPConfig, ctx: RunContext, map_fn) -> tuple[InstanceModifier, list[dict], float]:
    """Load `cfg.modifier`, or train one (resuming from the run's latest checkpoint); save it."""
    if cfg.modifier:
        saved = torch.load(cfg.modifier, weights_only=False)
        net = InstanceModifier(**saved["arch"])
        net.load_state_dict(saved["state"])
        return net, saved.get("history", []), 0.0
    began = time.perf_counter()
    ctx.expect_steps(cfg.train.steps)
    checkpointer = ctx.checkpointer
    assert checkpointer is not None  # RunContext.create sets it
    latest = checkpointer.load_latest()
    net, history = train_modifier(
        cfg.train,
        derive_seed(cfg.seed, "train"),
        map_fn,
        ctx.report,
        state=latest[1] if latest else None,
        save=checkpointer.save,
    )
    minutes = (time.perf_counter() - began) / 60
    torch.save(
        {"arch": net.arch, "state": net.state_dict(), "history": history, "train": ctx.config["train"]},
        ctx.artifact("modifier.pt"),
    )
    plots.plot_training(history, ctx.artifact("training.png"))
    return net, history, minutes


def _gaps_at_k(h: str, name: str, sampled: Sampled, data: InstanceSet, cfg: TSPConfig, ks: list[int]) -> dict:
    return {
        keys.at_k(h, name, k, stat): value
        for k in ks
        for stat, value in gaps(sampled.best(k), data, cfg.data.reference_mean).items()
    }


def gap_key(data: InstanceSet) -> str:
    return "gap" if data.references is not None else "gap_of_means"


def run(cfg: TSPConfig, ctx: RunContext) -> ResultRecord:
    data = load(cfg.data, cfg.seed, ctx.data_roots)
    map_fn = lambda fn, items, shared: ctx.map(fn, items, name="tsp-sampler", shared=shared)  # noqa: E731
    net, history, train_minutes = obtain_modifier(cfg, ctx, map_fn)
    untrained = InstanceModifier(**net.arch)
    ks, seed = sorted(set(cfg.k_values) | {cfg.samples}), derive_seed(cfg.seed, "test-noise")
    metrics = {
        "time/train_minutes": train_minutes,
        "data/instances": float(len(data.unit)),
        "data/nodes": float(np.mean([len(c) for c in data.unit])),
        **training_summary(history),
    }
    key, curves, sampled_runs = gap_key(data), {}, {}
    for h in cfg.methods:
        sampled_runs[h], curves[h], found = evaluate_heuristic(
            h, cfg, data, (net, untrained), ks, seed, map_fn
        )
        metrics.update(found)
    metrics.update(_extras(cfg, data, sampled_runs, map_fn, seed, key))
    plain_all, nodes = _plain_full_set(cfg, map_fn, ctx.data_roots)
    metrics.update(plain_all)
    plots.plot_gap_vs_k(ks, curves, f"{key} (%)", ctx.artifact("gap_vs_k.png"))
    h = cfg.methods[0]
    best = sampled_runs[h]["mdf"]
    plots.plot_tours(
        data.unit[0],
        {
            f"plain {h}": (insertion_tour(data.unit[0], h), float(best.plain[0])),
            f"{h}+MDF K={max(ks)}": (best.tours[0], float(best.best(max(ks))[0])),
        },
        ctx.artifact("tour.png"),
    )
    ctx.report(metrics)
    return ctx.result(metrics, _claims(cfg, data, metrics, key, nodes))


def training_summary(history: list[dict]) -> dict[str, float]:
    """The last held-out evaluation of training (check 11's numbers) and the step count."""
    if not history:
        return {}
    found = {f"train/final/{k.split('/', 1)[1]}": v for k, v in history[-1].items() if k != "step"}
    change = history[-1]["held_out/mean_sample"] / history[0]["held_out/mean_sample"] - 1
    return {**found, "train/steps": float(history[-1]["step"]), keys.HELD_OUT_CHANGE: change}


def evaluate_heuristic(
    h: str, cfg: TSPConfig, data: InstanceSet, nets: tuple, ks: list[int], seed: int, map_fn
) -> tuple[dict[str, Sampled], dict[str, list[float]], dict[str, float]]:
    """Plain, trained / untrained modifier and every ablation sigma for heuristic `h` on one sample
    stream; returns the runs, the gap-vs-K curves and the metrics (gaps at each K, the best sigma,
    wins and timings)."""
    key, k_max = gap_key(data), max(ks)
    runs = {
        name: sample(data, modifier_models(net, data, h, cfg.train.clip), k_max, h, seed, cfg.chunk, map_fn)
        for name, net in zip(("mdf", "untrained"), nets, strict=True)
    }
    for sigma in cfg.ablation_sigmas:
        runs[f"ablation_{sigma:g}"] = sample(
            data, ablation_models(data, sigma), k_max, h, seed, cfg.chunk, map_fn
        )
    metrics = {
        keys.plain(h, stat): v for stat, v in gaps(runs["mdf"].plain, data, cfg.data.reference_mean).items()
    }
    best_sigma = min(
        cfg.ablation_sigmas,
        key=lambda s: gaps(runs[f"ablation_{s:g}"].best(cfg.samples), data, cfg.data.reference_mean)[key],
    )
    runs["ablation"] = runs[f"ablation_{best_sigma:g}"]
    for name, sampled in runs.items():
        metrics.update(_gaps_at_k(h, name, sampled, data, cfg, ks))
    metrics[keys.arm(h, "ablation", "best_sigma")] = best_sigma
    for name in ("mdf", "ablation"):  # at the configured K (the sweep metric when K varies)
        metrics[keys.arm(h, name, f"selected_K/{key}")] = metrics[keys.at_k(h, name, cfg.samples, key)]
    mdf, ablation = runs["mdf"].best(cfg.samples), runs["ablation"].best(cfg.samples)
    if data.references is not None and len(data.names) <= 20:  # TSPLIB-sized sets: per-instance table
        for name, plain_gap, mdf_gap in zip(
            data.names, per_instance_gap(runs["mdf"].plain, data), per_instance_gap(mdf, data), strict=True
        ):
            metrics[f"{h}/instance/{name}/plain_gap"], metrics[f"{h}/instance/{name}/mdf_gap"] = (
                plain_gap,
                mdf_gap,
            )
    metrics[keys.arm(h, "mdf", "wins")] = float(np.sum(mdf < ablation))
    metrics[keys.arm(h, "mdf", "wins_vs_plain")] = float(np.sum(mdf < runs["mdf"].plain))
    metrics[keys.arm(h, "mdf", "max_excess_over_plain")] = float(
        np.max(runs["mdf"].best(max(ks)) - runs["mdf"].plain)
    )
    metrics[keys.arm(h, "mdf", "wins_vs_untrained")] = float(
        np.sum(mdf < runs["untrained"].best(cfg.samples))
    )
    metrics[f"time/{h}/mdf_seconds_per_instance"] = runs["mdf"].seconds / len(data.unit)
    metrics[f"time/{h}/constructions_per_s"] = k_max * len(data.unit) / runs["mdf"].seconds
    labels = {
        "ablation": f"random shifts (sigma={best_sigma:g})",
        "untrained": "untrained modifier",
        "mdf": "trained modifier (MDF)",
    }
    curve = {"plain": [metrics[keys.plain(h, key)]] * len(ks)}
    curve.update({label: [metrics[keys.at_k(h, name, k, key)] for k in ks] for name, label in labels.items()})
    return runs, curve, metrics


def _extras(cfg: TSPConfig, data: InstanceSet, runs: dict, map_fn, seed: int, key: str) -> dict[str, float]:
    """The sigma = 0.01 control (best of K shifted samples), 2-opt on plain and best MDF tours, and
    the LKH-3 anchor (FI)."""
    if "farthest" not in runs:
        return {}
    large = sample(
        data, ablation_models(data, cfg.large_sigma), cfg.samples + 1, "farthest", seed, cfg.chunk, map_fn
    )
    shifted_best = large.lengths[:, 1:].min(axis=1)  # without the plain sample, which would always win here
    metrics = {keys.large_sigma(k): v for k, v in gaps(shifted_best, data, cfg.data.reference_mean).items()}
    if cfg.two_opt:
        plain, mdf = two_opt_lengths(data, "farthest", runs["farthest"]["mdf"].tours, map_fn)
        metrics[keys.two_opt("plain")] = gaps(plain, data, cfg.data.reference_mean)[key]
        metrics[keys.two_opt("mdf")] = gaps(mdf, data, cfg.data.reference_mean)[key]
    if cfg.lkh:
        lengths = lkh_lengths(data, cfg.lkh, map_fn)
        if lengths is not None:
            metrics["lkh/length"] = float(lengths.mean())
            if data.references is not None:
                metrics["lkh/gap"] = float(100 * np.mean(lengths / data.references[: len(lengths)] - 1))
                metrics["lkh/reference_length"] = float(data.references[: len(lengths)].mean())
    return metrics


def _plain_full_set(cfg: TSPConfig, map_fn, roots) -> tuple[dict[str, float], int | None]:
    """Plain means over every instance of a `.npy` file (the published-mean check), and its N."""
    if not (cfg.plain_full_set and cfg.data.path.endswith(".npy")):
        return {}, None
    full = load(dataclasses.replace(cfg.data, instances=0, references=""), cfg.seed, roots)
    metrics = {"data/full_set_instances": float(len(full.unit))}
    for h in cfg.methods:
        plain = sample(full, ablation_models(full, 0.0), 1, h, 0, cfg.chunk, map_fn)
        metrics[keys.plain_all(h)] = float(plain.plain.mean())
        metrics[f"time/{h}/plain_seconds_per_instance"] = plain.seconds / len(full.unit)
    return metrics, len(full.unit[0])


def _claims(cfg: TSPConfig, data: InstanceSet, m: dict, key: str, nodes: int | None) -> list:
    """`claims`: "tsplib" (check 12), "plain" (checks 1 / 14), "uniform" (plain + checks 7-10, 13)."""
    if cfg.claims == "tsplib":
        return claim_sets.tsplib_claims(m, len(data.unit))
    sizes = {len(c) for c in data.unit}
    found = claim_sets.plain_claims(m, cfg.methods, nodes or (sizes.pop() if len(sizes) == 1 else None))
    found += claim_sets.lkh_claims(m)
    if cfg.claims == "plain":
        return found
    return found + claim_sets.uniform_claims(m, cfg.methods, cfg.samples, len(data.unit), key)
