"""The zero-shot loop's pieces: densify/prune bookkeeping, early stopping on data consistency only."""

import math

import torch

from raylab.methods.mri_gs.config import MriConfig
from raylab.methods.mri_gs.fit import Problem, densify, fit, initial_gaussians


def test_densify_splits_the_largest_gradients_and_prunes_collapsed_gaussians():
    cfg = MriConfig()
    cfg.train.densify_fraction, cfg.train.prune_scale = 0.25, 0.05
    g = initial_gaussians(Problem(torch.rand(2, 2, 2, dtype=torch.float64), 2), cfg)  # 8 Gaussians
    with torch.no_grad():
        g.log_scales[0] = math.log(0.01)  # collapsed: pruned
    grad = torch.tensor([9.0, 0, 5, 0, 0, 7, 0, 0], dtype=torch.float64)  # 2 largest alive: 5 and 2
    out = densify(g, grad, cfg)
    assert out.count == 8 - 1 - 2 + 4
    assert all(t.is_leaf and t.requires_grad for t in out.fields().values())
    # children of 2 and 5 (in index order), half a standard deviation either side along the longest axis
    shift = torch.zeros(2, 3, dtype=torch.float64)
    shift[:, 2] = 0.5 * torch.exp(g.log_scales[[2, 5], 2]).detach()  # the thick axis is the longest
    parents = g.means[[2, 5]].detach()
    assert torch.allclose(out.means[-4:].detach(), torch.cat([parents + shift, parents - shift]))
    assert torch.allclose(out.log_scales[-1], g.log_scales[2] - math.log(1.6))


def test_fit_stops_on_data_consistency_and_densify_keeps_fitting():
    gen = torch.Generator().manual_seed(0)
    lowres = torch.rand(8, 8, 4, generator=gen)
    cfg = MriConfig(scale=2)
    cfg.train.iterations, cfg.train.stop_db = 200, 35.0
    result = fit(Problem(lowres, 2), cfg)
    assert result["history"][-1]["dc_psnr"] >= 35.0 and len(result["history"]) < 200
    cfg.train.stop_db, cfg.train.iterations, cfg.train.densify_every = 99.0, 30, 10
    grown = fit(Problem(lowres, 2), cfg)
    counts = [row["gaussians"] for row in grown["history"]]
    assert counts[0] == 8 * 8 * 4 < counts[-1]
    assert grown["history"][-1]["dc_psnr"] > grown["history"][0]["dc_psnr"]
