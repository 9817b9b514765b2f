"""One cell = one variant x one replicate: adversarial training, then the evaluation. Pure torch."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable

import torch

from raylab.methods.s2o import attacks, core
from raylab.methods.s2o.config import VARIANT, S2OConfig
from raylab.methods.s2o.data import ImageData, crop_flip
from raylab.methods.s2o.models import Classifier, build_model
from raylab.methods.s2o.sam import plain_step, sam_step
from raylab.seeding import derive_seed


@dataclasses.dataclass(frozen=True)
class Cell:
    variant: str  # e.g. "at_s2o"
    replicate: int  # replicate index; its seed is shared by every variant
    seed: int  # derive_seed(run seed, "replicate", replicate)

    @property
    def _parts(self) -> re.Match[str]:
        match = VARIANT.fullmatch(self.variant)
        assert match is not None  # the config rejects other variants
        return match

    @property
    def objective(self) -> str:
        return self._parts.group(1)

    @property
    def s2o(self) -> bool:
        return bool(self._parts.group(2))

    @property
    def sam(self) -> bool:
        return bool(self._parts.group(3))


def batch_loss(
    model: Classifier,
    cell: Cell,
    cfg: S2OConfig,
    xb: torch.Tensor,
    yb: torch.Tensor,
    generator: torch.Generator,
) -> Callable[[], torch.Tensor]:
    """The variant's loss on one batch as a closure (SAM evaluates it twice on the same x_adv)."""
    t = cfg.train
    if cell.objective == "at":
        x_adv = attacks.pgd_attack(model, xb, yb, t.eps, t.attack_step, t.attack_steps, generator)
    else:
        x_adv = attacks.trades_attack(model, xb, t.eps, t.attack_step, t.attack_steps, generator)

    def compute() -> torch.Tensor:
        needs_clean = cell.objective == "trades" or (cell.s2o and t.s2o_form == "official")
        logits = model(xb) if needs_clean else None
        logits_adv = model(x_adv)
        term = None
        if cell.s2o:
            if t.s2o_form == "official":
                assert logits is not None  # needs_clean
                term = core.s2o_penalty(logits, logits_adv, yb, t.s2o_keep)
            else:
                term = core.weight_correlation_penalty(model.head.weight)
        if cell.objective == "at":
            return core.at_loss(logits_adv, yb, t.at_s2o_weight, term)
        assert logits is not None  # needs_clean
        return core.trades_loss(logits, logits_adv, yb, t.trades_beta, t.trades_s2o_weight, term)

    return compute


def train_epoch(model, optimizer, cell: Cell, cfg: S2OConfig, data: ImageData, generator, device) -> dict:
    """One pass in a seeded random order; returns the mean training loss and images per second."""
    model.train()
    order = torch.randperm(len(data.x_train), generator=generator)
    losses, started = [], time.perf_counter()
    for start in range(0, len(order), cfg.train.batch_size):
        index = order[start : start + cfg.train.batch_size]
        xb = data.x_train[index]
        if cfg.data.augment:
            xb = crop_flip(xb, generator)
        xb, yb = xb.to(device), data.y_train[index].to(device)
        compute = batch_loss(model, cell, cfg, xb, yb, generator)
        if cell.sam:
            losses.append(sam_step(model, optimizer, compute, cfg.train.sam_rho))
        else:
            losses.append(plain_step(optimizer, compute))
    seconds = time.perf_counter() - started
    return {"loss": sum(losses) / len(losses), "images_per_s": len(order) / seconds}


def learning_rate(cfg: S2OConfig, epoch: int) -> float:
    """Step decay for the 0-based `epoch`: x 0.1 per milestone m with epoch + 1 >= m (milestones count
    epochs from 1, as the official loop: [100, 150] trains epochs 100-149 at 0.1 lr, 150-200 at 0.01)."""
    return cfg.train.lr * 0.1 ** sum(epoch + 1 >= m for m in cfg.train.lr_milestones)


