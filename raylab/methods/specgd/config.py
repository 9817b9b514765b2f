"""Configuration of the SpecGD / phase-retrieval experiments (one dataclass for all three)."""

from __future__ import annotations

import dataclasses
from typing import Literal

Optimiser = Literal["gd", "specgd", "normgd", "muon"]


@dataclasses.dataclass
class ProblemConfig:
    d: int = 50  # input dimension; the student is square (m = d)
    init_scale: float = 1e-3  # W_0 entries ~ N(0, init_scale^2 / d)
    n_samples: int = 0  # 0: population gradient; > 0: a fixed sample of this size

    def __post_init__(self):
        if self.d < 3:
            raise ValueError("problem.d must be >= 3 (signal, spike and a bulk)")
        if self.init_scale <= 0 or self.n_samples < 0:
            raise ValueError("problem.init_scale must be > 0 and problem.n_samples >= 0")


@dataclasses.dataclass
class LearningRates:
    """Step sizes per optimiser (arXiv 2601.22652 setting: GD 0.05, the spectral ones 0.01)."""

    gd: float = 0.05  # GD step size eta~ (the paper's setting)
    specgd: float = 0.01  # SpecGD step size eta: W <- W - eta polar(grad), the SpecGD update
    normgd: float = 0.01  # normalised GD step size: W <- W - eta grad / ||grad||_F
    muon: float = 0.01  # Muon step size (Newton-Schulz approximation of polar(grad))


@dataclasses.dataclass
class ContractionConfig:
    """Check S3-g: late-phase noise contraction at lam = 1 with a decaying SpecGD step."""

    enabled: bool = True  # run the two lam = 1 contraction cells (claims S3-g)
    steps: int = 800  # optimiser steps of each contraction cell
    specgd_lr: float = 0.02  # initial SpecGD step size eta_0
    specgd_decay: float = 0.99  # eta_k = specgd_lr * specgd_decay^k
    gd_lr: float = 0.05  # GD step size (constant) of the contraction cells


@dataclasses.dataclass
class SpecGDConfig:
    seed: int = 0  # run seed; every draw derives from it by name
    lams: list[float] = dataclasses.field(
        default_factory=lambda: [1.0, 3.0, 5.0, 20.0]
    )  # spike variances lam
    optimisers: list[Optimiser] = dataclasses.field(  # the compared optimisers
        default_factory=lambda: ["gd", "specgd", "muon", "normgd"]
    )
    num_seeds: int = 3  # independent (theta, u, W_0[, X]) draws per (lam, optimiser)
    steps: int = 300  # optimiser steps per cell
    report_every: int = 10  # metric grid for metrics.jsonl / Tune
    problem: ProblemConfig = dataclasses.field(default_factory=ProblemConfig)  # the phase-retrieval problem
    lr: LearningRates = dataclasses.field(default_factory=LearningRates)  # step size per optimiser
    contraction: ContractionConfig = dataclasses.field(  # late-phase noise contraction (S3-g)
        default_factory=ContractionConfig
    )
    check_gradients: bool = True  # checks S3-a / S3-b (closed-form gradient, polar factor)

    def __post_init__(self):
        if not self.lams or any(lam < 1 for lam in self.lams):
            raise ValueError("lams must be a non-empty list of spike variances >= 1")
        if not self.optimisers:
            raise ValueError("optimisers must not be empty")
        if self.num_seeds < 1 or self.steps < 1 or self.report_every < 1:
            raise ValueError("num_seeds, steps and report_every must be >= 1")
