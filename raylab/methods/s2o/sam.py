"""SAM (Foret et al., ICLR 2021) as one step around any torch optimizer, for any loss closure.

eps = rho g / ||g|| over all parameters jointly; the descent gradient is taken at w + eps on the same
batch. BatchNorm running statistics are frozen during the second pass (momentum 0), so each step
updates them once, as a plain step does (https://github.com/davda54/sam/issues/17).

label_noise keeps its own numpy SAM (`label_noise.core.sam_step`, vectorised over seeds); the two
are the same update, checked against each other in tests/unit/s2o/test_sam.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn


@contextlib.contextmanager
def frozen_batchnorm(model: nn.Module) -> Iterator[None]:
    """BatchNorm layers normalise with batch statistics as usual but leave running stats unchanged."""
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in layers]
    for m in layers:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in zip(layers, saved):
            m.momentum = momentum


def plain_step(optimizer: torch.optim.Optimizer, compute_loss: Callable[[], torch.Tensor]) -> float:
    """One optimizer step on compute_loss(); returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    loss = compute_loss()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def sam_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, compute_loss: Callable[[], torch.Tensor], rho: float
) -> float:
    """One SAM step: ascend to w + rho g/||g||, take the gradient there, step from w. Returns L(w)."""
    optimizer.zero_grad(set_to_none=True)
    loss = compute_loss()
    loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))
    scale = rho / torch.clamp(norm, min=1e-12)
    with torch.no_grad():
        ascents = [p.grad * scale for p in params if p.grad is not None]  # (all of them: see params)
        for p, ascent in zip(params, ascents):
            p.add_(ascent)
    optimizer.zero_grad(set_to_none=True)
    with frozen_batchnorm(model):
        compute_loss().backward()
    with torch.no_grad():
        for p, ascent in zip(params, ascents):
            p.sub_(ascent)
    optimizer.step()
    return float(loss.detach())
