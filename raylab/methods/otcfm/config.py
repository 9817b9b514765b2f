"""Configuration of the OT-CFM experiments (one dataclass per experiment; checks B1-B3, B5, B6)."""

from __future__ import annotations

import dataclasses

from raylab.config import require_positive


@dataclasses.dataclass
class DiscreteTargetConfig:
    """A discrete 2-D target: atoms uniform in [-box, box]^2 with Dirichlet(1) masses."""

    atoms: int = 8  # number of atoms m (B1 is designed for 8-16)
    box: float = 2.0  # half-width of the square the atoms are drawn in
    mc_points: int = 50_000  # N(0, I) draws the semi-discrete duals are fitted on (ot.emd)

    def __post_init__(self):
        if self.atoms < 2:
            raise ValueError("discrete.atoms must be >= 2")
        require_positive(**{"discrete.box": self.box, "discrete.mc_points": self.mc_points})


@dataclasses.dataclass
class ProximalFieldConfig:
    """B1 (discrete target: power diagram, simplex-QP prox, field) and the circle / sphere prox."""

    seed: int = 0  # run seed; atoms, duals and samples derive from it by name
    discrete: DiscreteTargetConfig = dataclasses.field(default_factory=DiscreteTargetConfig)  # the target
    samples: int = 10_000  # source draws x0 per time t
    times: list[float] = dataclasses.field(default_factory=lambda: [0.1, 0.5, 0.9, 0.99])  # the checked t
    sphere_dims: list[int] = dataclasses.field(default_factory=lambda: [2, 3])  # d of the spheres S^{d-1}
    fresh_points: int = 1_000_000  # fresh N(0, I) draws that measure the duals' cell-mass error
    grid: int = 60  # points per axis of the field plot (gaps included)

    def __post_init__(self):
        if not self.times or any(not 0 < t < 1 for t in self.times):
            raise ValueError("times must be a non-empty list in (0, 1)")
        if not self.sphere_dims or any(d < 2 for d in self.sphere_dims):
            raise ValueError("sphere_dims must be a non-empty list of dimensions >= 2")
        require_positive(samples=self.samples, fresh_points=self.fresh_points, grid=self.grid)


@dataclasses.dataclass
class MinibatchConfig:
    """B3: B x B exact couplings against the population map, as B grows."""

    seed: int = 0  # run seed; every batch's draw derives from it by (target, B, repetition)
    discrete: DiscreteTargetConfig = dataclasses.field(default_factory=DiscreteTargetConfig)  # the target
    batch_sizes: list[int] = dataclasses.field(  # B values (powers of 2: the log-log fit)
        default_factory=lambda: [16, 32, 64, 128, 256, 512, 1024, 2048]
    )
    repetitions: int = 8  # independent batches per (target, B) (the slope fits are designed for >= 4)

    def __post_init__(self):
        if len(self.batch_sizes) < 2 or any(b < 2 for b in self.batch_sizes):
            raise ValueError("batch_sizes needs >= 2 values, each >= 2 (a slope is fitted)")
        if self.repetitions < 1:
            raise ValueError("repetitions must be >= 1")


@dataclasses.dataclass
class HyperbolicityConfig:
    """B2 (uniform circle, RK4 in s), B5 (von Mises circle of atoms, exact paths), B6 (gap region)."""

    seed: int = 0  # run seed; particles and the duals' Monte-Carlo draws derive from it by name
    particles: int = 10_000  # particles integrated from mu_0
    ds: float = 0.01  # RK4 step in rescaled time s = -log(1 - t)
    s_end: float = 8.0  # integrate to s = s_end (t = 1 - exp(-s_end))
    fit_from: float = 1.0  # circle: fit log median normal distance on [fit_from, fit_to]
    fit_to: float = 7.0  # (B2's fit window: s in [1, 7])
    atoms: int = 256  # von Mises circle: number of atoms m
    kappa: float = 2.0  # von Mises concentration of the atom masses
    mc_points: int = 20_000  # N(0, I) draws the von Mises duals are fitted on (ot.emd)
    gap_time: float = 0.9  # B6: particles start inside radius t at this t
    gap_fill: float = 0.95  # B6: their radius is uniform in [0, gap_fill * t]

    def __post_init__(self):
        require_positive(particles=self.particles, ds=self.ds, kappa=self.kappa, mc_points=self.mc_points)
        if not 0 <= self.fit_from < self.fit_to <= self.s_end:
            raise ValueError("need 0 <= fit_from < fit_to <= s_end")
        if self.s_end < 6:
            raise ValueError("s_end must be >= 6 (B5 compares s = 3 with s = 6)")
        if self.atoms < 16:
            raise ValueError("atoms must be >= 16 (pairs 5-20 spacings apart)")
        if not 0 < self.gap_time < 1 or not 0 < self.gap_fill < 1:
            raise ValueError("gap_time and gap_fill must be in (0, 1)")


TRAIN_TARGETS = ("circle", "von_mises", "gaussians8", "discrete")
# ours; torchcfm's exact-OT matcher (plan re-sampled with replacement); the same matcher sampling its
# plan without replacement, which gives our permutation back and isolates the re-sampling effect
TRAINERS = ("raylab", "torchcfm", "torchcfm_noreplace")


@dataclasses.dataclass
class Train2DConfig:
    """B4: an MLP vector field trained with exact-OT CFM (sigma = 0) on 2-D targets, against the
    closed-form field and beside torchcfm's ExactOptimalTransportConditionalFlowMatcher."""

    seed: int = 0  # run seed; each (target, B, replicate, trainer) run derives its own by name
    targets: list[str] = dataclasses.field(default_factory=lambda: list(TRAIN_TARGETS))  # 2-D targets
    batch_sizes: list[int] = dataclasses.field(default_factory=lambda: [32, 128, 512])  # minibatch B
    replicates: int = 3  # independent trainings per (target, B, trainer)
    trainers: list[str] = dataclasses.field(default_factory=lambda: list(TRAINERS))  # from TRAINERS
    steps: int = 3000  # optimiser steps per training
    hidden: int = 64  # units per hidden layer (3 hidden layers, SiLU)
    lr: float = 1e-3  # Adam step size
    eval_times: list[float] = dataclasses.field(
        default_factory=lambda: [0.25, 0.5, 0.75]
    )  # t of the L2 error
    eval_points: int = 2000  # population samples of mu_t per eval time (L2 error)
    ode_steps: int = 50  # fixed-step RK4 steps of the sampler from t = 0 to 1
    w2_points: int = 1000  # generated samples for W2 (against 2x as many target samples, POT emd2)
    discrete: DiscreteTargetConfig = dataclasses.field(default_factory=DiscreteTargetConfig)  # "discrete"

    def __post_init__(self):
        unknown = sorted(set(self.targets) - set(TRAIN_TARGETS)) + sorted(set(self.trainers) - set(TRAINERS))
        if unknown or not self.targets or not self.trainers:
            raise ValueError(f"targets from {TRAIN_TARGETS}, trainers from {TRAINERS}; unknown: {unknown}")
        if not self.batch_sizes or any(b < 2 for b in self.batch_sizes):
            raise ValueError("batch_sizes must be a non-empty list of values >= 2")
        if any(not 0 < t < 1 for t in self.eval_times):
            raise ValueError("eval_times must lie in (0, 1)")
        require_positive(
            replicates=self.replicates,
            steps=self.steps,
            hidden=self.hidden,
            lr=self.lr,
            eval_points=self.eval_points,
            ode_steps=self.ode_steps,
            w2_points=self.w2_points,
        )
