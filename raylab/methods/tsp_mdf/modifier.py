"""The neural instance modifier (our reconstruction; the paper's architecture was not available).

# DEVIATION: our reconstruction. A 3-layer message-passing GNN on the k-nearest-neighbour graph reads
# scale-free per-node features and outputs a Gaussian over each node's shift, measured in units of
# the node's nearest-neighbour distance d_i:  delta_i = d_i (mu_i + sigma_i eps_i), clipped to
# ||delta_i|| <= clip * d_i (`sampling.shift`). Local, scale-free inputs let a model trained at N=100
# run unchanged at N=500..10000.

Features of node i (k neighbours j, sorted by distance):
  offsets (x_j - x_i) / d_i  (2k),  distances |x_j - x_i| / d_i  (k),  d_i / mean_j d_j  (1),
  and its position in the heuristic's insertion order on the original instance / n  (1).
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import nn

from raylab.methods.tsp_mdf.heuristics import insertion_order
from raylab.methods.tsp_mdf.sampling import ShiftModel


def node_features(
    coords: np.ndarray, neighbours: int, method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features (n, 3k+2) float32, neighbour ids (n, k), nearest-neighbour distance d (n,))."""
    n = len(coords)
    k = min(neighbours, n - 1)
    # (scipy-stubs types query() as a scalar pair or an array pair, whatever the query)
    distances, ids = cast("tuple[np.ndarray, np.ndarray]", cKDTree(coords).query(coords, k=k + 1))
    distances, ids = distances[:, 1:], ids[:, 1:]
    unit = np.maximum(distances[:, 0], 1e-12)
    offsets = (coords[ids] - coords[:, None, :]) / unit[:, None, None]
    rank = np.empty(n)
    rank[insertion_order(coords, method)] = np.arange(n) / n
    features = np.concatenate(
        [offsets.reshape(n, -1), distances / unit[:, None], (unit / unit.mean())[:, None], rank[:, None]],
        axis=1,
    )
    if k < neighbours:  # tiny instances: pad to the trained width
        pad = neighbours - k
        features = np.concatenate(
            [
                offsets.reshape(n, -1),
                np.zeros((n, 2 * pad)),
                distances / unit[:, None],
                np.zeros((n, pad)),
                features[:, -2:],
            ],
            axis=1,
        )
        ids = np.concatenate([ids, np.repeat(ids[:, :1], pad, axis=1)], axis=1)
    return features.astype(np.float32), ids, unit


class InstanceModifier(nn.Module):
    """kNN message passing: h <- h + relu(W [h_i, mean_{j in N(i)} h_j]); head -> (mu, sigma).

    # DEVIATION: sigma_i = sigma_scale * n softmax_i(s): the network decides WHERE the noise goes,
    # the instance-wide scale (mean sigma_i) is the hyperparameter `sigma_scale` (swept, not learned).
    # Training the scale at N=100 drifted it (0.05 -> 0.07 d_i in 3000 steps), which is too large at
    # N=500 (best-of-32 gap 8.8 % vs 8.2 % at 0.05 on the first 16 TSP-500 instances)."""

    def __init__(
        self,
        neighbours: int = 8,
        hidden: int = 64,
        layers: int = 3,
        sigma_scale: float = 0.05,
        mean_max: float = 0.5,
    ):
        super().__init__()
        self.arch: dict[str, Any] = {
            "neighbours": neighbours,
            "hidden": hidden,
            "layers": layers,
            "sigma_scale": sigma_scale,
            "mean_max": mean_max,
        }
        self.neighbours = neighbours
        self.sigma_scale, self.mean_max = sigma_scale, mean_max
        self.embed = nn.Linear(3 * neighbours + 2, hidden)
        self.layers = nn.ModuleList(nn.Linear(2 * hidden, hidden) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.head = nn.Linear(hidden, 3)
        nn.init.zeros_(self.head.weight)  # start as the untrained ablation: mu = 0, sigma = sigma_init
        nn.init.zeros_(self.head.bias)

    def forward(
        self, features: torch.Tensor, neighbour_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """features (B, n, F), neighbour_ids (B, n, k) -> mean (B, n, 2), sigma (B, n), in units of d_i."""
        h = torch.relu(self.embed(features))
        batch = torch.arange(h.shape[0])[:, None, None]
        for layer, norm in zip(self.layers, self.norms):
            messages = h[batch, neighbour_ids].mean(dim=2)
            h = norm(h + torch.relu(layer(torch.cat([h, messages], dim=-1))))
        out = self.head(h)
        mean = self.mean_max * torch.tanh(out[..., :2])
        spread = out[..., 2].clamp(-3.0, 3.0)
        spread = spread - torch.logsumexp(spread, dim=-1, keepdim=True) + math.log(spread.shape[-1])
        sigma = self.sigma_scale * torch.exp(spread)  # sum_i sigma_i / n = sigma_scale exactly
        return mean, sigma


def log_prob(mean: torch.Tensor, sigma: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, sigma^2 I) summed over nodes, for the drawn z = mu + sigma eps (held fixed).

    mean (B, n, 2), sigma (B, n), noise (B, K, n, 2) -> (B, K). Clipping is part of the environment."""
    z = mean.detach()[:, None] + sigma.detach()[:, None, :, None] * noise
    var = sigma[:, None, :, None] ** 2
    per_dim = (
        -((z - mean[:, None]) ** 2) / (2 * var)
        - torch.log(sigma)[:, None, :, None]
        - 0.5 * math.log(2 * math.pi)
    )
    return per_dim.sum(dim=(-1, -2))


def shift_models(
    net: InstanceModifier, instances: list[np.ndarray], method: str, clip: float
) -> tuple[list[ShiftModel], torch.Tensor, torch.Tensor]:
    """Run the modifier on equal-size instances; numpy ShiftModels for the samplers, and the
    differentiable (mean, sigma) for REINFORCE."""
    built = [node_features(c, net.neighbours, method) for c in instances]
    features = torch.from_numpy(np.stack([b[0] for b in built]))
    ids = torch.from_numpy(np.stack([b[1] for b in built]))
    mean, sigma = net(features, ids)
    models = [
        ShiftModel(m.detach().double().numpy(), s.detach().double().numpy(), b[2], clip)
        for m, s, b in zip(mean, sigma, built)
    ]
    return models, mean, sigma
