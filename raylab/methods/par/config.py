"""Configuration of the PAR experiments: the replacer, the learners, the bandit and offline runs."""

from __future__ import annotations

import dataclasses
from typing import Literal

from raylab.methods.par.replacer import GATES, ProximalActionReplacer

ACTOR_LOSSES = ("mse", "kl", "mle")


@dataclasses.dataclass
class TD3BCConfig:
    """TD3+BC (Fujimoto & Gu 2021) with CORL's defaults."""

    hidden: int = 256  # units per hidden layer (actor and critics, 2 layers)
    lr: float = 3e-4  # Adam step size (actor and critics)
    gamma: float = 0.99  # discount factor
    tau: float = 0.005  # Polyak rate of the target networks
    policy_noise: float = 0.2  # target-policy smoothing std, action units (official PAR code: 0.2, unscaled)
    noise_clip: float = 0.5  # clip of the smoothing noise, action units (official: 0.5; CORL scales both)
    policy_freq: int = 2  # critic updates per actor (and target) update
    alpha: float = 2.5  # BC trade-off: lambda = alpha / mean |Q| (TD3+BC Eq. 3)
    actor_loss: str = "mse"  # mse (TD3+BC) | kl | mle (bandit-only BC variants of the PAR code)

    def __post_init__(self):
        if self.actor_loss not in ACTOR_LOSSES:
            raise ValueError(f"actor_loss must be one of {', '.join(ACTOR_LOSSES)}, not '{self.actor_loss}'")


@dataclasses.dataclass
class IQLConfig:
    """IQL (Kostrikov et al. 2022) with CORL's hyperparameters and the official PAR code's policy form;
    PAR's IQL variant ranks by V (arXiv 2602.07441)."""

    hidden: int = 256  # units per hidden layer (actor, critics, value net)
    lr: float = 3e-4  # Adam step size
    gamma: float = 0.99  # discount factor
    tau: float = 0.005  # Polyak rate of the target critics
    expectile: float = 0.7  # expectile of the value regression (IQL Eq. 5)
    temperature: float = 3.0  # inverse temperature beta of the AWR weights exp(beta A) (IQL Eq. 7)
    policy: str = "squashed"  # squashed: official PAR IQL (tanh-Gaussian, state-dependent std) | corl
    actor_lr_decay: bool = False  # cosine decay of the actor's step size to 0 over the run (CORL)

    def __post_init__(self):
        if self.policy not in ("squashed", "corl"):
            raise ValueError(f"iql.policy must be squashed or corl, not '{self.policy}'")
        if self.hidden < 1 or self.lr <= 0 or not 0 < self.gamma <= 1 or not 0 < self.tau <= 1:
            raise ValueError("iql: need hidden >= 1, lr > 0, gamma and tau in (0, 1]")
        if not 0 < self.expectile < 1 or self.temperature < 0:
            raise ValueError("iql: need expectile in (0, 1) and temperature >= 0")


@dataclasses.dataclass
class PARSettings:
    """PAR's defaults in the released code (arXiv 2602.07441): T_start = half of training,
    P in [0, 0.5], beta 1.5, pool 2000, top-k by the Bellman target y."""

    enabled: bool = False  # replace actions in the actor's batch (False: the plain learner)
    start: float = 0.5  # T_start as a fraction of the training steps
    p_min: float = 0.0  # replacement ratio P at T_start
    p_max: float = 0.5  # replacement ratio P at the end (grows linearly)
    beta: float = 1.5  # gate: replace only while critic loss <= beta x its reference
    pool_size: int = 2000  # synthetic actions kept in the pool
    gate: str = "lifetime_mean"  # lifetime_mean (released) | off | window (non-paper)
    window: int = 1000  # "window" gate: critic-loss reference over this many steps
    rank: bool = True  # top-k by Bellman target (False: random kept rows)

    def __post_init__(self):
        if self.gate not in GATES:
            raise ValueError(f"par.gate must be one of {', '.join(GATES)}, not '{self.gate}'")
        if not 0 <= self.start < 1:
            raise ValueError("par.start is a fraction of the training steps in [0, 1)")

    def build(self, steps: int) -> ProximalActionReplacer | None:
        if not self.enabled:
            return None
        return ProximalActionReplacer(
            int(self.start * steps),
            steps,
            self.p_min,
            self.p_max,
            self.beta,
            self.pool_size,
            self.gate,
            self.window,
            self.rank,
        )


