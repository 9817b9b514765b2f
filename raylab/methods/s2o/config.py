"""Configuration of the S2O experiments (README: what is reproduced)."""

from __future__ import annotations

import dataclasses
import re

from raylab.config import require_positive
from raylab.methods.s2o.data import DATASETS
from raylab.methods.s2o.models import ARCHS

# A variant is its objective, then optional "_s2o" and "_sam": at, at_s2o, trades_sam, trades_s2o_sam...
VARIANT = re.compile(r"(at|trades)(_s2o)?(_sam)?")
ATTACKS = ("pgd", "cw", "autoattack")
# "standard": AutoAttack's standard set with its released step counts; "reduced": torchattacks 3.5.1's
# AutoAttack(version="standard"), whose APGD / APGD-T / FAB run 10 steps (the CPU experiments' numbers)
AUTOATTACK_SETS = ("standard", "reduced")


@dataclasses.dataclass
class DataConfig:
    """Images in [0, 1]: mnist5k / digits ship in wheels; cifar10 is read from `root`."""

    name: str = "mnist5k"  # mnist5k | digits | cifar10
    root: str = ""  # cifar10 only: folder holding data_batch_1..5 and test_batch (never downloaded)
    n_train: int = 4000  # training images (cifar10: the first n; 0 = all)
    n_test: int = 1000  # test images for accuracy and the logit statistics (cifar10: 0 = all)
    augment: bool = False  # random crop (4-pixel padding) + horizontal flip per epoch (CIFAR protocol)

    def __post_init__(self):
        if self.name not in DATASETS:
            raise ValueError(f"data.name must be one of {', '.join(DATASETS)}, not '{self.name}'")
        if self.n_train < 0 or self.n_test < 0:
            raise ValueError("data.n_train and data.n_test must be >= 0")


@dataclasses.dataclass
class ModelConfig:
    """The classifier; inputs in [0, 1], optionally normalised per channel inside the model."""

    arch: str = "mlp"  # mlp | cnn | preact_resnet18 | wrn34_10
    hidden: int = 256  # units per hidden layer (mlp, cnn's dense layer)
    normalize: bool = True  # per-channel (x - mean) / std as the first layer (the CIFAR code has none)

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ValueError(f"model.arch must be one of {', '.join(ARCHS)}, not '{self.arch}'")
        require_positive(**{"model.hidden": self.hidden})


@dataclasses.dataclass
class TrainConfig:
    """Outer SGD and inner attack of adversarial training (official S2O / TRADES settings scaled down)."""

    epochs: int = 6  # passes over the training set
    batch_size: int = 128  # images per SGD step
    lr: float = 0.05  # initial SGD step size (official CIFAR: 0.1)
    lr_milestones: list[int] = dataclasses.field(default_factory=list)  # epochs (from 1) from which lr x 0.1
    momentum: float = 0.9  # SGD momentum
    weight_decay: float = 5e-4  # SGD weight decay (L2)
    eps: float = 0.1  # l_inf radius of the training attack, in [0, 1] pixel units (CIFAR: 8/255)
    attack_step: float = 0.025  # step of the training attack, pixel units (CIFAR: 2/255)
    attack_steps: int = 10  # steps of the training attack (PGD-10 / TRADES' 10 KL steps)
    at_s2o_weight: float = 0.1  # w in (1 - w) CE(adv) + w L_S2O for AT+S2O (official: 0.1)
    trades_s2o_weight: float = 0.3  # w in (1 - w) CE(clean) + w L_S2O + beta KL for TRADES+S2O (0.3)
    trades_beta: float = 6.0  # TRADES' robust KL weight beta
    s2o_keep: float = 0.2  # soft-label mass kept on the true class (official: 0.2; CIFAR-100: 0.02)
    s2o_form: str = "official"  # official (soft labels from logit second moments) | explicit (weight cosines)
    sam_rho: float = 0.05  # SAM radius rho for the *_sam variants (Foret et al.'s default)

    def __post_init__(self):
        if self.s2o_form not in ("official", "explicit"):
            raise ValueError(f"train.s2o_form must be 'official' or 'explicit', not '{self.s2o_form}'")
        if not 0 <= self.at_s2o_weight <= 1 or not 0 <= self.trades_s2o_weight <= 1:
            raise ValueError("train.at_s2o_weight and train.trades_s2o_weight must be in [0, 1]")
        if not 0 < self.s2o_keep < 1:
            raise ValueError("train.s2o_keep must be in (0, 1)")
        require_positive(
            **{
                "train.epochs": self.epochs,
                "train.batch_size": self.batch_size,
                "train.lr": self.lr,
                "train.eps": self.eps,
                "train.attack_step": self.attack_step,
                "train.attack_steps": self.attack_steps,
            }
        )
        if self.sam_rho < 0 or self.trades_beta < 0:
            raise ValueError("train.sam_rho and train.trades_beta must be >= 0")


