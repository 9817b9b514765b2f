"""PSNR (data range 1) and SSIM on a mask, for volumes scaled to [0, 1]."""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage


def psnr(estimate, truth, mask=None) -> float:
    """10 log10(1 / MSE) over the mask (all voxels without one)."""
    estimate, truth = _numpy(estimate), _numpy(truth)
    diff = (estimate - truth)[mask] if mask is not None else estimate - truth
    mse = float(np.mean(diff**2))
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


def ssim(estimate, truth, mask=None, sigma: float = 1.5) -> float:
    """Mean structural similarity (Wang et al. 2004; Gaussian window sigma 1.5 voxels, K1 0.01, K2 0.03,
    data range 1) over the mask."""
    x, y = _numpy(estimate), _numpy(truth)
    c1, c2 = 0.01**2, 0.03**2

    def blur(v):
        return ndimage.gaussian_filter(v, sigma, truncate=3.5)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    index = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(index[mask].mean() if mask is not None else index.mean())


def _numpy(volume) -> np.ndarray:
    return volume.detach().cpu().double().numpy() if isinstance(volume, torch.Tensor) else np.asarray(volume)
