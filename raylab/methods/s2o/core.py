"""The S2O losses and mechanism metrics (their formulas are in the README).

Pure torch: no Ray, no files. Logits z = f(x), z_adv = f(x_adv), C classes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_label_matrix(logits: torch.Tensor, keep: float = 0.2) -> torch.Tensor:
    """Row k: the S2O soft label of class k (the official code's construction, `train_S2O.py`).

    A = sum_i z_i z_i^T (C x C); B_kj = max_l |A_kl| - |A_kj| (>= 0) off the diagonal, each row rescaled
    to sum 1 - keep, and `keep` on the diagonal: class k spreads its mass towards the classes whose
    logits are least correlated with its own. Computed without gradient (targets are constants).
    """
    with torch.no_grad():
        second_moment = logits.T @ logits
        spread = second_moment.abs().amax(dim=1, keepdim=True) - second_moment.abs()
        spread.fill_diagonal_(0.0)
        # A row that is all zero (every |A_kj| equal) spreads uniformly instead of dividing by zero.
        totals = spread.sum(dim=1, keepdim=True)
        uniform = torch.ones_like(spread).fill_diagonal_(0.0)
        spread = torch.where(totals > 0, spread, uniform)
        targets = (1.0 - keep) * spread / spread.sum(dim=1, keepdim=True)
        targets.fill_diagonal_(keep)
    return targets


def soft_label_kl(logits: torch.Tensor, labels: torch.Tensor, keep: float = 0.2) -> torch.Tensor:
    """KL(t || softmax z) summed over classes, averaged over the batch, with t = B[y] (Eq. step 3)."""
    targets = soft_label_matrix(logits, keep)[labels]
    return F.kl_div(F.log_softmax(logits, dim=1), targets, reduction="sum") / len(labels)


def s2o_penalty(
    logits: torch.Tensor, logits_adv: torch.Tensor, labels: torch.Tensor, keep: float = 0.2
) -> torch.Tensor:
    """L_S2O = 1/2 [KL(t || softmax z) + KL(t_adv || softmax z_adv)], targets from each batch's own A."""
    return 0.5 * (soft_label_kl(logits, labels, keep) + soft_label_kl(logits_adv, labels, keep))


def weight_correlation_penalty(last_weight: torch.Tensor) -> torch.Tensor:
    """The paper's explicit form: squared Frobenius norm of the off-diagonal cosine matrix of the
    last layer's class-weight rows (section 2.1)."""
    # DEVIATION: [R] the paper estimates the weight correlation by a Laplace approximation (inverse
    # Hessian); we take the row-cosine matrix of the last-layer weights as its plug-in estimate.
    unit = F.normalize(last_weight, dim=1)
    cosine = unit @ unit.T
    return (cosine - torch.diag_embed(torch.diagonal(cosine))).pow(2).sum()


def at_loss(
    logits_adv: torch.Tensor, labels: torch.Tensor, s2o_weight: float, s2o_term: torch.Tensor | None
) -> torch.Tensor:
    """PGD-AT (+S2O): (1 - w) CE(f(x_adv), y) + w L_S2O; w = 0.1 in the official AT+S2O."""
    robust = F.cross_entropy(logits_adv, labels)
    return robust if s2o_term is None else (1.0 - s2o_weight) * robust + s2o_weight * s2o_term


def trades_loss(
    logits: torch.Tensor,
    logits_adv: torch.Tensor,
    labels: torch.Tensor,
    beta: float,
    s2o_weight: float,
    s2o_term: torch.Tensor | None,
) -> torch.Tensor:
    """TRADES (+S2O): (1 - w) CE(f(x), y) + w L_S2O + beta KL(softmax f(x) || softmax f(x_adv)),
    the KL batch-mean; w = 0.3 and beta = 6 in the official TRADES+S2O."""
    natural = F.cross_entropy(logits, labels)
    robust = F.kl_div(F.log_softmax(logits_adv, dim=1), F.softmax(logits, dim=1), reduction="sum")
    robust = robust / len(labels)
    if s2o_term is None:
        return natural + beta * robust
    return (1.0 - s2o_weight) * natural + s2o_weight * s2o_term + beta * robust


def offdiag_frobenius(matrix: torch.Tensor) -> float:
    """Frobenius norm of a square matrix with its diagonal removed."""
    return float((matrix - torch.diag_embed(torch.diagonal(matrix))).norm())


def logit_correlation(logits: torch.Tensor) -> float:
    """Mechanism metric (i): ||offdiag corrcoef(test logits)||_F over the C classes."""
    return offdiag_frobenius(torch.corrcoef(logits.double().T))


def weight_cosine(last_weight: torch.Tensor) -> float:
    """Mechanism metric (ii): ||offdiag cos(last-layer class rows)||_F."""
    unit = F.normalize(last_weight.double(), dim=1)
    return offdiag_frobenius(unit @ unit.T)
