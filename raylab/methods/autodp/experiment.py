"""`autodp/fact_qa`, `autodp/text_cls`: the LLM-AutoDP search with and without its accelerations, the
65-strategy oracle, and the processed data of the winning strategy.

Per replicate (its own noise draw and seeds): train the PTS classifier, draw the DPS sample, then
- the accelerated search (sample + PTS + cache) and the plain one (full data, everything processed,
  no cache), same agent, same budget;
- the exhaustive 65 on the sample (the oracle and the random-search baseline) and on the full set
  (rank agreement);
- the winning strategies applied to the full set, compared item by item with the raw-data model.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np
from scipy import stats

from raylab.context import RunContext
from raylab.methods.autodp import cache as crm
from raylab.methods.autodp import claims, plots, prompts, quality
from raylab.methods.autodp import data as datasets
from raylab.methods.autodp.agents import LLMAgent, OfflineAgent, RandomAgent
from raylab.methods.autodp.config import AutoDPConfig
from raylab.methods.autodp.evaluate import Processor, Setup, evaluate, win_rate
from raylab.methods.autodp.llm import endpoint_url, make_client
from raylab.methods.autodp.noise import inject
from raylab.methods.autodp.search import evaluate_all, search
from raylab.methods.autodp.strategy import all_strategies, name, recipe_yaml, steps
from raylab.records import ResultRecord
from raylab.seeding import derive_seed

log = logging.getLogger("raylab")


def load_dataset(cfg: AutoDPConfig, seed: int) -> datasets.Dataset:
    d = cfg.data
    if d.source == "fact_qa":
        data = datasets.fact_qa(d.max_items, seed)
    elif d.source == "bbc_news":
        data = datasets.bbc_news(d.max_items, d.test_fraction, seed)
    else:
        data = datasets.read_jsonl(d.path, d.test_fraction, seed)
    return inject(data, d.noise, derive_seed(seed, "noise")) if d.inject_noise else data


def make_agent(cfg: AutoDPConfig, seed: int):
    offline = OfflineAgent(cfg.search.exploration, seed)
    if cfg.search.agent == "random":
        return RandomAgent(seed)
    if cfg.search.agent == "llm":
        if endpoint_url(cfg.llm):
            return LLMAgent(make_client(cfg.llm), cfg.llm.model, offline)
        log.warning("autodp: search.agent is 'llm' but no endpoint is configured: the offline agent runs")
    return offline


def target_selection(cfg: AutoDPConfig, data: datasets.Dataset, seed: int) -> tuple[np.ndarray, dict]:
    """PTS flags for every training row and the classifier's precision / recall on the rows it was
    not trained on. Without injected labels (user data) the rows the cleaning team would drop or
    change are the labels (weak supervision)."""
    rows = list(data.train)
    features = quality.quality_features(rows)
    labels = np.array([quality.defective(s) for s in rows])
    if not labels.any():
        cleaned = Processor(Setup(cfg, data, seed), None, crm.Counters()).run(("cleaning",))
        kept = {s.id: s for s in cleaned}
        labels = np.array([kept.get(s.id) != s for s in rows])
    if labels.all() or not labels.any():
        log.warning(
            "autodp: every row looks alike to the quality rules: no target selection (all rows targeted)"
        )
        return np.ones(len(rows), dtype=bool), {"pts/flagged": 1.0}
    predict, chosen = quality.train_classifier(features, labels, cfg.accel.labelled, seed)
    flags = predict(features) >= cfg.accel.threshold
    held = np.setdiff1d(np.arange(len(rows)), chosen)
    precision, recall = quality.precision_recall(flags[held], labels[held])
    return flags, {"pts/precision": precision, "pts/recall": recall, "pts/flagged": float(flags.mean())}


def sampled(cfg: AutoDPConfig, data: datasets.Dataset, flags: np.ndarray, seed: int):
    """The DPS sample and its fidelity figures. Its test split is the held-out questions about the
    facts the sample contains (a QA model cannot answer facts it never saw, whatever the processing);
    without fact ids (user data, classification) it is the whole test split."""
    rows = list(data.train)
    strata = quality.dps_strata(rows, flags, cfg.accel.clusters, seed)
    chosen = quality.stratified_sample(strata, cfg.accel.sample_fraction, seed)
    sample = [rows[i] for i in chosen]
    fidelity = {f"dps/{k}": v for k, v in quality.fidelity(sample, rows).items()}
    # DEVIATION: [R] the sample's test split covers the sample's facts (our choice)
    facts = {s.fact for s in sample}
    test = data.test
    if data.task == "qa" and -1 not in facts:
        test = tuple(t for t in data.test if t.fact in facts)
    return dataclasses.replace(data, train=tuple(sample), test=test), fidelity


def replicate(cfg: AutoDPConfig, ctx: RunContext, index: int, cache_dir: Path) -> dict:
    """Everything measured on one replicate; the winning strategy and the prompts come back too."""
    seed = derive_seed(cfg.seed, "replicate", index)
    data = load_dataset(cfg, derive_seed(seed, "data"))
    flags, metrics = target_selection(cfg, data, derive_seed(seed, "pts"))
    sample, fidelity = sampled(cfg, data, flags, derive_seed(seed, "dps"))
    metrics |= fidelity
    targets = frozenset(s.id for s, f in zip(data.train, flags) if f)
    fast = Setup(cfg, sample, seed, targets, str(cache_dir))
    full = Setup(cfg, data, seed, targets, str(cache_dir))
    plain = Setup(cfg, data, seed)
    stats_fast = prompts.aggregate_stats(list(sample.train), float(flags.mean()))
    accelerated = search(ctx, make_agent(cfg, derive_seed(seed, "agent")), fast, stats_fast, f"r{index}-fast")
    slow = search(
        ctx,
        make_agent(cfg, derive_seed(seed, "agent")),
        plain,
        prompts.aggregate_stats(list(data.train), None),
        f"r{index}-plain",
    )
    oracle = {e.strategy: e for e in evaluate_all(ctx, all_strategies(), fast, f"r{index}-oracle-sample")}
    oracle_full = {e.strategy: e for e in evaluate_all(ctx, all_strategies(), full, f"r{index}-oracle-full")}
    best = accelerated.best.strategy
    final = evaluate_all(ctx, [best], full, f"r{index}-final")[0]
    final_plain = evaluate_all(ctx, [slow.best.strategy], plain, f"r{index}-final-plain")[0]
    raw = oracle_full[()]
    metrics |= {f"final/{k}": v for k, v in win_rate(final.correct, raw.correct).items()}
    metrics["final/plain_win_rate"] = win_rate(final_plain.correct, raw.correct)["win_rate"]
    metrics |= search_metrics(cfg, accelerated, oracle, oracle_full, seed)
    metrics |= cache_metrics(cfg, ctx, accelerated, slow, fast, index)
    metrics |= pts_economics(ctx, cfg, data, seed, targets, index)
    return {"metrics": metrics, "best": best, "data": data, "full": full, "fast": accelerated, "slow": slow}


def search_metrics(cfg: AutoDPConfig, found, oracle: dict, oracle_full: dict, seed: int) -> dict:
    """Near-oracle ratio, the equal-budget random-search comparison, and rank agreement sample/full."""
    r0 = oracle[()].accuracy
    gain = {s: e.accuracy - r0 for s, e in oracle.items()}
    agent_best = max(e.accuracy for e in found.evaluations) - r0
    budget = len(found.evaluations)
    pool = [s for s in all_strategies() if s]
    rng = np.random.default_rng(derive_seed(seed, "random_search"))
    random_best = [
        max(gain[pool[i]] for i in rng.choice(len(pool), budget, replace=False))
        for _ in range(cfg.search.random_repeats)
    ]
    strategies = all_strategies()
    sample_acc, full_acc = ([table[s].accuracy for s in strategies] for table in (oracle, oracle_full))
    # constant scores on either side: no ranking to agree with (recorded as 0, no evidence)
    rho = stats.spearmanr(sample_acc, full_acc).statistic if np.ptp(sample_acc) and np.ptp(full_acc) else 0.0
    full_rank = sorted(strategies, key=lambda s: -oracle_full[s].accuracy)
    top_sample = max(strategies, key=lambda s: oracle[s].accuracy)
    oracle_best = max(gain.values())
    return {
        "search/evaluations": float(budget),
        "search/best_gain": agent_best,
        "search/oracle_gain": oracle_best,
        # when no strategy beats raw data, reaching the oracle means finding that out
        "search/near_oracle": agent_best / oracle_best
        if oracle_best > 0
        else float(agent_best >= oracle_best),
        "search/beats_random": float(np.mean([agent_best >= b for b in random_best])),
        "dps/spearman": float(rho),
        "dps/top1_rank_full": float(full_rank.index(top_sample) + 1),
    }


def cache_metrics(cfg: AutoDPConfig, ctx: RunContext, fast, slow, setup: Setup, index: int) -> dict:
    """Round 2's executed share of its uncached operator runs, an identical rerun's executions,
    byte-identical outputs with and without the cache, and the counted costs of both searches."""
    uncached = sum(len(steps(e.strategy, cfg.teams)) for e in fast.rounds[1]) if len(fast.rounds) > 1 else 0
    rerun = evaluate_all(ctx, [e.strategy for e in fast.rounds[-1]], setup, f"r{index}-rerun")
    fresh = evaluate(fast.best.strategy, dataclasses.replace(setup, cache_dir=""))
    cost = lambda result: result.counters().cost(cfg.llm.call_cost, cfg.proxy.train_cost)  # noqa: E731
    return {
        "cache/round2_executed": fast.counters(1).op_runs / uncached if uncached else float("nan"),
        "cache/rerun_op_runs": float(sum(e.counters.op_runs + e.counters.llm_calls for e in rerun)),
        "cache/identical_output": float(fresh.rows_fp == fast.best.rows_fp),
        "cost/accelerated": cost(fast),
        "cost/plain": cost(slow),
        "cost/ratio": cost(fast) / cost(slow),
        "cost/llm_calls_accelerated": float(fast.counters().llm_calls),
        "cost/llm_calls_plain": float(slow.counters().llm_calls),
    }


def pts_economics(
    ctx: RunContext, cfg: AutoDPConfig, data, seed: int, targets: frozenset, index: int
) -> dict:
    """The LLM operator alone on the full set, on flagged rows only vs on every row (no cache)."""
    with_pts, without = evaluate_all(
        ctx, [("optimization",)], Setup(cfg, data, seed, targets), f"r{index}-pts"
    ) + evaluate_all(ctx, [("optimization",)], Setup(cfg, data, seed), f"r{index}-nopts")
    return {
        "pts/call_reduction": without.counters.llm_calls / max(1, with_pts.counters.llm_calls),
        "pts/accuracy_loss": without.accuracy - with_pts.accuracy,
    }


def run(cfg: AutoDPConfig, ctx: RunContext) -> ResultRecord:
    cache_dir = ctx.cache_dir()
    warm = cache_dir.is_dir() and any(cache_dir.iterdir())  # a --cache store from an earlier run
    ctx.expect_steps(cfg.replicates)
    results = []
    for index in range(cfg.replicates):
        results.append(replicate(cfg, ctx, index, cache_dir))
        ctx.report({f"replicate/{k}": v for k, v in results[-1]["metrics"].items()}, step=index)
    per_seed = [r["metrics"] for r in results]
    metrics = {k: float(np.mean([m[k] for m in per_seed])) for k in per_seed[0]}
    noisy = any(s.bad for s in results[0]["data"].train)
    leaks = privacy(ctx, results)
    metrics["privacy/leaks"] = float(len(leaks))
    metrics["agent/events"] = float(sum(len(r["fast"].events) + len(r["slow"].events) for r in results))
    metrics["cache/warm_start"] = float(warm)
    write_outputs(cfg, ctx, results[0])
    plots.plot_rounds(
        [r["fast"] for r in results], [r["slow"] for r in results], cfg, ctx.artifact("search.png")
    )
    ctx.report(metrics)
    return ctx.result(metrics, claims.all_claims(per_seed, leaks, noisy, warm_cache=warm))


def privacy(ctx: RunContext, results: list[dict]) -> list[str]:
    """Every round's prompt goes to prompts.jsonl; any sample string / 8-gram in them is a leak."""
    rows = [s for r in results for s in r["data"].train]
    messages = [m for r in results for res in (r["fast"], r["slow"]) for m in res.prompts]
    path = ctx.artifact("prompts.jsonl")
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    return prompts.leaks([msg["content"] for m in messages for msg in m], rows)


def write_outputs(cfg: AutoDPConfig, ctx: RunContext, first: dict) -> None:
    """The winning strategy of the first replicate as a recipe, and the full set it processes."""
    processed = ctx.artifact("processed.jsonl")
    recipe = recipe_yaml(first["best"], cfg.teams, cfg.data.path or cfg.data.source, str(processed.name))
    ctx.artifact("recipe.yaml").write_text(recipe)
    rows = Processor(first["full"], crm.Store(first["full"].cache_dir), crm.Counters()).run(first["best"])
    datasets.write_jsonl(rows, first["data"].task, processed)
    log.info("autodp: best strategy %s; recipe.yaml and processed.jsonl written", name(first["best"]))
