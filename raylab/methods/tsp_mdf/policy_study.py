"""`tsp_mdf/policy`: the trained mixture policy (`mixture_policy.py`) against every
shift family untrained, at equal K on the same test instances.

Arms, all with K constructions per instance, sample 0 the unshifted instance, on streams 1..S:
- each family untrained at its best amplitude (picked per family on stream 0 from its grid);
- the policy as initialised (the uniform mixture at the reference amplitudes: training's ablation);
- the trained policy.
The claim compares the trained policy with the best family, the family picked on the judged streams
themselves (which favours the baseline).
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from raylab.context import RunContext
from raylab.methods.tsp_mdf import guided
from raylab.methods.tsp_mdf.claims import policy_claims
from raylab.methods.tsp_mdf.config import PolicyConfig
from raylab.methods.tsp_mdf.data import load
from raylab.methods.tsp_mdf.families import Family
from raylab.methods.tsp_mdf.family_study import require_references, scoring_map
from raylab.methods.tsp_mdf.mixture_policy import MixturePolicy, Sampler, instance_features, train_policy
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


def run(cfg: PolicyConfig, ctx: RunContext) -> ResultRecord:
    data = require_references(load(cfg.data, cfg.seed, ctx.data_roots), "tsp_mdf/policy")
    coords = [np.ascontiguousarray(o.coords, dtype=np.float64) for o in data.originals]
    seed = derive_seed(cfg.seed, "policy")
    map_fn = lambda fn, items, shared: ctx.map(fn, items, name="tsp-policy", shared=shared)  # noqa: E731
    gap = lambda lengths: 100.0 * (lengths / data.references - 1.0)  # noqa: E731 (per instance, %)
    families = tuple(cfg.amplitudes)
    reference = np.array([float(np.exp(np.mean(np.log(cfg.amplitudes[f])))) for f in families])
    shared = {"seed": seed, "length_scale": cfg.length_scale, "group_size": cfg.group_size}
    sampler = Sampler(families, reference, cfg.method, cfg.train.spread, map_fn, shared)
    torch.manual_seed(derive_seed(seed, "policy-init"))
    policy = MixturePolicy(len(families), cfg.train.hidden)
    initial = copy.deepcopy(policy)

    ctx.expect_steps(cfg.train.iterations)
    began = time.perf_counter()
    history = train_policy(policy, sampler, cfg.train, seed, ctx.report)
    metrics = {"time/policy/train_minutes": (time.perf_counter() - began) / 60, "data/instances": len(coords)}
    metrics |= {k.replace("train/", "train/final/"): v for k, v in history[-1].items()}

    scored = scoring_map(ctx, "tsp-policy", data)  # test tours in their instances' own metric (TSPLIB)
    arms = {name: untrained_arm(cfg, scored, coords, gap, name, seed, metrics) for name in families}
    for arm, net in (("policy_init", initial), ("policy", policy)):
        arms[arm] = np.array(
            [policy_gaps(sampler, net, data, coords, gap, cfg.k, seed, s) for s in streams(cfg)]
        )
        metrics[f"eval/{arm}/gap"] = float(arms[arm].mean())
    best = min(families, key=lambda name: arms[name].mean())
    numbers = comparison(arms["policy"], arms[best], cfg.streams)
    metrics |= {f"eval/policy/{k}": v for k, v in numbers.items()} | {
        "eval/best_family_gap": float(arms[best].mean())
    }
    metrics |= learned_mixture(policy, sampler, coords, families)
    ctx.report(metrics)
    return ctx.result(metrics, policy_claims(numbers, best, cfg))


def streams(cfg: PolicyConfig) -> range:
    return range(1, cfg.streams + 1)


def untrained_arm(cfg: PolicyConfig, map_fn, coords, gap, name: str, seed: int, metrics: dict) -> np.ndarray:
    """(S, B) best-of-K gaps of the family at its best amplitude (picked on stream 0); the amplitude and
    the mean gap go into `metrics`."""

    def best_gaps(amplitude: float, stream: int) -> np.ndarray:
        family = Family(name, amplitude, cfg.length_scale, group_size=cfg.group_size)
        return gap(
            guided.untrained(map_fn, coords, family, cfg.k, cfg.method, seed, stream, cfg.chunk).min(1)
        )

    amplitude = min(cfg.amplitudes[name], key=lambda a: best_gaps(a, 0).mean())
    found = np.array([best_gaps(amplitude, s) for s in streams(cfg)])
    metrics |= {f"eval/{name}/amplitude": amplitude, f"eval/{name}/gap": float(found.mean())}
    return found


def policy_gaps(sampler: Sampler, net, data, coords, gap, k: int, seed: int, stream: int) -> np.ndarray:
    """(B,) best-of-K gaps: the unshifted tour and K - 1 draws of `net` on stream `stream`."""
    actions = derive_seed(seed, "policy-test-actions", stream)
    with torch.no_grad():
        lengths, _, _ = sampler.rollout(net, coords, k - 1, actions, ("test", stream), data.originals)
    return gap(lengths.min(1))


def comparison(policy: np.ndarray, best: np.ndarray, stream_count: int) -> dict[str, float]:
    """Gain of the policy over the best family (points, mean and spread over streams) and the share of
    instances on which the policy's stream-averaged gap is lower."""
    per_stream = best.mean(1) - policy.mean(1)
    return {
        "gain": float(per_stream.mean()),
        "gain_spread": float(per_stream.std()),
        "win_share": float(np.mean(policy.mean(0) < best.mean(0) - 1e-9)),
    }


def learned_mixture(policy: MixturePolicy, sampler: Sampler, coords, families) -> dict[str, float]:
    """The trained policy's mean mixture weight and amplitude per family over the test instances."""
    with torch.no_grad():
        logits, means = policy(torch.from_numpy(np.stack([instance_features(c) for c in coords])))
    weights, scales = torch.softmax(logits, -1).mean(0).numpy(), means.mean(0).numpy()
    out = {f"eval/policy/weight/{f}": float(w) for f, w in zip(families, weights)}
    return out | {
        f"eval/policy/amplitude/{f}": float(a * np.exp(s))
        for f, a, s in zip(families, sampler.reference, scales)
    }