@dataclasses.dataclass
class BanditConfig:
    """The continuous bandit of the PAR code's toy_main.py (arXiv 2602.07441, toy experiment): each
    (loss, replicate) with and without PAR."""

    seed: int = 0  # run seed; replicate r uses derive_seed(seed, "replicate", r)
    replicates: int = 3  # independent (data, training) replicates, seeded from `seed` by name
    losses: list[str] = dataclasses.field(  # BC losses compared: mse (TD3+BC) | kl | mle
        default_factory=lambda: ["mse", "kl", "mle"]
    )
    dataset_size: int = 10_000  # data actions ~ N([2, 2], I)
    steps: int = 10_000  # gradient steps per run
    batch: int = 256  # minibatch size
    hidden: int = 256  # units per hidden layer
    alpha: float = 1.0  # BC trade-off alpha (TD3+BC Eq. 3)
    # Target-policy smoothing in action units, as the official toy (unscaled TD3 values). With CORL's
    # scaling (0.2 x max_action 10 = 2.0) the released gate was open on only 56 % of actor steps and
    # TD3+BC+PAR stopped at (1.55, 1.55), reward -4.8 (seed 0, 10k steps); unscaled it was open on
    # 100 % and ended at (1.09, 1.11), -2.42.
    policy_noise: float = 0.2  # target-policy smoothing std, action units (official toy)
    noise_clip: float = 0.5  # clip of the smoothing noise, action units (official toy)
    par: PARSettings = dataclasses.field(  # PAR from 5 % of training, P in [0, 0.8]
        default_factory=lambda: PARSettings(True, 0.05, 0.0, 0.8)
    )

    def __post_init__(self):
        if min(self.replicates, self.steps, self.batch) < 1 or not self.losses:
            raise ValueError("bandit: replicates, steps and batch must be >= 1, losses non-empty")
        if unknown := set(self.losses) - set(ACTOR_LOSSES):
            raise ValueError(
                f"bandit: unknown losses {sorted(unknown)}; choose from {', '.join(ACTOR_LOSSES)}"
            )


@dataclasses.dataclass
class DatasetConfig:
    """`minari:<id>` (local minari store, $MINARI_DATASETS_PATH) or `pendulum:<kind>` (built on the fly
    from the hand-written controller: random | weak | medium-mix | expert; its episodes are seeded
    from the run seed by name)."""

    id: str = "pendulum:weak"  # minari:<id> | pendulum:<random|weak|medium-mix|expert>
    episodes: int = 100  # behaviour episodes of a pendulum:<kind> dataset (200 steps each)


@dataclasses.dataclass
class OfflineConfig:
    seed: int = 0  # run seed: initialisation, batches, evaluation episodes and generated data
    algo: str = "td3bc"  # td3bc | iql
    normalize_states: bool = False  # standardise states by the dataset's mean/std (CORL); official PAR: raw
    dataset: DatasetConfig = dataclasses.field(default_factory=DatasetConfig)  # the offline data
    steps: int = 20_000  # gradient steps
    batch: int = 256  # minibatch size
    eval_every: int = 5_000  # evaluation period (steps)
    eval_episodes: int = 10  # episodes per evaluation
    final_evals: int = 1  # the reported return: mean of the last `final_evals` evaluations
    td3bc: TD3BCConfig = dataclasses.field(default_factory=TD3BCConfig)  # used when algo = td3bc
    iql: IQLConfig = dataclasses.field(default_factory=IQLConfig)  # used when algo = iql
    par: PARSettings = dataclasses.field(  # PAR on the actor's batch; off by default
        default_factory=lambda: PARSettings(start=0.25)
    )
    checkpoint_every: int = 5_000  # checkpoint period (steps); a rerun resumes from the latest

    def __post_init__(self):
        if self.algo not in ("td3bc", "iql"):
            raise ValueError(f"algo must be td3bc or iql, not '{self.algo}'")
        if min(self.steps, self.batch, self.eval_every, self.eval_episodes, self.final_evals) < 1:
            raise ValueError("steps, batch, eval_every, eval_episodes and final_evals must be >= 1")


Expectation = Literal["gain", "no_harm"]


@dataclasses.dataclass
class PairedConfig:
    """TD3+BC without and with PAR on the same replicate seeds (data, initialisation, batches and
    evaluation episodes shared by both arms), at each alpha; `expect` picks the claims."""

    seed: int = 0  # run seed; replicate r trains both arms with derive_seed(seed, "replicate", r)
    replicates: int = 3  # paired seeds per alpha
    alphas: list[float] = dataclasses.field(default_factory=lambda: [2.5])  # TD3+BC alpha values
    expect: Expectation = "gain"  # gain: PAR >= TD3+BC + 8 (hard data) | no_harm: within 8 (easy data)
    offline: OfflineConfig = dataclasses.field(  # one arm's run; the base arm sets par.enabled = false
        default_factory=lambda: OfflineConfig(par=PARSettings(enabled=True, start=0.25, gate="off"))
    )

    def __post_init__(self):
        if self.replicates < 1 or not self.alphas:
            raise ValueError("replicates must be >= 1 and alphas non-empty")
        if self.offline.algo != "td3bc" or not self.offline.par.enabled:
            raise ValueError("offline must be a TD3+BC run with par.enabled = true (the PAR arm)")
