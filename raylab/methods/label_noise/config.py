"""Configuration of the label-noise SGD / SAM experiments (one dataclass; `kind` picks the study)."""

from __future__ import annotations

import dataclasses
from typing import Literal

Kind = Literal[
    "two_phase",
    "periodic",
    "sam",
    "sam_noise",
    "forced",
    "forced_periodic",
    "generalisation",
    "readme_scale",
    "single",
]


@dataclasses.dataclass
class DataConfig:
    d: int = 20  # input dimension
    n: int = 200  # training samples (n > d: the interpolator beta* is unique)
    n_test: int = 1000  # test samples (generalisation study)
    sparsity: int = 0  # 0: dense teacher; k > 0: k non-zero entries (then normalised)
    teacher_norm: float = 1.0  # ||beta*|| (label scale); 1 is our reconstruction [R]

    def __post_init__(self):
        if min(self.d, self.n, self.n_test) < 1 or not 0 <= self.sparsity <= self.d:
            raise ValueError("data: d, n, n_test must be >= 1 and 0 <= sparsity <= d")
        if self.teacher_norm <= 0:
            raise ValueError("data.teacher_norm must be > 0")


@dataclasses.dataclass
class TrainConfig:
    m: int = 100  # hidden width
    lr: float = 5e-3  # SGD step size eta
    steps: int = 40_000  # SGD steps (with noise, or with the noise schedule of `period`)
    batch: int = 1  # the drift scales like lr * delta^2 / batch: batch 1 makes it visible
    delta: float = 4.0  # label-noise level
    noise: Literal["gaussian", "sign"] = "gaussian"  # N(0, delta^2) or +-delta
    fresh_noise: bool = True  # False: ablation, one noise draw per sample for the whole run
    sam_rho: float = 0.0  # > 0: SAM instead of SGD
    period: int = 0  # > 0: noise on for `period` steps, off for `period`, repeated
    finish_steps: int = 0  # noise-free steps after `steps` (convergence check P1-g)
    oscillate: float = 0.0  # > 0: force the second layer directly, a + oscillate * N(0, 1) per step
    init_scale: float = 1.0  # std multiplier of a ~ N(0, 1/m), w ~ N(0, I/d); 1 is our reading [R]

    def __post_init__(self):
        if self.m < 1 or self.lr <= 0 or self.steps < 1 or self.batch < 1 or self.init_scale <= 0:
            raise ValueError("train: m, steps, batch must be >= 1, lr and init_scale > 0")
        if min(self.delta, self.sam_rho, self.period, self.finish_steps, self.oscillate) < 0:
            raise ValueError("train: delta, sam_rho, period, finish_steps and oscillate must be >= 0")


@dataclasses.dataclass
class LabelNoiseConfig:
    seed: int = 0  # run seed; every (teacher, data, init) draw and the noise stream derive from it
    kind: Kind = "two_phase"  # which study, and so which controls run beside it and which claims
    num_seeds: int = 3  # independent (teacher, data, init) draws, vectorised in one run
    log_every: int = 250  # metric grid (steps)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)  # the linear teacher and its data
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)  # the studied run; controls vary it

    def __post_init__(self):
        if self.num_seeds < 1 or self.log_every < 1:
            raise ValueError("num_seeds and log_every must be >= 1")
        if self.train.period and self.train.period % self.log_every:
            raise ValueError(
                "train.period must be a multiple of log_every (windows are measured on the grid)"
            )


@dataclasses.dataclass
class DigitsConfig:
    """Real-data variant: scikit-learn's bundled 8x8 digits (no download), one hidden erf layer."""

    seed: int = 0  # run seed: the train/test split, every initialisation and sample stream
    num_seeds: int = 3  # independent initialisations / sample streams (same train/test split)
    n_train: int = 512  # training images (the rest of the 1,797 is the test set)
    hidden: int = 256  # erf units in the hidden layer
    lr: float = 0.05  # SGD step size
    batch: int = 8  # minibatch size
    steps: int = 10_000  # SGD steps
    flip_prob: float = 0.5  # each step, each label is replaced w.p. flip_prob by a uniform class
    log_every: int = 500  # metric grid (steps)

    def __post_init__(self):
        if not 0 < self.n_train < 1797 or min(self.hidden, self.batch, self.steps, self.num_seeds) < 1:
            raise ValueError("n_train must be in (0, 1797); hidden, batch, steps, num_seeds >= 1")
        if not 0 <= self.flip_prob <= 1 or self.lr <= 0 or self.log_every < 1:
            raise ValueError("flip_prob must be in [0, 1], lr > 0, log_every >= 1")