@dataclasses.dataclass
class EvalConfig:
    """Final evaluation on a fixed subset of the test set (the first `points` test images)."""

    points: int = 500  # test images attacked (clean accuracy and logit statistics use all n_test)
    eps: float = 0.1  # l_inf radius of the reported attacks (CIFAR: 0.031, as TRADES / S2O)
    step: float = 0.0125  # PGD-20 / CW-20 step (CIFAR: 0.003)
    steps: int = 20  # PGD / CW steps
    attacks: list[str] = dataclasses.field(default_factory=lambda: list(ATTACKS))  # pgd | cw | autoattack
    eps_grid: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.05, 0.1, 0.2])  # PGD sanity
    curve_points: int = 200  # test images for the per-epoch clean / PGD-20 curve
    batch_size: int = 250  # images per attack batch
    autoattack: str = "reduced"  # standard (released step counts) | reduced (torchattacks' 10-step set)
    # the models after epochs first..last (from 1) are scored by PGD-20 on the attacked images and the
    # best one is evaluated beside the final model
    best_window: list[int] = dataclasses.field(default_factory=list)  # [first, last]; [] = final only

    def __post_init__(self):
        unknown = sorted(set(self.attacks) - set(ATTACKS))
        if unknown:
            raise ValueError(f"eval.attacks: unknown {unknown} (known: {', '.join(ATTACKS)})")
        if self.autoattack not in AUTOATTACK_SETS:
            raise ValueError(f"eval.autoattack must be standard or reduced, not '{self.autoattack}'")
        window = self.best_window
        if window and (len(window) != 2 or not 1 <= window[0] <= window[1]):
            raise ValueError(
                f"eval.best_window must be [] or [first, last], 1 <= first <= last, not {window}"
            )
        if "pgd" not in self.attacks:
            raise ValueError("eval.attacks must include pgd (the claims and the curves use it)")
        if any(e < 0 for e in self.eps_grid) or sorted(self.eps_grid) != self.eps_grid:
            raise ValueError("eval.eps_grid must be non-negative and increasing")
        require_positive(
            **{
                "eval.points": self.points,
                "eval.eps": self.eps,
                "eval.step": self.step,
                "eval.steps": self.steps,
            }
        )


@dataclasses.dataclass
class S2OConfig:
    """Variants x replicates trained on one data split; with one variant and one replicate, the run
    checkpoints every epoch and resumes (the unit of Tune sweeps)."""

    seed: int = 0  # run seed: the data split and every replicate's stream derive from it by name
    variants: list[str] = dataclasses.field(default_factory=lambda: ["at", "at_s2o"])  # see VARIANT
    replicates: int = 2  # seeds per variant; replicate r of every variant shares init and batch order
    device: str = "auto"  # auto (cuda when available) | cpu | cuda
    data: DataConfig = dataclasses.field(default_factory=DataConfig)  # the images
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)  # the classifier
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)  # adversarial training
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)  # attacks and statistics

    def __post_init__(self):
        bad = [v for v in self.variants if not VARIANT.fullmatch(v)]
        if not self.variants or bad or len(set(self.variants)) != len(self.variants):
            raise ValueError(
                f"variants must be distinct names like at, at_s2o, trades_s2o_sam, not {bad or self.variants}"
            )
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not '{self.device}'")
        require_positive(replicates=self.replicates)
        if self.eval.best_window and self.eval.best_window[1] > self.train.epochs:
            raise ValueError(
                f"eval.best_window {self.eval.best_window} ends after the last epoch ({self.train.epochs})"
            )
