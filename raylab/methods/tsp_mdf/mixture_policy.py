"""A trained policy whose action is low-dimensional.

A set encoder (DeepSets: a per-node MLP, mean and max pooling, an MLP) reads one instance and outputs,
per structured shift family f, a mixture weight w_f (softmax of logits) and a mean log-scale mu_f: 2F
numbers per instance instead of one shift per node. Sample k >= 1 of an instance draws a family
f ~ Cat(w), a log-scale s ~ N(mu_f, spread^2), and the family's latent z ~ N(0, I); its shift is
a_f e^s * delta_f(z), a_f the family's reference amplitude (geometric mean of its untrained grid).
Sample 0 is the unshifted instance, as everywhere in tsp_mdf.

Training: REINFORCE on random uniform instances, grad = E[A_k grad log p(f_k, s_k | x)], with the
unbiased best-of-m weights A of `train.best_of_m_weights` (only the best tours of each instance's K
get credit, the test-time objective). The latent z is part of the environment (no gradient). No
reference tour is ever read: rewards are the policy's own tour lengths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import cast

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import nn

from raylab.methods.tsp_mdf.data import clustered
from raylab.methods.tsp_mdf.families import Family, Shifter
from raylab.methods.tsp_mdf.heuristics import insertion_tour
from raylab.methods.tsp_mdf.train import advantages
from raylab.methods.tsp_mdf.tsplib import Instance, instance_length
from raylab.seeding import derive_seed

FEATURES = 4  # per node: x, y (unit box), nearest-neighbour distance and 8-NN mean distance (/ means)


def instance_features(coords: np.ndarray) -> np.ndarray:
    """(n, 4) scale-free node features: coordinates in the instance's bounding box scaled to [0, 1]
    (aspect kept), the nearest-neighbour distance and the mean 8-NN distance, each over its mean."""
    if len(coords) < 3:
        raise ValueError(f"the mixture policy reads instances of >= 3 nodes, got {len(coords)}")
    low, extent = coords.min(axis=0), float(np.ptp(coords, axis=0).max()) or 1.0
    # (scipy-stubs types query() as a scalar pair or an array pair, whatever the query)
    distances, _ = cast("tuple[np.ndarray, np.ndarray]", cKDTree(coords).query(coords, k=min(9, len(coords))))
    nearest, local = distances[:, 1], distances[:, 1:].mean(axis=1)
    return np.c_[(coords - low) / extent, nearest / nearest.mean(), local / local.mean()].astype(np.float32)


class MixturePolicy(nn.Module):
    """Instance -> (family logits, mean log-scales), each (F,). The last layer starts at zero: the
    untrained policy is the uniform mixture at the reference amplitudes."""

    def __init__(self, families: int, hidden: int = 32):
        super().__init__()
        self.node = nn.Sequential(
            nn.Linear(FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2 * families))
        last = cast(nn.Linear, self.head[-1])  # (torch types a Sequential's item as a plain Module)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.node(features)  # (B, n, hidden)
        out = self.head(torch.cat([h.mean(dim=-2), h.amax(dim=-2)], dim=-1))
        return out.chunk(2, dim=-1)


def log_prob(logits, means, family, log_scale, spread: float) -> torch.Tensor:
    """log p(f, s) = log softmax(logits)_f + log N(s; mu_f, spread^2); logits, means (B, F); f, s (B, K)."""
    chosen = torch.log_softmax(logits, dim=-1).gather(-1, family)
    normal = torch.distributions.Normal(means.gather(-1, family), spread)
    return chosen + normal.log_prob(log_scale)


def sample_actions(logits, means, samples: int, spread: float, seed: int):
    """(family index, log-scale), each (B, samples), drawn with a generator seeded by `seed`."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        family = torch.multinomial(
            torch.softmax(logits, dim=-1), samples, replacement=True, generator=generator
        )
        noise = torch.randn(family.shape, generator=generator)
        return family, means.gather(-1, family) + spread * noise


@dataclasses.dataclass(frozen=True)
class MixtureBatch:
    """Fan-out item: one instance's samples, each (family name, amplitude, latent seed); the family
    name "" is the unshifted instance."""

    instance: int
    samples: tuple[tuple[str, float, int], ...]
    method: str


