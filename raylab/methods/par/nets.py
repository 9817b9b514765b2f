"""CORL-style networks: a deterministic tanh actor and twin Q critics (256-256 ReLU by default)."""

from __future__ import annotations

import copy

import torch
from torch import nn


def mlp(inputs: int, outputs: int, hidden: int, layers: int = 2) -> nn.Sequential:
    sizes = [inputs] + [hidden] * layers
    body = [m for a, b in zip(sizes, sizes[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
    return nn.Sequential(*body, nn.Linear(sizes[-1], outputs))


class Actor(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int, max_action: float, hidden: int = 256):
        super().__init__()
        self.net, self.max_action = mlp(obs_dim, act_dim, hidden), max_action

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.max_action * torch.tanh(self.net(obs))


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
    for t, s in zip(target.parameters(), source.parameters()):
        t.mul_(1 - tau).add_(s, alpha=tau)


def learner_state(owner, names: tuple[str, ...]) -> dict:
    """state_dict() of each named attribute (networks, optimisers, the PAR replacer) that is set."""
    return {name: getattr(owner, name).state_dict() for name in names if getattr(owner, name) is not None}


def load_learner_state(owner, state: dict) -> None:
    for name, value in state.items():
        getattr(owner, name).load_state_dict(value)
