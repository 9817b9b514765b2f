"""S2O maths against the official code and checks S2O-a..c (milliseconds each)."""

import pytest
import torch
import torch.nn.functional as F

from raylab.methods.s2o import core
from raylab.methods.s2o.claims import s2o_pairs


def official_soft_labels(output: torch.Tensor) -> torch.Tensor:
    """A line-by-line transcription of the official train_S2O.py (CIFAR10_AT_S2O) construction."""
    aa = torch.zeros(output.size()[1], output.size()[1], dtype=output.dtype)
    for xx in output:
        aa += torch.kron(xx, xx.reshape((-1, 1)))
    aa = -1 * torch.abs(aa)
    aa_min, _ = torch.min(aa, 1)
    aa = aa - aa_min.reshape(-1, 1)
    for i in range(len(aa)):
        aa[i, i] = 0.0
    aa = 0.8 * aa / aa.sum(1).reshape(-1, 1)
    for i in range(len(aa)):
        aa[i, i] = 0.2
    return aa


@pytest.fixture
def logits():
    return torch.randn(64, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 3


def test_soft_labels_equal_the_official_construction(logits):
    torch.testing.assert_close(
        core.soft_label_matrix(logits), official_soft_labels(logits), rtol=1e-12, atol=1e-15
    )


def test_soft_label_rows_are_distributions_with_0_2_on_the_true_class(logits):
    targets = core.soft_label_matrix(logits)
    torch.testing.assert_close(targets.sum(1), torch.ones(10, dtype=torch.float64), rtol=0, atol=1e-6)
    assert torch.all(torch.diagonal(targets) == 0.2)
    assert torch.all(targets >= 0)


def test_the_most_correlated_class_gets_the_least_mass(logits):
    """S2O-a: for each k, argmax_{j != k} |A_kj| is argmin_{j != k} B_kj (exactly 0 there)."""
    second_moment = (logits.T @ logits).abs()
    targets = core.soft_label_matrix(logits)
    off = ~torch.eye(10, dtype=torch.bool)
    for k in range(10):
        others = torch.arange(10)[off[k]]
        assert others[second_moment[k, off[k]].argmax()] == others[targets[k, off[k]].argmin()]


def test_permuting_classes_permutes_the_targets(logits):
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(1))
    permuted = core.soft_label_matrix(logits[:, perm])
    torch.testing.assert_close(
        permuted, core.soft_label_matrix(logits)[perm][:, perm], rtol=1e-12, atol=1e-15
    )


def test_targets_carry_no_gradient():
    """S2O-b: the penalty's parameter gradient equals the one with the targets computed separately
    from detached logits."""
    torch.manual_seed(0)
    net = torch.nn.Linear(5, 4).double()
    x, x_adv = torch.randn(16, 5, dtype=torch.float64), torch.randn(16, 5, dtype=torch.float64)
    y = torch.randint(0, 4, (16,))
    grads = torch.autograd.grad(core.s2o_penalty(net(x), net(x_adv), y), list(net.parameters()))

    def detached_kl(z):
        targets = official_soft_labels(z.detach())[y]
        return F.kl_div(F.log_softmax(z, 1), targets, reduction="sum") / len(y)

    expected = torch.autograd.grad(
        0.5 * (detached_kl(net(x)) + detached_kl(net(x_adv))), list(net.parameters())
    )
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)
    assert not core.soft_label_matrix(net(x)).requires_grad


def test_loss_weights_are_the_official_ones():
    z, z_adv = torch.randn(8, 10, dtype=torch.float64), torch.randn(8, 10, dtype=torch.float64)
    y = torch.arange(8) % 10
    term = core.s2o_penalty(z, z_adv, y)
    torch.testing.assert_close(
        core.at_loss(z_adv, y, 0.1, term), 0.9 * F.cross_entropy(z_adv, y) + 0.1 * term
    )
    kl = F.kl_div(F.log_softmax(z_adv, 1), F.softmax(z, 1), reduction="batchmean")
    torch.testing.assert_close(
        core.trades_loss(z, z_adv, y, 6.0, 0.3, term), 0.7 * F.cross_entropy(z, y) + 0.3 * term + 6.0 * kl
    )
    torch.testing.assert_close(
        core.trades_loss(z, z_adv, y, 6.0, 0.3, None), F.cross_entropy(z, y) + 6.0 * kl
    )
    assert float(core.trades_loss(z, z, y, 6.0, 0.3, None)) == pytest.approx(
        float(F.cross_entropy(z, y)), abs=1e-12
    )


def test_mechanism_metrics_on_known_matrices():
    assert core.weight_cosine(torch.eye(3)) == 0.0  # orthogonal class rows
    # two identical rows and one orthogonal: off-diagonal cosines 1, 1 -> Frobenius sqrt(2)
    assert core.weight_cosine(torch.tensor([[1.0, 0], [2.0, 0], [0, 1.0]])) == pytest.approx(2**0.5)
    base = torch.randn(500, 1, dtype=torch.float64)
    assert core.logit_correlation(torch.cat([base, -base], 1)) == pytest.approx(2**0.5)  # corr -1 twice
    assert float(
        core.weight_correlation_penalty(torch.tensor([[1.0, 0], [2.0, 0], [0, 1.0]]))
    ) == pytest.approx(2.0)


def test_s2o_pairs_find_each_baseline_and_its_twin():
    assert s2o_pairs(["at", "at_s2o", "trades_sam", "trades_s2o_sam", "trades"]) == [
        ("at", "at_s2o"),
        ("trades_sam", "trades_s2o_sam"),
    ]