def mixture_lengths(item: MixtureBatch, shared: dict) -> np.ndarray:
    """Tour lengths on the original coordinates (in the instance's own metric when the shared data
    carries the instances, as `guided.batch_lengths`); each family's geometry is computed once per item."""
    coords, shifters, lengths = shared["coords"][item.instance], {}, []
    instance = (
        shared["instances"][item.instance] if "instances" in shared else Instance("", coords, "EUCLIDEAN")
    )
    for name, amplitude, latent_seed in item.samples:
        shifted = coords
        if name:
            if name not in shifters:
                unit = Family(name, 1.0, shared["length_scale"], group_size=shared["group_size"])
                shifters[name] = Shifter(unit, coords, shared["seed"], item.instance)
            z = np.random.default_rng(latent_seed).standard_normal(shifters[name].latent_size)
            shifted = coords + amplitude * shifters[name](z)
        lengths.append(instance_length(instance, insertion_tour(shifted, item.method)))
    return np.array(lengths)


@dataclasses.dataclass
class Sampler:
    """What a rollout needs besides the policy: families, their reference amplitudes, the fan-out."""

    families: tuple[str, ...]
    reference: np.ndarray  # (F,) reference amplitude a_f of each family
    method: str
    spread: float
    map_fn: Callable
    shared: dict  # seed, length_scale, group_size (the families' geometry)

    def lengths(self, coords: list[np.ndarray], family, log_scale, tag: tuple, instances=None) -> np.ndarray:
        """(B, K + 1) lengths: the unshifted tour, then one tour per action; latents seeded by `tag`;
        scored in the metric of `instances` (the originals of `coords`, e.g. TSPLIB) when given."""
        amplitude = self.reference[family.numpy()] * np.exp(log_scale.numpy())
        items = [
            MixtureBatch(
                i,
                (("", 0.0, 0),)
                + tuple(
                    (
                        self.families[f],
                        float(a),
                        derive_seed(self.shared["seed"], "policy-latent", *tag, i, k),
                    )
                    for k, (f, a) in enumerate(zip(family[i].tolist(), amplitude[i]), start=1)
                ),
                self.method,
            )
            for i in range(len(coords))
        ]
        scoring = {"instances": instances} if instances is not None else {}
        return np.stack(self.map_fn(mixture_lengths, items, {**self.shared, "coords": coords, **scoring}))

    def rollout(
        self,
        policy: MixturePolicy,
        coords: list[np.ndarray],
        samples: int,
        seed: int,
        tag: tuple,
        instances=None,
    ):
        """Lengths (B, K + 1) of `samples` policy draws per instance (scored as `lengths`), and log p of
        the draws (B, K)."""
        features = torch.from_numpy(np.stack([instance_features(c) for c in coords]))
        logits, means = policy(features)
        family, log_scale = sample_actions(logits, means, samples, self.spread, seed)
        lengths = self.lengths(coords, family, log_scale, tag, instances)
        return lengths, log_prob(logits, means, family, log_scale, self.spread), (logits, means)


def training_instances(cfg, seed: int, step: int) -> list[np.ndarray]:
    """Step `step`'s batch: `cfg.batch` fresh instances of `cfg.nodes` nodes, a `cfg.clustered` share of
    them clustered (5 Gaussian clusters, as `clustered:<N>`), the rest uniform."""
    rng = np.random.default_rng(derive_seed(seed, "policy-train-instances", step))
    grouped = round(cfg.batch * cfg.clustered)
    return list(rng.random((cfg.batch - grouped, cfg.nodes, 2))) + list(clustered(grouped, cfg.nodes, rng))


def train_policy(policy: MixturePolicy, sampler: Sampler, cfg, seed: int, report: Callable) -> list[dict]:
    """`cfg.iterations` REINFORCE steps (best-of-m advantages) on fresh random instances
    (`training_instances`); returns the per-iteration history (reported as it goes)."""
    optimiser = torch.optim.Adam(policy.parameters(), lr=cfg.lr)
    history = []
    for step in range(cfg.iterations):
        coords = training_instances(cfg, seed, step)
        lengths, logp, (logits, means) = sampler.rollout(
            policy, coords, cfg.samples, derive_seed(seed, "policy-train-actions", step), ("train", step)
        )
        adv = advantages(lengths[:, 1:], lengths[:, 0], "best_of_m", cfg.best_of)
        loss = (torch.from_numpy(adv).float() * logp).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        weights = torch.softmax(logits, dim=-1).mean(0).detach().numpy()
        row = {"train/best_gain": float(100 * np.mean(1 - lengths.min(1) / lengths[:, 0]))}
        row |= {f"train/weight/{f}": float(w) for f, w in zip(sampler.families, weights)}
        row |= {f"train/log_scale/{f}": float(m) for f, m in zip(sampler.families, means.mean(0).tolist())}
        history.append(row)
        report(row, step)
    return history
