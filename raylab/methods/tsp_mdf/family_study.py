"""`tsp_mdf/families`: every structured shift family's best untrained setting at K = 8/32/128 (the
family table), then, per family at K = guided_k, test-time guided search against that best untrained
setting on fresh sample streams.

The best amplitude is chosen on stream 0; the comparison runs on streams 1..S for both arms, so the
untrained arm is not favoured by having been selected on the streams it is judged on.
"""

from __future__ import annotations

import time

import numpy as np

from raylab import RaylabError
from raylab.context import RunContext
from raylab.methods.tsp_mdf import guided
from raylab.methods.tsp_mdf.claims import guided_claims, local_search_claims
from raylab.methods.tsp_mdf.config import FamiliesConfig
from raylab.methods.tsp_mdf.data import InstanceSet, load
from raylab.methods.tsp_mdf.families import Family
from raylab.methods.tsp_mdf.plots import plot_family_table
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


def require_references(data: InstanceSet, experiment: str) -> InstanceSet:
    """`data`, if it has per-instance references (gaps are per instance)."""
    if data.references is None:
        raise RaylabError(f"{experiment} needs per-instance references (data.references or TSPLIB optima)")
    return data


def scoring_map(ctx: RunContext, name: str, data: InstanceSet):
    """`ctx.map` with the original instances added to the shared data, so that the builders score every
    tour in its instance's own metric (TSPLIB rounds each edge)."""
    originals = {"instances": data.originals}
    return lambda fn, items, shared: ctx.map(fn, items, name=name, shared={**shared, **originals})


def run(cfg: FamiliesConfig, ctx: RunContext) -> ResultRecord:
    data = require_references(load(cfg.data, cfg.seed, ctx.data_roots), "tsp_mdf/families")
    coords = [np.ascontiguousarray(o.coords, dtype=np.float64) for o in data.originals]
    seed = derive_seed(cfg.seed, "families")
    map_fn = scoring_map(ctx, "tsp-families", data)
    gap = lambda lengths: 100.0 * (lengths / data.references - 1.0)  # noqa: E731 (per instance, %)
    metrics: dict[str, float] = {"data/instances": float(len(coords))}
    table, claims = {}, []
    for name, amplitudes in cfg.amplitudes.items():
        grid = {a: untrained(cfg, map_fn, coords, name, a, max(cfg.k_values), seed, 0) for a in amplitudes}
        plain = gap(next(iter(grid.values()))[:, 0])
        metrics["eval/plain/gap"] = float(plain.mean())
        for k in cfg.k_values:
            best_a = min(amplitudes, key=lambda a: gap(grid[a][:, :k].min(1)).mean())
            best = gap(grid[best_a][:, :k].min(1))
            table[(name, k)] = float(best.mean())
            metrics |= {
                f"eval/{name}/K{k}/gap": float(best.mean()),
                f"eval/{name}/K{k}/amplitude": best_a,
                f"eval/{name}/K{k}/wins_vs_plain": float(np.sum(best < plain - 1e-9)),
            }
        found, numbers = compare(
            cfg, map_fn, coords, gap, name, metrics[f"eval/{name}/K{cfg.guided_k}/amplitude"], seed
        )
        metrics |= numbers
        claims += found
        if cfg.local_search:
            searched = with_local_search(
                cfg, map_fn, coords, gap, name, metrics[f"eval/{name}/K{cfg.guided_k}/amplitude"], seed
            )
            metrics |= searched
            claims += local_search_claims(searched, name, cfg.guided_k)
        ctx.report({k: v for k, v in metrics.items() if k.startswith(f"eval/{name}/")})
    plot_family_table(table, cfg.k_values, metrics["eval/plain/gap"], ctx.artifact("families.png"))
    ctx.report(metrics)
    return ctx.result(metrics, claims)


def family(cfg: FamiliesConfig, name: str, amplitude: float) -> Family:
    return Family(name, amplitude, length_scale=cfg.length_scale, group_size=cfg.group_size)


def untrained(cfg, map_fn, coords, name, amplitude, k, seed, stream) -> np.ndarray:
    return guided.untrained(
        map_fn, coords, family(cfg, name, amplitude), k, cfg.method, seed, stream, cfg.chunk
    )


def with_local_search(cfg: FamiliesConfig, map_fn, coords, gap, name: str, amplitude: float, seed: int):
    """Per-sample local search at K = guided_k on stream 1: the plain tour, the best untrained draw and the
    guided search when every built tour gets 2-opt + Or-opt (their gaps); the guided search's measured
    wall time per instance (on this run's mapper), and the serial cost of one sample (construction,
    local search; seconds, on the first instance) for reference."""
    k, fam, tag = cfg.guided_k, family(cfg, name, amplitude), f"eval/{name}/ls"
    plain = guided.untrained(map_fn, coords, fam, 1, cfg.method, seed, 1, local_search=True)[:, 0]
    base = guided.untrained(map_fn, coords, fam, k, cfg.method, seed, 1, cfg.chunk, local_search=True)
    began = time.perf_counter()
    steered = guided.cem(
        map_fn, coords, fam, k, cfg.rounds, cfg.method, seed, 1, cfg.elites, cfg.shrink, local_search=True
    )
    searched_s = (time.perf_counter() - began) / len(coords)
    cost = guided.seconds_per_sample(coords[0], fam, cfg.method, 16, seed)
    return {
        f"{tag}/plain_gap": float(gap(plain).mean()),
        f"{tag}/untrained_gap": float(gap(base.min(1)).mean()),
        f"{tag}/guided_gap": float(gap(steered.min(1)).mean()),
        f"time/{name}/construct_s": cost["construct"],
        f"time/{name}/local_search_s": cost["local_search"],
        f"time/{name}/guided_ls_s_per_instance": searched_s,
    }


def compare(cfg: FamiliesConfig, map_fn, coords, gap, name: str, amplitude: float, seed: int):
    """Guided vs the best untrained setting at K = guided_k on streams 1..S: mean gain (points) with
    its spread over streams, and the instances on which guided's stream-averaged gap is lower."""
    k, fam = cfg.guided_k, family(cfg, name, amplitude)
    base, steered = [], []
    for stream in range(1, cfg.streams + 1):
        base.append(gap(guided.untrained(map_fn, coords, fam, k, cfg.method, seed, stream, cfg.chunk).min(1)))
        steered.append(
            gap(
                guided.cem(
                    map_fn, coords, fam, k, cfg.rounds, cfg.method, seed, stream, cfg.elites, cfg.shrink
                ).min(1)
            )
        )
    numbers = guided_numbers(np.array(base), np.array(steered), name)
    return guided_claims(numbers, name, k, cfg.streams), numbers


def guided_numbers(base_gaps: np.ndarray, steered_gaps: np.ndarray, name: str) -> dict[str, float]:
    """From (streams, instances) gaps of the untrained and the guided sampler: the mean gain over
    streams and its spread, and the share of instances whose stream-averaged gap guided lowers."""
    per_stream = base_gaps.mean(1) - steered_gaps.mean(1)
    tag = f"eval/{name}/guided"
    return {
        f"{tag}/gap": float(steered_gaps.mean()),
        f"{tag}/untrained_gap": float(base_gaps.mean()),
        f"{tag}/gain": float(per_stream.mean()),
        f"{tag}/gain_spread": float(per_stream.std()),
        f"{tag}/win_share": float(np.mean(steered_gaps.mean(0) < base_gaps.mean(0) - 1e-9)),
    }
