"""Forward model: slice matrices, slice-centre-aware interpolation, the Gaussian-profile shortcut."""

import numpy as np
import pytest
import torch

from raylab.methods.mri_gs.acquisition import degrade, slice_matrix, widen_for_profile
from raylab.methods.mri_gs.baselines import interpolate
from raylab.methods.mri_gs.gaussians import Gaussians
from raylab.methods.mri_gs.render import Grid, brick_splat

F64 = torch.float64


@pytest.mark.parametrize("profile", ["box", "gaussian"])
def test_slice_rows_sum_to_one_and_box_is_the_slab_mean(profile):
    matrix = slice_matrix(12, 4, profile)
    assert matrix.shape == (3, 12)
    assert torch.allclose(matrix.sum(1), torch.ones(3, dtype=F64), atol=1e-12)
    volume = torch.arange(24, dtype=F64).reshape(1, 2, 12)
    if profile == "box":
        assert torch.equal(degrade(volume, matrix)[0, 0], torch.tensor([1.5, 5.5, 9.5], dtype=F64))


def test_too_few_voxels_for_one_slice_is_an_error():
    with pytest.raises(ValueError, match="fewer than one slice"):
        slice_matrix(3, 4)


@pytest.mark.parametrize("order", [0, 1, 3])
def test_interpolation_puts_slices_at_their_centres(order):
    """Output voxel j samples the scan at (j - (f-1)/2)/f: a z-linear volume's box slices, linearly
    interpolated, give the linear volume back away from the ends; a constant stays constant."""
    f, z = 4, np.arange(32, dtype=float)
    volume = np.broadcast_to(z, (2, 3, 32))
    lowres = degrade(torch.tensor(volume), slice_matrix(32, f)).numpy()
    up = interpolate(lowres, f, order)
    if order == 1:
        assert np.allclose(up[..., 2:-2], volume[..., 2:-2], atol=1e-9)
    assert np.allclose(interpolate(np.full((2, 2, 5), 3.0), f, order), 3.0)


def test_widened_gaussians_give_the_profile_weighted_sums():
    """Gaussian * Gaussian profile = the widened Gaussian (Riemann sums of Gaussians with sigma >= 1
    voxel match the integral to ~1e-9, Poisson summation); checked away from the ends."""
    gen = torch.Generator().manual_seed(0)
    n, f = 40, 4
    means = torch.rand(n, 3, generator=gen, dtype=F64) * torch.tensor([10, 10, 40.0]) + torch.tensor(
        [0, 0, 12.0]
    )
    log_scales = torch.rand(n, 3, generator=gen, dtype=F64) * 0.8 + 0.2  # sigma >= 1.2 voxels
    quats, tissue = torch.randn(n, 4, generator=gen, dtype=F64), torch.randn(n, 1, generator=gen, dtype=F64)
    g = Gaussians(means, log_scales, quats, tissue)
    values, ones = g.tissue[:, 0], torch.ones(n, dtype=F64)
    num, den = brick_splat(g.means, g.whitening(), values, ones, Grid((10, 10, 64)), 8, cutoff=8.0)
    matrix = slice_matrix(64, f, "gaussian")
    whiten, amplitude = widen_for_profile(g.covariances(), f)
    lr_grid = Grid((10, 10, 16), (0.0, 0.0, (f - 1) / 2), (1.0, 1.0, float(f)))
    num_lr, den_lr = brick_splat(g.means, whiten, values, amplitude, lr_grid, 8, cutoff=8.0)
    interior = slice(3, 13)
    assert torch.allclose(degrade(num, matrix)[..., interior], num_lr[..., interior], atol=1e-7, rtol=0)
    assert torch.allclose(degrade(den, matrix)[..., interior], den_lr[..., interior], atol=1e-7, rtol=0)
