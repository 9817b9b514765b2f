"""The mri_gs renderer and loop on CUDA: the same code as on CPU (skipped without CUDA)."""

import pytest
import torch

from raylab.methods.mri_gs.config import MriConfig
from raylab.methods.mri_gs.experiment import prepare, super_resolve
from raylab.methods.mri_gs.render import Grid, brick_splat

from .test_render import random_gaussians

pytestmark = pytest.mark.gpu


def test_brick_renderer_on_cuda_equals_cpu_with_gradients():
    g, grid = random_gaussians(), Grid((16, 16, 16))
    outputs = []
    for device in ("cpu", "cuda"):
        means = g.means.to(device).requires_grad_()
        ones = torch.ones(g.count, dtype=torch.float64, device=device)
        num, den = brick_splat(means, g.whitening().to(device), g.tissue[:, 0].to(device), ones, grid, 8)
        (num / (den + 1e-8)).square().sum().backward()
        outputs.append((num.cpu(), den.cpu(), means.grad.cpu()))
    for cpu, cuda in zip(*outputs):
        torch.testing.assert_close(cuda, cpu, atol=1e-9, rtol=1e-9)


def test_simulate_run_on_cuda():
    cfg = MriConfig(
        input="mni152", scale=2, crop_centre=[98, 112, 102], crop_size=[32, 32, 64], device="cuda"
    )
    cfg.baselines.inr_iterations = 200
    metrics, _, _ = super_resolve(prepare(cfg, cfg.input, torch.device("cuda")), cfg)
    assert metrics["psnr/ours"] - metrics["psnr/cubic"] >= 0.3
