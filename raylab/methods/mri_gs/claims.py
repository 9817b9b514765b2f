"""The mri_gs acceptance checks A1-A6, evaluated on each run's own data.

Renderer properties hold by construction (exact sums over the same compact supports): they are
recorded as invariants, on the run's fitted Gaussians over a sub-grid, in float64. The quality
margins are claims: thresholds set with ~50 % margin below what a calibration run measured on a
32x32x64 MNI152 crop (README, Claims and Measured).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from raylab.methods.mri_gs import nifti
from raylab.methods.mri_gs.fit import signals
from raylab.methods.mri_gs.render import Grid, brick_splat, dense_splat, normalized
from raylab.records import INVARIANT, Claim, ClaimRow, claim_table, judge_table

# scale -> (dB over trilinear, dB over cubic B-spline) the output must reach (README, Claims)
MARGINS = {2: (2.0, 0.3), 4: (1.0, 0.2)}
DATA_CONSISTENCY_DB = 40.0  # simulate: re-degraded output vs the scan
RESTORE_CONSISTENCY_DB = 35.0  # restore (real thick-slice scan, no ground truth)
EXACT = 1e-6  # float64 sums of the same terms in another order or grouping
PARTITION_TOL = 1e-5  # I = c wherever sum G > 1e-3 (|I - c| <= c eps / 1e-3 = 7e-6 at eps 1e-8)
MAX_FLOATS = 14  # per Gaussian (3DGS: 59)

C = ClaimRow

# fmt: off
RESTORE = claim_table(
    C("A6.consistency", "dc_psnr/ours", ">=", RESTORE_CONSISTENCY_DB,
      f"re-degraded output vs the input scan >= {RESTORE_CONSISTENCY_DB} dB"),
)
# fmt: on


def _probe_grid(shape, size: int = 12) -> Grid:
    """A `size`^3 block at the centre of the output grid (the dense reference is O(N x voxels))."""
    start = [max(0, n // 2 - size // 2) for n in shape]
    return Grid(tuple(min(size, n) for n in shape), tuple(float(s) for s in start))


def renderer_table(scaling_bound: float) -> tuple[ClaimRow, ...]:
    """A1-A3; `scaling_bound`: the largest change of the image that float rounding allows when every
    weight is scaled by 3."""
    # fmt: off
    return claim_table(
        C("A1.brick_equals_dense", "brick_vs_dense", "<=", EXACT,
          "brick rasterizer = dense reference (float64, probe block)", kind=INVARIANT),
        C("A1.no_seams", "brick_sizes", "<=", EXACT,
          "brick sizes 4 / 8 / 16 give the same volume", kind=INVARIANT),
        C("A1.order_independent", "order", "<=", EXACT,
          "a permutation of the Gaussians changes nothing", kind=INVARIANT),
        C("A2.partition_of_unity", "unity", "<=", PARTITION_TOL,
          "constant tissue 0.7 renders 0.7 where sum G > 1e-3", kind=INVARIANT),
        C("A2.weight_scaling", "weight_scaling", "<=", scaling_bound,
          "scaling every weight by 3 leaves the image unchanged", kind=INVARIANT),
        C("A3.floats", "floats", "<=", MAX_FLOATS,
          "learnable floats per Gaussian (3DGS: 59)", kind=INVARIANT),
    )
    # fmt: on


def simulate_table(scale: int) -> tuple[ClaimRow, ...]:
    """A5 at `scale`, with that scale's PSNR margins."""
    over_trilinear, over_cubic = MARGINS.get(scale, (0.0, 0.0))
    # fmt: off
    return claim_table(
        C(f"A5.vs_trilinear@x{scale}", "psnr_over_trilinear", ">=", over_trilinear,
          f"PSNR on the brain mask - trilinear's >= {over_trilinear} dB"),
        C(f"A5.vs_cubic@x{scale}", "psnr_over_cubic", ">=", over_cubic,
          f"PSNR on the brain mask - cubic B-spline's >= {over_cubic} dB"),
        C(f"A5.ssim_vs_cubic@x{scale}", "ssim_over_cubic", ">=", 0.0,
          "SSIM on the brain mask - cubic's >= 0"),
        C("A5.data_consistency", "dc_psnr/ours", ">=", DATA_CONSISTENCY_DB,
          f"re-degraded output vs the scan >= {DATA_CONSISTENCY_DB} dB"),
    )
    # fmt: on


