"""CORL-style networks: a deterministic tanh actor, Gaussian actors, twin Q critics (256-256 ReLU)."""

from __future__ import annotations

import copy

import torch
from torch import nn


def mlp(inputs: int, outputs: int, hidden: int, layers: int = 2) -> nn.Sequential:
    sizes = [inputs] + [hidden] * layers
    body = [m for a, b in zip(sizes, sizes[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
    return nn.Sequential(*body, nn.Linear(sizes[-1], outputs))


class StackedMLP(nn.Module):
    """M independent MLPs of one shape as one module: layer l holds weights [M, in, out] and biases
    [M, 1, out], and x [M, B, in] -> [M, B, out] is one `baddbmm` per layer. Built from M `mlp`s, so
    member m starts exactly where `mlp` m (seeded alone) would."""

    def __init__(self, members: list[nn.Sequential]):
        super().__init__()
        layers = [[layer for layer in member if isinstance(layer, nn.Linear)] for member in members]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([m[i].weight.detach().T for m in layers]).contiguous())
            for i in range(len(layers[0]))
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([m[i].bias.detach()[None] for m in layers]))
            for i in range(len(layers[0]))
        )

    def forward(self, x: torch.Tensor, members: slice | torch.Tensor = slice(None)) -> torch.Tensor:
        """x [M', B, in] through the M' `members` (a slice or indices; all M by default)."""
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(bias[members], x, weight[members])
            x = torch.relu(x) if i < last else x
        return x


class Actor(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, max_action: float, hidden: int = 256):
        super().__init__()
        self.net, self.max_action = mlp(obs_dim, act_dim, hidden), max_action

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.max_action * torch.tanh(self.net(obs))


class MeanGaussianActor(nn.Module):
    """tanh-squashed mean, Gaussian around it with one state-independent log std (CORL's IQL policy)."""

    def __init__(self, obs_dim: int, act_dim: int, max_action: float, hidden: int = 256):
        super().__init__()
        self.net, self.max_action = mlp(obs_dim, act_dim, hidden), max_action
        self.log_std = nn.Parameter(torch.zeros(act_dim))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic (mean) action."""
        return self.max_action * torch.tanh(self.net(obs))

    def log_prob(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        std = self.log_std.clamp(-20.0, 2.0).exp()
        return torch.distributions.Normal(self(obs), std).log_prob(actions).sum(-1)


class SquashedGaussianActor(nn.Module):
    """a = max_action tanh(u), u ~ N(mu(s), sigma(s)): state-dependent std (log clamped to [-20, 2]).

    The official PAR code's IQL policy (`GaussianPolicy(state_dependent_std=True,
    tanh_squash_distribution=True)`) and SAC's actor; deterministic action max_action tanh(mu(s)).
    """

    def __init__(self, obs_dim: int, act_dim: int, max_action: float, hidden: int = 256):
        super().__init__()
        self.trunk = mlp(obs_dim, 2 * act_dim, hidden)
        self.max_action = max_action

    def _normal(self, obs: torch.Tensor) -> torch.distributions.Normal:
        mu, log_std = self.trunk(obs).chunk(2, dim=-1)
        return torch.distributions.Normal(mu, log_std.clamp(-20.0, 2.0).exp())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic action: the Gaussian's mean squashed."""
        return self.max_action * torch.tanh(self._normal(obs).loc)

    def log_prob(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log pi(a | s) = log N(atanh(a / m); mu, sigma) - sum log(1 - (a / m)^2) (the official code's
        clamp to 1 - 1e-6 and + 1e-6 inside the log; constant log m dropped, as there)."""
        unit = (actions / self.max_action).clamp(-1.0 + 1e-6, 1.0 - 1e-6)
        density = self._normal(obs).log_prob(torch.atanh(unit)) - torch.log(1.0 - unit**2 + 1e-6)
        return density.sum(-1)

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised action and its log-probability (SAC's policy step)."""
        normal = self._normal(obs)
        u = normal.rsample()
        unit = torch.tanh(u)
        log_prob = (normal.log_prob(u) - torch.log(1.0 - unit**2 + 1e-6)).sum(-1)
        return self.max_action * unit, log_prob


class TwinCritic(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, hidden: int = 256):
        super().__init__()
        self.q1, self.q2 = mlp(obs_dim + act_dim, 1, hidden), mlp(obs_dim + act_dim, 1, hidden)

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([obs, act], dim=-1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)

    def first(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return self.q1(torch.cat([obs, act], dim=-1)).squeeze(-1)


def frozen_copy(module: nn.Module) -> nn.Module:
    target = copy.deepcopy(module)
    target.requires_grad_(False)
    return target


@torch.no_grad()
def polyak(target: nn.Module, source: nn.Module, tau: float) -> None:
    targets: list[torch.Tensor] = list(target.parameters())
    if targets:  # foreach ops refuse an empty list (a module without parameters)
        torch._foreach_mul_(targets, 1 - tau)
        torch._foreach_add_(targets, list(source.parameters()), alpha=tau)


def learner_state(owner, names: tuple[str, ...]) -> dict:
    """state_dict() of each named attribute (networks, optimisers, the PAR replacer) that is set."""
    return {name: getattr(owner, name).state_dict() for name in names if getattr(owner, name) is not None}


def load_learner_state(owner, state: dict) -> None:
    for name, value in state.items():
        getattr(owner, name).load_state_dict(value)
