"""Attacks. Training: PGD-AT's inner maximisation and TRADES' KL attack (both as in the official
code, with the model in eval mode). Evaluation: torchattacks (PGD, AutoAttack), and CW-20 as
20 PGD steps on the Carlini-Wagner margin loss (the TRADES / S2O evaluation scripts' "CW").

Inputs are images in [0, 1]; l_inf balls of radius eps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Attack in eval mode (BatchNorm running statistics, no update), then restore the mode."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def project(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
    """Back into the l_inf ball of radius eps around x, then into the pixel box [0, 1]."""
    return torch.clamp(torch.min(torch.max(x_adv, x - eps), x + eps), 0.0, 1.0)


def pgd_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    step: float,
    steps: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """PGD-AT's inner maximisation of CE (Madry et al.): uniform random start in the ball, `steps`
    signed-gradient steps of size `step`, each projected."""
    noise = torch.empty(x.shape, dtype=x.dtype).uniform_(-eps, eps, generator=generator).to(x.device)
    x_adv = torch.clamp(x + noise, 0.0, 1.0)
    with eval_mode(model):
        for _ in range(steps):
            x_adv.requires_grad_(True)
            loss = F.cross_entropy(model(x_adv), y)
            (grad,) = torch.autograd.grad(loss, [x_adv])
            x_adv = project(x_adv.detach() + step * grad.sign(), x, eps)
    return x_adv.detach()


def trades_attack(
    model: nn.Module, x: torch.Tensor, eps: float, step: float, steps: int, generator: torch.Generator
) -> torch.Tensor:
    """TRADES' inner maximisation of KL(softmax f(x) || softmax f(x_adv)) from x + 0.001 N(0, I)."""
    noise = torch.randn(x.shape, dtype=x.dtype, generator=generator).to(x.device)
    x_adv = x + 0.001 * noise
    with eval_mode(model):
        with torch.no_grad():
            clean = F.softmax(model(x), dim=1)
        for _ in range(steps):
            x_adv.requires_grad_(True)
            loss = F.kl_div(F.log_softmax(model(x_adv), dim=1), clean, reduction="sum")
            (grad,) = torch.autograd.grad(loss, [x_adv])
            x_adv = project(x_adv.detach() + step * grad.sign(), x, eps)
    return x_adv.detach()


def cw_margin_loss(logits: torch.Tensor, y: torch.Tensor, margin: float = 50.0) -> torch.Tensor:
    """The evaluation scripts' CWLoss: -sum clamp(z_y - max_{j != y} z_j + margin, 0)."""
    true = logits.gather(1, y[:, None]).squeeze(1)
    others = logits.masked_fill(F.one_hot(y, logits.shape[1]).bool(), float("-inf")).amax(dim=1)
    return -torch.clamp(true - others + margin, min=0).sum()


def torchattacks_module():
    try:
        import torchattacks
    except ImportError:
        raise ImportError(
            "s2o evaluation needs torchattacks: pip install --no-deps torchattacks==3.5.1 "
            "(its declared torchvision dependency would replace the pinned torch; it imports none)"
        ) from None
    return torchattacks


def cw_attack(model: nn.Module, eps: float, step: float, steps: int):
    """CW-20: torchattacks' PGD loop on the CW margin loss (torchattacks' own `CW` is the l_2
    optimisation attack, not the l_inf margin PGD that S2O and TRADES report)."""
    torchattacks = torchattacks_module()

    # (torchattacks has no types and is imported lazily: mypy cannot resolve the base class)
    class CWLinf(torchattacks.PGD):  # type: ignore[name-defined]
        def forward(self, images, labels):
            images, labels = images.clone().detach(), labels.clone().detach()
            adv = torch.clamp(images + torch.empty_like(images).uniform_(-self.eps, self.eps), 0, 1)
            for _ in range(self.steps):
                adv.requires_grad_(True)
                (grad,) = torch.autograd.grad(cw_margin_loss(self.get_logits(adv), labels), [adv])
                adv = project(adv.detach() + self.alpha * grad.sign(), images, self.eps)
            return adv

    return CWLinf(model, eps=eps, alpha=step, steps=steps)


def standard_autoattack(model: nn.Module, eps: float, classes: int, seed: int):
    """AutoAttack's standard l_inf set with its released settings, as torchattacks' MultiAttack (each
    attack runs on the images the previous ones left correct): APGD-CE (100 steps, 1 restart), APGD-T
    (DLR-targeted, 100 steps, 1 restart, classes - 1 targets), FAB-T (100 steps, 1 restart,
    classes - 1 targets), Square (5,000 queries, 1 restart, p_init 0.8, no schedule rescaling)."""
    # DEVIATION: torchattacks' ports of the four attacks with the released settings, not the AutoAttack
    # package itself (its agreement with the package on a trained model is unchecked)
    ta = torchattacks_module()
    common = {"norm": "Linf", "eps": eps, "seed": seed}
    return ta.MultiAttack(
        [
            ta.APGD(model, loss="ce", steps=100, n_restarts=1, rho=0.75, eot_iter=1, **common),
            ta.APGDT(model, steps=100, n_restarts=1, rho=0.75, eot_iter=1, n_classes=classes, **common),
            ta.FAB(model, steps=100, n_restarts=1, multi_targeted=True, n_classes=classes, **common),
            ta.Square(model, n_queries=5000, n_restarts=1, p_init=0.8, resc_schedule=False, **common),
        ]
    )


def reduced_autoattack(model: nn.Module, eps: float, classes: int, seed: int):
    """torchattacks 3.5.1's AutoAttack(version="standard"): the same four attacks with 10 APGD / APGD-T /
    FAB steps and Square's rescaled schedule."""
    # DEVIATION: weaker than the standard set; kept as the default for the CPU MNIST experiments
    return torchattacks_module().AutoAttack(
        model, norm="Linf", eps=eps, version="standard", n_classes=classes, seed=seed
    )


def evaluation_attack(
    name: str,
    model: nn.Module,
    eps: float,
    step: float,
    steps: int,
    classes: int,
    seed: int,
    autoattack: str = "reduced",
):
    """A torchattacks attack object: 'pgd', 'cw' or 'autoattack' (the pointwise worst case of APGD-CE,
    APGD-T, FAB-T and Square; `autoattack` picks the standard or the reduced set)."""
    torchattacks = torchattacks_module()
    if name == "pgd":
        return torchattacks.PGD(model, eps=eps, alpha=step, steps=steps, random_start=True)
    if name == "cw":
        return cw_attack(model, eps, step, steps)
    if name == "autoattack":
        build = {"standard": standard_autoattack, "reduced": reduced_autoattack}[autoattack]
        return build(model, eps, classes, seed)
    raise ValueError(f"unknown evaluation attack '{name}' (pgd | cw | autoattack)")


def robust_accuracy(attack, model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    """Accuracy on attack(x) (clean accuracy when attack is None), in eval mode, batch by batch."""
    correct = 0
    with eval_mode(model):
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            if attack is not None:
                xb = attack(xb, yb)
            with torch.no_grad():
                correct += int((model(xb).argmax(1) == yb).sum())
    return correct / len(x)