def zooms_table(wanted: np.ndarray, source: np.ndarray, axis: int, scale: int) -> tuple[ClaimRow, ...]:
    """A6: the written NIfTI's zooms are the input's with the thick `axis` divided by `scale`."""
    # fmt: off
    return claim_table(
        C("A6.zooms", "zoom_error", "<=", 1e-5,
          f"output zooms {np.round(wanted, 4).tolist()} = the input's {np.round(source, 4).tolist()} "
          f"with axis {axis} / {scale}", kind=INVARIANT),
    )
    # fmt: on


def batch_table(bound: float) -> tuple[ClaimRow, ...]:
    """Every volume of a batch re-degrades to its scan within `bound` dB."""
    # fmt: off
    return claim_table(
        C("batch.consistency", "dc_psnr", ">=", bound,
          f"every volume's re-degraded output vs its scan >= {bound} dB"),
    )
    # fmt: on


def renderer_invariants(gaussians, cfg, lowres_shape) -> list[Claim]:
    """A1 (brick = dense, brick sizes, order), A2 (partition of unity, weight scaling), A3 (floats)."""
    hr_shape = (lowres_shape[0], lowres_shape[1], lowres_shape[2] * cfg.scale)
    grid, r = _probe_grid(hr_shape), cfg.render
    with torch.no_grad():
        means = gaussians.means.double().cpu()
        whiten = gaussians.whitening().double().cpu()
        values = signals(gaussians, cfg).double().cpu()
        ones = torch.ones_like(values)

        def brick(
            order=slice(None), brick_size=r.brick, weights=ones, vals=values
        ) -> tuple[torch.Tensor, torch.Tensor]:
            num, den = brick_splat(
                means[order], whiten[order], vals[order], weights[order], grid, brick_size, r.cutoff
            )
            return num, den

        num, den = brick()
        ref_num, ref_den = dense_splat(means, whiten, values, ones, grid, r.cutoff)
        image = normalized(num, den, r.eps)
        vs_dense = max((num - ref_num).abs().max().item(), (den - ref_den).abs().max().item())
        sizes = max((normalized(*brick(brick_size=b), r.eps) - image).abs().max().item() for b in (4, 8, 16))
        shuffled = torch.randperm(len(means), generator=torch.Generator().manual_seed(0))
        order = (normalized(*brick(order=shuffled), r.eps) - image).abs().max().item()
        constant = normalized(*brick(vals=torch.full_like(values, 0.7)), r.eps)
        support = den > 1e-3
        unity = (constant - 0.7)[support].abs().max().item() if support.any() else float("inf")
        scaled = (normalized(*brick(weights=ones * 3.0), r.eps) - image)[support].abs().max().item()
    found = {
        "brick_vs_dense": vs_dense,
        "brick_sizes": sizes,
        "order": order,
        "unity": unity,
        "weight_scaling": scaled,
        "floats": gaussians.floats_per_gaussian,
    }
    # |I_1 - I_3| = |num| eps 2 / ((den + eps)(3 den + eps)) <= max|s| (2/3) eps / den
    scaling_bound = values.abs().max().item() * (2 / 3) * r.eps / 1e-3
    return judge_table(renderer_table(scaling_bound), found)


def simulate_claims(metrics: dict, scale: int) -> list[Claim]:
    """A5: PSNR and SSIM margins on the brain mask over trilinear and cubic B-spline (the whole-crop
    PSNR, background included, stays a metric), data consistency."""
    ours = metrics["psnr_mask/ours"]
    found = {
        "psnr_over_trilinear": ours - metrics["psnr_mask/trilinear"],
        "psnr_over_cubic": ours - metrics["psnr_mask/cubic"],
        "ssim_over_cubic": metrics["ssim_mask/ours"] - metrics["ssim_mask/cubic"],
        "dc_psnr/ours": metrics["dc_psnr/ours"],
    }
    return judge_table(simulate_table(scale), found)


def restore_claims(metrics: dict, case, cfg, written: Path | None) -> list[Claim]:
    """A6: the written NIfTI's zooms are the requested ones; re-degrading it gives back the scan."""
    found = judge_table(RESTORE, {"dc_psnr/ours": metrics["dc_psnr/ours"]})
    if written is not None:
        zooms = nifti.load(written).zooms
        source = case.input_zooms
        wanted = source.copy()
        wanted[case.axis] /= cfg.scale
        error = float(np.abs(zooms - wanted).max() / wanted.min())
        found += judge_table(zooms_table(wanted, source, case.axis, cfg.scale), {"zoom_error": error})
    return found


def batch_claims(dc_psnr: list[float], mode: str) -> list[Claim]:
    """Every volume's re-degraded output vs its scan (the worst volume) meets the mode's bound."""
    bound = RESTORE_CONSISTENCY_DB if mode == "restore" else DATA_CONSISTENCY_DB
    return judge_table(batch_table(bound), {"dc_psnr": dc_psnr})
