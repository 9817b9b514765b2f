"""Configuration of the TSP-MDF experiments: data, modifier training, evaluation."""

from __future__ import annotations

import dataclasses
from typing import Literal

from raylab.methods.tsp_mdf.heuristics import METHODS

Objective = Literal["mean", "plain", "best_of_m"]


@dataclasses.dataclass
class TrainConfig:
    """REINFORCE on random uniform N=`nodes` instances generated on the fly (our reconstruction).
    Its streams derive from the run seed (`derive_seed(seed, "train")`)."""

    method: str = "farthest"  # the heuristic used for the training rollouts
    nodes: int = 100  # N of the random uniform training instances
    batch: int = 16  # instances per REINFORCE step
    samples: int = 16  # K rollouts per instance
    steps: int = 3000  # REINFORCE steps (optimiser updates)
    max_minutes: float = 10.0  # training wall-clock budget (minutes); stops early when reached
    lr: float = 3e-4  # Adam step size (1e-3 drifted to an uneven sigma allocation, worse at N=500)
    objective: Objective = "best_of_m"  # advantage: mean | plain | best_of_m (ours, see train.py)
    best_of: int = 4  # m of the best_of_m objective
    neighbours: int = 8  # k of the kNN graph the modifier passes messages on
    hidden: int = 64  # modifier width (features per node)
    layers: int = 3  # residual message-passing layers
    sigma_scale: float = 0.05  # mean sigma_i in units of d_i (~ the absolute sigma = 0.001 ablation at N=500)
    mean_max: float = 0.0  # |mu_i| bound in d_i; 0 = noise allocation only (learned means hurt at N=500)
    clip: float = 0.5  # ||delta_i|| <= clip * d_i
    instances_per_item: int = 8  # rollouts of this many instances per sampler task (few, large tasks)
    held_out: int = 32  # fixed held-out instances for the training curve (check 11)
    eval_every: int = 50  # held-out evaluation period (steps)
    checkpoint_every: int = 100  # checkpoint period (steps); a rerun resumes from the latest

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"train.method must be one of {', '.join(METHODS)}, not '{self.method}'")
        if min(self.nodes, self.batch, self.samples, self.steps, self.held_out, self.eval_every) < 1:
            raise ValueError("train: nodes, batch, samples, steps, held_out and eval_every must be >= 1")
        if not self.sigma_scale > 0 or self.mean_max < 0 or self.clip <= 0:
            raise ValueError("train: need sigma_scale > 0, mean_max >= 0 and clip > 0")


@dataclasses.dataclass
class DataConfig:
    """Test instances: a `.npy` of shape (instances, N, 2), a `.tsp` file or a folder of `.tsp` files
    (optima from an `optimal_lengths.txt` beside them), or `random:<N>` / `clustered:<N>` for generated
    instances (uniform / 5 Gaussian clusters of std 0.05).
    A relative path is looked up in $RAYLAB_DATA/tsp, then the repository's data/tsp/, when it is
    not found from the working dir."""

    path: str = (
        "test-500-coords.npy"  # .npy (instances, N, 2), .tsp file or folder, random:<N> or clustered:<N>
    )
    instances: int = 16  # the first n instances (all when 0)
    names: list[str] = dataclasses.field(default_factory=list)  # TSPLIB folder: which instances
    references: str = ""  # per-instance reference lengths (.npy), or "lkh" (LKH-3 computed at load)
    reference_mean: float = 0.0  # literature reference for the gap of means (0: none)


@dataclasses.dataclass
class TSPConfig:
    seed: int = 0  # run seed: training ("train") and test-time sample noise ("test-noise") derive from it
    data: DataConfig = dataclasses.field(default_factory=DataConfig)  # test instances
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)  # modifier training (REINFORCE)
    modifier: str = ""  # a saved modifier.pt to evaluate instead of training one
    methods: list[str] = dataclasses.field(  # insertion heuristics H evaluated (FI / RI / NI)
        default_factory=lambda: ["farthest", "random", "nearest"]
    )
    samples: int = 32  # K at test time
    k_values: list[int] = dataclasses.field(default_factory=lambda: [8, 32, 128])  # gap-vs-K curve
    ablation_sigmas: list[float] = dataclasses.field(  # random-shift ablation sigmas (unit square)
        default_factory=lambda: [0.0005, 0.001, 0.002]
    )
    large_sigma: float = 0.01  # the "too large" control
    two_opt: bool = True  # also report best-of-K + 2-opt vs plain + 2-opt (FI)
    lkh: int = 0  # instances solved by LKH-3 (elkai) as an anchor in the same run
    chunk: int = 8  # constructions per sampler task
    plain_full_set: bool = True  # plain means over the whole .npy file (the published-mean check)
    claims: str = "uniform"  # which claim set: uniform | plain | tsplib

    def __post_init__(self):
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(
                f"methods must be a non-empty subset of {', '.join(METHODS)}; got {self.methods}"
            )
        if self.samples < 1 or any(k < 1 for k in self.k_values) or self.chunk < 1:
            raise ValueError("samples, k_values and chunk must be >= 1")
        if self.claims not in ("uniform", "plain", "tsplib"):
            raise ValueError(f"claims must be uniform, plain or tsplib, not '{self.claims}'")


