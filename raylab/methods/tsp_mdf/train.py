"""REINFORCE training of the instance modifier on random instances generated on the fly (our reconstruction).

grad J = E[ A_k * grad log p_theta(delta_k | x) ]  (the heuristic H is a black box: no gradient
flows through it, and no reference tour is ever read - the only data are random coordinates).

Advantages A_k of the K rollouts of one instance, all divided by b = mean_k L_k:
  "mean"       A_k = L_k - b                       a POMO-style shared mean-of-K baseline;
  "plain"      A_k = L_k - L(H(x))                 improvement over the plain heuristic (ablation);
  "best_of_m"  A_k = unbiased leave-one-out gradient weight of E[min of m of the K samples].
# DEVIATION: "best_of_m" is ours. At test time only the best of K tours counts, and the mean-of-K
# baseline optimises the average sample, which shrinks sigma towards the plain heuristic. For
# subsets S of size m, grad E[min_S L] = E[sum_{k in S} (min S - min(S without k)) grad log p_k];
# averaging over
# all subsets of the K rollouts, the sample of rank i (1 = shortest) gets
#   A_(i) = sum_{j > i} C(K-j, m-2) (L_(i) - L_(j)) / C(K-1, m-1),
# which is zero for the worst m-1 samples and for m = K leaves only the winner (L_(1) - L_(2)).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from math import comb

import numpy as np
import torch

from raylab.methods.tsp_mdf.config import TrainConfig
from raylab.methods.tsp_mdf.modifier import InstanceModifier, log_prob, shift_models
from raylab.methods.tsp_mdf.sampling import best_of_k, sample_noise
from raylab.seeding import derive_seed


def best_of_m_weights(lengths: np.ndarray, m: int) -> np.ndarray:
    """A (B, K) from lengths (B, K) for the E[min of m] objective (module docstring)."""
    batch, k = lengths.shape
    if not 2 <= m <= k:
        raise ValueError(f"best_of_m needs 2 <= m <= K, got m={m}, K={k}")
    coef = np.array([comb(k - j, m - 2) for j in range(1, k + 1)], dtype=float) / comb(k - 1, m - 1)
    order = np.argsort(lengths, axis=1, kind="stable")
    ranked = np.take_along_axis(lengths, order, axis=1)
    advantages = np.zeros_like(lengths)
    for i in range(k - 1):
        rank_adv = ((ranked[:, i : i + 1] - ranked[:, i + 1 :]) * coef[i + 1 :]).sum(axis=1)
        np.put_along_axis(advantages, order[:, i : i + 1], rank_adv[:, None], axis=1)
    return advantages


def advantages(lengths: np.ndarray, plain: np.ndarray, objective: str, m: int) -> np.ndarray:
    """Normalised advantages (B, K) of K rollouts per instance; lower length = better."""
    baseline = lengths.mean(axis=1, keepdims=True)
    if objective == "mean":
        raw = lengths - baseline
    elif objective == "plain":
        raw = lengths - plain[:, None]
    elif objective == "best_of_m":
        raw = best_of_m_weights(lengths, m)
    else:
        raise ValueError(f"unknown objective '{objective}' (mean, plain, best_of_m)")
    return raw / baseline


def rollouts(net: InstanceModifier, coords: np.ndarray, cfg: TrainConfig, map_fn: Callable, seed: int):
    """K modified instances per instance: lengths (B, K+1) with the plain tour in column 0, and the
    differentiable log-probabilities (B, K) of the K shifts."""
    models, mean, sigma = shift_models(net, list(coords), cfg.method, cfg.clip)
    results = best_of_k(
        map_fn, coords, models, cfg.samples + 1, cfg.method, seed, per_item=cfg.instances_per_item
    )
    lengths = np.stack([r["lengths"] for r in results])
    n = coords.shape[1]
    noise = torch.from_numpy(
        np.stack(
            [[sample_noise(seed, b, s, n) for s in range(1, cfg.samples + 1)] for b in range(len(coords))]
        )
    ).float()
    return lengths, log_prob(mean, sigma, noise), (mean, sigma)


def held_out(cfg: TrainConfig, seed: int) -> np.ndarray:
    return np.random.default_rng(derive_seed(seed, "held-out")).random((cfg.held_out, cfg.nodes, 2))


def evaluate_held_out(
    net: InstanceModifier, coords: np.ndarray, cfg: TrainConfig, seed: int, map_fn: Callable
) -> dict:
    """Mean sampled length, best-of-K and plain length on the fixed held-out instances; how unevenly
    the noise is spread over nodes (coefficient of variation of sigma_i) and the mean |mu_i|."""
    with torch.no_grad():
        lengths, _, (mean, sigma) = rollouts(net, coords, cfg, map_fn, derive_seed(seed, "held-out-noise"))
    return {
        "held_out/mean_sample": float(lengths[:, 1:].mean()),
        "held_out/best_of_k": float(lengths.min(1).mean()),
        "held_out/plain": float(lengths[:, 0].mean()),
        "held_out/sigma_spread": float((sigma.std(1) / sigma.mean(1)).mean()),
        "held_out/mean_shift": float(mean.norm(dim=-1).mean()),
    }


def train_modifier(
    cfg: TrainConfig,
    seed: int,
    map_fn: Callable,
    report: Callable[[dict, int], None],
    state: dict | None = None,
    save: Callable[[dict, int], object] | None = None,
) -> tuple[InstanceModifier, list[dict]]:
    """Train for cfg.steps (or until cfg.max_minutes); resumes from `state` (a `save`d checkpoint).
    Every stream (initialisation, instances, noise, held-out set) derives from `seed`."""
    torch.manual_seed(derive_seed(seed, "modifier-init"))
    net = InstanceModifier(cfg.neighbours, cfg.hidden, cfg.layers, cfg.sigma_scale, cfg.mean_max)
    optimiser = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    history, done = [], 0
    if state:
        net.load_state_dict(state["net"])
        optimiser.load_state_dict(state["optimiser"])
        history, done = state["history"], state["step"]
    validation = held_out(cfg, seed)
    began = time.perf_counter()
    while done < cfg.steps and (time.perf_counter() - began) / 60 < cfg.max_minutes:
        if done % cfg.eval_every == 0:
            history.append({"step": done, **evaluate_held_out(net, validation, cfg, seed, map_fn)})
            report(history[-1], done)
        coords = np.random.default_rng(derive_seed(seed, "train-instances", done)).random(
            (cfg.batch, cfg.nodes, 2)
        )
        lengths, logp, _ = rollouts(net, coords, cfg, map_fn, derive_seed(seed, "train-noise", done))
        adv = torch.from_numpy(advantages(lengths[:, 1:], lengths[:, 0], cfg.objective, cfg.best_of)).float()
        loss = (adv * logp).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        done += 1
        if save and done % cfg.checkpoint_every == 0:
            save(
                {
                    "net": net.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "history": history,
                    "step": done,
                },
                done,
            )
    history.append({"step": done, **evaluate_held_out(net, validation, cfg, seed, map_fn)})
    report(history[-1], done)
    return net, history