def build(cell: Cell, cfg: S2OConfig, data: ImageData, device: torch.device):
    """Model (initialised from the replicate's seed) and its SGD optimizer."""
    torch.manual_seed(derive_seed(cell.seed, "init"))
    m = cfg.model
    model = build_model(m.arch, data.shape, data.classes, m.hidden, data.mean, data.std, m.normalize)
    model = model.to(device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.train.lr, momentum=cfg.train.momentum, weight_decay=cfg.train.weight_decay
    )
    return model, optimizer


def curve_point(model: Classifier, cfg: S2OConfig, data: ImageData, cell: Cell, epoch: int, device) -> dict:
    """Clean and PGD-20 accuracy on the first `eval.curve_points` test images after an epoch."""
    e = cfg.eval
    x, y = data.x_test[: e.curve_points].to(device), data.y_test[: e.curve_points].to(device)
    torch.manual_seed(derive_seed(cell.seed, "curve", epoch))
    pgd = attacks.evaluation_attack("pgd", model, e.eps, e.step, e.steps, data.classes, 0)
    return {
        "clean": attacks.robust_accuracy(None, model, x, y, e.batch_size),
        "pgd20": attacks.robust_accuracy(pgd, model, x, y, e.batch_size),
    }


def in_best_window(cfg: S2OConfig, epoch: int) -> bool:
    """Whether the model after the 0-based `epoch` is a candidate for the best checkpoint."""
    window = cfg.eval.best_window
    return bool(window) and window[0] <= epoch + 1 <= window[1]


def selection_score(model: Classifier, cfg: S2OConfig, data: ImageData, cell: Cell, device) -> float:
    """PGD-20 accuracy on the first `eval.points` test images with the final evaluation's attack and
    seed: the best checkpoint's reported PGD-20 is the score it was chosen by."""
    e = cfg.eval
    x, y = data.x_test[: e.points].to(device), data.y_test[: e.points].to(device)
    torch.manual_seed(derive_seed(cell.seed, "eval", "pgd"))
    attack = attacks.evaluation_attack("pgd", model, e.eps, e.step, e.steps, data.classes, 0)
    return attacks.robust_accuracy(attack, model, x, y, e.batch_size)


def evaluate(model: Classifier, cfg: S2OConfig, data: ImageData, cell: Cell, device) -> dict:
    """Final metrics: clean accuracy and logit correlation on all n_test images; the attacks and the
    PGD eps grid on the first `eval.points`; the last layer's weight cosines."""
    e = cfg.eval
    with attacks.eval_mode(model), torch.no_grad():  # batch by batch: 10k CIFAR images at once exhaust a GPU
        logits = torch.cat([model(batch.to(device)).cpu() for batch in data.x_test.split(e.batch_size)])
    correct = logits.argmax(1) == data.y_test
    x, y = data.x_test[: e.points].to(device), data.y_test[: e.points].to(device)
    out = {
        "clean": float(correct.float().mean()),
        "logit_corr": core.logit_correlation(logits),
        "weight_cos": core.weight_cosine(model.head.weight.detach().cpu()),
        # batched exactly as the attacks are, so PGD at eps 0 must give this number to the last image
        "clean_points": attacks.robust_accuracy(None, model, x, y, e.batch_size),
    }
    for name in e.attacks:
        torch.manual_seed(derive_seed(cell.seed, "eval", name))
        attack = attacks.evaluation_attack(
            name, model, e.eps, e.step, e.steps, data.classes, derive_seed(cell.seed, name), e.autoattack
        )
        out[{"pgd": "pgd20", "cw": "cw20", "autoattack": "aa"}[name]] = attacks.robust_accuracy(
            attack, model, x, y, e.batch_size
        )
    for eps in e.eps_grid:
        torch.manual_seed(derive_seed(cell.seed, "eps_grid", eps))
        attack = attacks.evaluation_attack("pgd", model, eps, e.step, e.steps, data.classes, 0)
        out[f"pgd20_eps{eps:g}"] = attacks.robust_accuracy(attack, model, x, y, e.batch_size)
    return out