@dataclasses.dataclass
class FamiliesConfig:
    """The structured shift families without training, and test-time guided search."""

    seed: int = 0  # run seed: each family's draws, wave directions and groups derive from it by name
    data: DataConfig = dataclasses.field(  # Euclidean test instances with per-instance references
        default_factory=lambda: DataConfig(references="test-500-ref-lkh.npy")
    )
    method: str = "farthest"  # the insertion heuristic
    amplitudes: dict[str, list[float]] = dataclasses.field(  # family -> untrained settings tried
        default_factory=lambda: {
            "gaussian": [0.05, 0.1, 0.2],  # sigma, units of each node's nearest-neighbour distance
            "affine": [0.003, 0.01, 0.03],  # 2x2 matrix entry std (dimensionless)
            "field": [0.05, 0.1, 0.3],  # amplitude, units of the mean nearest-neighbour distance
            "cluster": [0.05, 0.1, 0.3],  # group shift std, units of the mean nearest-neighbour distance
        }
    )
    length_scale: float = 0.25  # field: wavelength as a fraction of the instance's extent
    group_size: int = 10  # cluster: nodes per k-means group
    k_values: list[int] = dataclasses.field(default_factory=lambda: [8, 32, 128])  # the family table's K
    guided_k: int = 32  # K of the guided-vs-untrained comparison
    rounds: int = 4  # guided search: rounds the K constructions are split into
    elites: int = 1  # guided search: the next round is centred on the mean latent of this many best
    shrink: float = 0.5  # guided search: latent spread in round r = shrink ** r (picked on separate streams)
    streams: int = 3  # sample streams the guided comparison is averaged over (fresh ones, not stream 0)
    chunk: int = 32  # constructions per fan-out item
    local_search: bool = True  # also at guided_k: every built tour improved by 2-opt + Or-opt (stream 1)

    def __post_init__(self):
        from raylab.methods.tsp_mdf.families import FAMILIES

        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not '{self.method}'")
        unknown = set(self.amplitudes) - set(FAMILIES)
        if unknown or not self.amplitudes or not all(self.amplitudes.values()):
            raise ValueError(
                f"amplitudes: non-empty lists for families among {FAMILIES} (unknown: {unknown})"
            )
        if self.guided_k not in self.k_values or self.guided_k < self.rounds or self.rounds < 2:
            raise ValueError("guided_k must be one of k_values and >= rounds >= 2")
        if min(self.streams, self.elites, self.chunk) < 1 or not 0 < self.shrink <= 1:
            raise ValueError("streams, elites and chunk must be >= 1 and shrink in (0, 1]")


@dataclasses.dataclass
class PolicyTrainConfig:
    """REINFORCE of the mixture policy on random uniform instances generated on the fly."""

    nodes: int = 500  # N of the random uniform training instances
    batch: int = 16  # instances per REINFORCE step
    samples: int = 16  # K policy draws per instance (plus the unshifted tour)
    iterations: int = 600  # REINFORCE steps (optimiser updates)
    lr: float = 3e-3  # Adam step size
    best_of: int = 4  # m of the best-of-m advantages (train.best_of_m_weights)
    hidden: int = 32  # set-encoder width
    spread: float = 0.5  # std of a draw's log-scale around the policy's mean (exploration; natural log)
    clustered: float = 0.0  # share of each batch drawn clustered (as `clustered:<N>`), the rest uniform

    def __post_init__(self):
        if min(self.nodes, self.batch, self.iterations, self.hidden) < 1 or not self.spread > 0:
            raise ValueError("policy.train: nodes, batch, iterations, hidden >= 1 and spread > 0")
        if not 0 <= self.clustered <= 1:
            raise ValueError("policy.train.clustered is a share in [0, 1]")
        if not 2 <= self.best_of <= self.samples:
            raise ValueError("policy.train: need 2 <= best_of <= samples")


@dataclasses.dataclass
class PolicyConfig:
    """A trained low-dimensional policy over the shift families vs each family untrained."""

    seed: int = 0  # run seed: training instances and draws, test draws, family geometry derive from it
    data: DataConfig = dataclasses.field(  # Euclidean test instances with per-instance references
        default_factory=lambda: DataConfig(references="test-500-ref-lkh.npy")
    )
    method: str = "farthest"  # the insertion heuristic
    amplitudes: dict[str, list[float]] = dataclasses.field(  # family -> untrained settings (see families)
        default_factory=lambda: FamiliesConfig().amplitudes
    )
    length_scale: float = 0.25  # field: wavelength as a fraction of the instance's extent
    group_size: int = 10  # cluster: nodes per k-means group
    k: int = 32  # constructions per test instance, every arm
    streams: int = 3  # fresh sample streams the comparison is averaged over (amplitudes picked on stream 0)
    chunk: int = 32  # constructions per fan-out item of the untrained arms
    train: PolicyTrainConfig = dataclasses.field(default_factory=PolicyTrainConfig)  # the policy's training

    def __post_init__(self):
        from raylab.methods.tsp_mdf.families import FAMILIES

        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not '{self.method}'")
        if set(self.amplitudes) - set(FAMILIES) or not self.amplitudes or not all(self.amplitudes.values()):
            raise ValueError(f"amplitudes: non-empty lists for families among {FAMILIES}")
        if min(self.k, self.streams, self.chunk) < 1:
            raise ValueError("k, streams and chunk must be >= 1")
