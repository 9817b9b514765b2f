"""The S2O code path on CUDA: the same code as on CPU (skipped without CUDA; benchmarks/gpu_suite.sh)."""

import pytest
import torch

from raylab.methods.s2o import core
from raylab.methods.s2o.config import S2OConfig
from raylab.methods.s2o.data import ImageData
from raylab.methods.s2o.experiment import train_cell
from raylab.methods.s2o.train import Cell

pytestmark = pytest.mark.gpu


def test_soft_labels_on_cuda_match_cpu():
    logits = torch.randn(128, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(core.soft_label_matrix(logits.cuda()).cpu(), core.soft_label_matrix(logits))


def test_a_preact_resnet_cell_trains_and_evaluates_on_cuda():
    """One epoch of AT+S2O+SAM with crop/flip on CIFAR-shaped images, then every attack, on the GPU."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(320, 3, 32, 32, generator=g), torch.randint(0, 10, (320,), generator=g)
    data = ImageData(x[:256], y[:256], x[256:], y[256:])
    cfg = S2OConfig(variants=["at_s2o_sam"], replicates=1, device="cuda")
    cfg.model.arch, cfg.data.augment = "preact_resnet18", True
    cfg.train.epochs, cfg.train.eps, cfg.train.attack_step = 1, 8 / 255, 2 / 255
    cfg.eval.points, cfg.eval.curve_points, cfg.eval.eps, cfg.eval.step = 32, 32, 0.031, 0.003
    cfg.eval.eps_grid = [0.0, 0.031]
    result = train_cell(Cell("at_s2o_sam", 0, 1), cfg, data)
    final = result["final"]
    assert final["pgd20_eps0"] == final["clean_points"]
    assert final["aa"] <= final["pgd20"] + 0.005 + 1 / 32  # one point of slack on 32 images
    assert torch.isfinite(torch.tensor(result["curve"][0]["loss"]))
