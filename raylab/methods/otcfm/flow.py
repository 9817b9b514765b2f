"""Exact-OT conditional flow matching (sigma = 0) in 2-D: samplers, the MLP field, one training
loop for both couplings (ours and torchcfm's), the ODE sampler and the W2 metric.

Loss (OT-CFM, sigma = 0): E_t E_{(x0, x1) ~ pi_B} |v_theta((1-t) x0 + t x1, t) - (x1 - x0)|^2, with
pi_B the exact B x B OT coupling of the minibatch.
"""

from __future__ import annotations

import time

import numpy as np
import ot
import torch
from torch import nn

from raylab.methods.otcfm.minibatch import exact_coupling
from raylab.methods.otcfm.targets import DiscreteTarget, uniform_circle

VON_MISES_KAPPA = 2.0  # concentration of the "von_mises" circle target
GAUSSIANS_RADIUS, GAUSSIANS_STD = 2.0, 0.1  # "gaussians8": 8 modes on a circle of this radius


def sample_target(name: str, n: int, rng: np.random.Generator, discrete: DiscreteTarget | None) -> np.ndarray:
    """n draws of a 2-D target: uniform / von Mises circle, 8 Gaussians, or the discrete atoms."""
    if name == "circle":
        return uniform_circle(n, rng)
    if name == "von_mises":
        theta: np.ndarray = rng.vonmises(0.0, VON_MISES_KAPPA, size=n)
        return np.stack([np.cos(theta), np.sin(theta)], axis=1)
    if name == "gaussians8":
        theta = np.pi / 4 * rng.integers(0, 8, size=n)
        centres = GAUSSIANS_RADIUS * np.stack([np.cos(theta), np.sin(theta)], axis=1)
        return centres + GAUSSIANS_STD * rng.standard_normal((n, 2))
    assert discrete is not None  # the "discrete" target comes with its atoms
    return discrete.atoms[discrete.sample_indices(n, rng)]


def population_field(name: str, x0: np.ndarray, discrete: DiscreteTarget | None) -> np.ndarray | None:
    """x1 - x0 along the population OT paths, where it is exact: the circle (T = x/|x|) and the
    discrete target (its Laguerre cells); None for targets without a closed form."""
    if name == "circle":
        return x0 / np.linalg.norm(x0, axis=1, keepdims=True) - x0
    if name == "discrete":
        assert discrete is not None  # the "discrete" target comes with its atoms
        return discrete.atoms[discrete.brenier_index(x0)] - x0
    return None


class VectorField(nn.Module):
    """v_theta(x, t): an MLP on (x, t) with 3 hidden layers."""

    def __init__(self, hidden: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(3, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, t.reshape(-1, 1).expand(len(x), 1)], dim=1))


def ours_pairs(x0: torch.Tensor, x1: torch.Tensor, generator: torch.Generator):
    """(t, x_t, u_t) with the exact B x B permutation taken directly (no re-sampling from the plan)."""
    sigma = exact_coupling(x0.numpy(), x1.numpy())
    x1 = x1[torch.as_tensor(sigma)]
    t = torch.rand(len(x0), 1, generator=generator, dtype=x0.dtype)
    return t, (1 - t) * x0 + t * x1, x1 - x0


def torchcfm_pairs(matcher):
    """torchcfm's ExactOptimalTransportConditionalFlowMatcher(sigma=0): ot.emd plan, pairs re-sampled
    from it with replacement (https://github.com/atong01/conditional-flow-matching/issues/142),
    t ~ U(0, 1) from torch's global RNG."""

    def pairs(x0: torch.Tensor, x1: torch.Tensor, generator: torch.Generator):
        t, xt, ut = matcher.sample_location_and_conditional_flow(x0, x1)
        return t.reshape(-1, 1), xt, ut

    return pairs


def torchcfm_plan_pairs(matcher, replace: bool):
    """torchcfm's exact plan sampled with or without replacement (`OTPlanSampler.sample_plan`), then
    the straight path at t ~ U(0, 1) from torch's global RNG. Without replacement a B x B exact plan
    (a permutation with mass 1/B per pair) gives every pair of our coupling once, in random order."""
    from torchcfm.conditional_flow_matching import ConditionalFlowMatcher

    straight = ConditionalFlowMatcher(sigma=0.0)

    def pairs(x0: torch.Tensor, x1: torch.Tensor, generator: torch.Generator):
        x0, x1 = matcher.ot_sampler.sample_plan(x0, x1, replace=replace)
        t, xt, ut = straight.sample_location_and_conditional_flow(x0, x1)
        return t.reshape(-1, 1), xt, ut

    return pairs


def train(field: VectorField, sample_batch, pairs, steps: int, lr: float, generator) -> dict:
    """`steps` Adam steps of the CFM loss; sample_batch() -> (x0, x1) tensors. Returns the last
    100 steps' mean loss and the training throughput."""
    optimiser = torch.optim.Adam(field.parameters(), lr=lr)
    losses, start = [], time.perf_counter()
    for _ in range(steps):
        x0, x1 = sample_batch()
        t, xt, ut = pairs(x0, x1, generator)
        loss = ((field(xt, t.reshape(-1)) - ut) ** 2).sum(1).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    elapsed = time.perf_counter() - start
    return {"final_loss": float(np.mean(losses[-100:])), "steps_per_s": steps / elapsed}


@torch.no_grad()
def sample_ode(field: VectorField, x0: torch.Tensor, steps: int) -> torch.Tensor:
    """Fixed-step RK4 of dx/dt = v_theta(x, t) from t = 0 to 1."""
    h, x = 1.0 / steps, x0
    for k in range(steps):
        t = torch.tensor(k * h, dtype=x.dtype)
        k1 = field(x, t)
        k2 = field(x + h / 2 * k1, t + h / 2)
        k3 = field(x + h / 2 * k2, t + h / 2)
        k4 = field(x + h * k3, t + h)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def w2(samples: np.ndarray, reference: np.ndarray) -> float:
    """Exact W2 between two empirical measures with uniform weights (POT emd2 on squared costs)."""
    a, b = np.full(len(samples), 1 / len(samples)), np.full(len(reference), 1 / len(reference))
    return float(np.sqrt(ot.emd2(a, b, ot.dist(samples, reference), numItermax=10_000_000)))
