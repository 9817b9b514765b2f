"""Checks A1-A4: the brick rasterizer against the dense reference (every Gaussian x every voxel),
brick-size and order independence, gradients, partition of unity, the signal model, parameter count."""

import math

import pytest
import torch

from raylab.methods.mri_gs.gaussians import Gaussians, init_from_lowres, quaternion_matrix, signal
from raylab.methods.mri_gs.render import Grid, brick_splat, dense_splat, kernel, normalized

F64 = torch.float64


def random_gaussians(n=200, extent=16, rotated=True, seed=0):
    gen = torch.Generator().manual_seed(seed)
    means = torch.rand(n, 3, generator=gen, dtype=F64) * (extent + 4) - 2  # some straddle the border
    log_scales = torch.rand(n, 3, generator=gen, dtype=F64) * 1.5 - 0.7
    quats = torch.randn(n, 4, generator=gen, dtype=F64) if rotated else None
    tissue = torch.randn(n, 1, generator=gen, dtype=F64)
    return Gaussians(means, log_scales, quats, tissue)


@pytest.mark.parametrize("rotated", [True, False])
def test_brick_renderer_equals_dense_for_every_brick_size(rotated):
    g, grid = random_gaussians(rotated=rotated), Grid((16, 16, 16))
    weights = torch.rand(g.count, generator=torch.Generator().manual_seed(1), dtype=F64) + 0.5
    ref = dense_splat(g.means, g.whitening(), g.tissue[:, 0], weights, grid)
    assert ref[1].max() > 1  # Gaussians overlap: the sums are not trivial
    for brick in (4, 8, 16, 5):  # 5 does not divide 16: padded bricks
        out = brick_splat(g.means, g.whitening(), g.tissue[:, 0], weights, grid, brick=brick)
        for got, want in zip(out, ref):
            assert torch.allclose(got, want, atol=1e-6, rtol=0)


def test_gaussian_order_does_not_matter():
    g, grid = random_gaussians(), Grid((16, 16, 16))
    ones = torch.ones(g.count, dtype=F64)
    image = normalized(*brick_splat(g.means, g.whitening(), g.tissue[:, 0], ones, grid, 8), 1e-8)
    perm = torch.randperm(g.count, generator=torch.Generator().manual_seed(2))
    shuffled = normalized(
        *brick_splat(g.means[perm], g.whitening()[perm], g.tissue[perm, 0], ones, grid, 8), 1e-8
    )
    assert torch.allclose(image, shuffled, atol=1e-6, rtol=0)


def test_kernel_is_continuous_and_compact():
    cutoff = 3.0
    d2 = torch.tensor([0.0, cutoff**2 - 1e-9, cutoff**2, cutoff**2 + 1.0], dtype=F64)
    values = kernel(d2, cutoff)
    assert values[0] == pytest.approx(1 - math.exp(-4.5))
    assert values[1] == pytest.approx(0.0, abs=1e-9) and values[2] == 0 and values[3] == 0


def test_gradcheck_through_means_scales_rotation_values_and_weights():
    gen = torch.Generator().manual_seed(3)
    n, grid = 6, Grid((6, 7, 8))
    means = (torch.rand(n, 3, generator=gen, dtype=F64) * 7).requires_grad_()
    log_scales = (torch.rand(n, 3, generator=gen, dtype=F64) * 0.5).requires_grad_()
    quats = torch.randn(n, 4, generator=gen, dtype=F64).requires_grad_()
    values = torch.randn(n, generator=gen, dtype=F64).requires_grad_()
    weights = (torch.rand(n, generator=gen, dtype=F64) + 0.5).requires_grad_()

    def image(means, log_scales, quats, values, weights):
        whiten = quaternion_matrix(quats) * torch.exp(-log_scales)[:, None, :]
        return normalized(*brick_splat(means, whiten, values, weights, grid, brick=4), 1e-6)

    assert torch.autograd.gradcheck(image, (means, log_scales, quats, values, weights))

    def axis_aligned(means, log_scales, values, weights):  # the diagonal whitening path
        return normalized(*brick_splat(means, torch.exp(-log_scales), values, weights, grid, brick=4), 1e-6)

    assert torch.autograd.gradcheck(axis_aligned, (means, log_scales, values, weights))


def test_partition_of_unity_and_weight_scaling():
    g, grid = random_gaussians(seed=4), Grid((16, 16, 16))
    ones = torch.ones(g.count, dtype=F64)
    constant = torch.full((g.count,), 0.7, dtype=F64)
    num, den = brick_splat(g.means, g.whitening(), constant, ones, grid, 8)
    support = den > 1e-3
    assert support.float().mean() > 0.5
    # |I - c| = c eps / (den + eps) <= 0.7 * 1e-8 / 1e-3 where den > 1e-3
    assert (normalized(num, den, 1e-8) - 0.7)[support].abs().max() <= 1e-5
    image = normalized(*brick_splat(g.means, g.whitening(), g.tissue[:, 0], ones, grid, 8), 1e-8)
    scaled = normalized(*brick_splat(g.means, g.whitening(), g.tissue[:, 0], 5 * ones, grid, 8), 1e-8)
    # |I_1 - I_5| = |num| eps 4 / ((den + eps)(5 den + eps)) <= max|s| (4/5) eps / den
    assert (scaled - image)[support].abs().max() <= g.tissue.abs().max() * 0.8 * 1e-8 / 1e-3


def test_spin_echo_contrast_at_tiny_gaussian_centres():
    """A4: tiny Gaussians on voxel centres render PD (1 - e^-TR/T1) e^-TE/T2 of their own tissue."""
    gen = torch.Generator().manual_seed(5)
    idx = torch.stack(torch.meshgrid(*[torch.arange(4, dtype=F64)] * 3, indexing="ij"), -1).reshape(-1, 3)
    pd, t1, t2 = (
        torch.rand(64, generator=gen) + 0.2,
        300 + 2000 * torch.rand(64, generator=gen),
        30 + 100 * torch.rand(64, generator=gen),
    )
    raw = torch.stack([pd, t1, t2], 1).double()
    raw = raw + torch.log(-torch.expm1(-raw))  # inverse softplus
    g = Gaussians(idx, torch.full((64, 3), math.log(0.2), dtype=F64), None, raw)
    tr, te = 500.0, 15.0
    values = signal(g.tissue, "spin_echo", tr, te)
    image = normalized(
        *brick_splat(g.means, g.whitening(), values, torch.ones(64, dtype=F64), Grid((4, 4, 4)), 4), 1e-12
    )
    analytic = (pd * (1 - torch.exp(-tr / t1)) * torch.exp(-te / t2)).double().reshape(4, 4, 4)
    assert torch.allclose(image, analytic, atol=1e-4, rtol=0)


def test_at_most_fourteen_floats_per_gaussian():
    lowres = torch.rand(4, 4, 3, dtype=F64)
    assert init_from_lowres(lowres, 2).floats_per_gaussian == 7  # axis-aligned intensity
    full = init_from_lowres(lowres, 2, rotations=True, signal_model="spin_echo")
    assert full.floats_per_gaussian == 13 <= 14  # 3 + 3 + 4 + 3; 3DGS: 59
    assert full.count == 4 * 4 * 3
