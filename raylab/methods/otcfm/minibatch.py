"""`otcfm/minibatch_convergence`: B x B exact OT couplings approach the population map as B grows
(check B3). Each (target, B, repetition) batch is one work item fanned out through the mapper.

The coupling is the permutation of `scipy.optimize.linear_sum_assignment` on |x0 - x1|^2, taken
directly (torchcfm's `OTPlanSampler` re-samples pairs from the plan, which duplicates and drops
points: https://github.com/atong01/conditional-flow-matching/issues/142). Discrete target: the
fraction of x0 sent to another atom than its Laguerre cell's. Uniform circle: the mean squared
distance to T*(x0) = x0 / |x0|.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import linear_sum_assignment

from raylab.context import RunContext
from raylab.methods.otcfm import plots
from raylab.methods.otcfm.claims import minibatch_claims
from raylab.methods.otcfm.config import MinibatchConfig
from raylab.methods.otcfm.core import loglog_slope
from raylab.methods.otcfm.proximal import make_discrete_target
from raylab.methods.otcfm.targets import DiscreteTarget, uniform_circle
from raylab.records import ResultRecord
from raylab.seeding import derive_seed

TARGETS = ("discrete", "circle")
ERROR_LABELS = {"discrete": "discrete: fraction misassigned", "circle": "circle: mean squared map error"}


@dataclasses.dataclass(frozen=True)
class Batch:
    """One minibatch: B source and B target draws from `seed`, coupled exactly."""

    target: str
    size: int
    seed: int


def exact_coupling(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """The index sigma with x0[i] -> x1[sigma[i]] minimising sum |x0_i - x1_sigma(i)|^2."""
    cost = ((x0[:, None, :] - x1[None, :, :]) ** 2).sum(-1)
    rows, cols = linear_sum_assignment(cost)
    return cols[np.argsort(rows)]


def batch_error(batch: Batch, shared: DiscreteTarget) -> float:
    """The coupling error of one batch against the population map (see the module docstring)."""
    rng = np.random.default_rng(batch.seed)
    x0 = rng.standard_normal((batch.size, 2))
    if batch.target == "discrete":
        labels = shared.sample_indices(batch.size, rng)
        sigma = exact_coupling(x0, shared.atoms[labels])
        return float(np.mean(labels[sigma] != shared.brenier_index(x0)))
    x1 = uniform_circle(batch.size, rng)
    sigma = exact_coupling(x0, x1)
    return float(np.mean(((x1[sigma] - x0 / np.linalg.norm(x0, axis=1, keepdims=True)) ** 2).sum(-1)))


def run(cfg: MinibatchConfig, ctx: RunContext) -> ResultRecord:
    target, fit = make_discrete_target(cfg.discrete, cfg.seed)
    batches = [
        Batch(name, size, derive_seed(cfg.seed, "batch", name, size, r))
        for name in TARGETS
        for size in cfg.batch_sizes
        for r in range(cfg.repetitions)
    ]
    errors = ctx.map(batch_error, batches, name="otcfm-batch", shared=target)
    sizes = np.array(cfg.batch_sizes, dtype=float)
    metrics = {"duals/fit_cell_mass_error": fit["fit_cell_mass_error"]}
    curves = {}
    for name in TARGETS:
        means = np.array(
            [np.mean([e for b, e in zip(batches, errors) if (b.target, b.size) == (name, s)]) for s in sizes]
        )
        slope = loglog_slope(sizes, means)
        curves[name] = (sizes, means, slope)
        metrics.update({f"{name}/B{int(s)}/error": float(e) for s, e in zip(sizes, means)})
        metrics[f"{name}/slope"] = slope
    ctx.report(metrics)
    labelled = {ERROR_LABELS[name]: curve for name, curve in curves.items()}
    plots.plot_error_vs_batch(labelled, ctx.artifact("error_vs_batch.png"))
    return ctx.result(metrics, minibatch_claims(curves))
