"""`mri_gs/*`: zero-shot super-resolution of one NIfTI volume along its thick axis.

simulate: a high-resolution volume is cropped, degraded by the forward model, super-resolved and
scored against itself beside the interpolation and SIREN baselines. restore: the input is the
thick-slice scan; the output is written on the finer grid and checked by re-degrading it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from raylab.context import RunContext
from raylab.devices import pick_device
from raylab.methods.mri_gs import baselines, claims, data, nifti, plots
from raylab.methods.mri_gs.acquisition import degrade, slice_matrix
from raylab.methods.mri_gs.config import MriConfig
from raylab.methods.mri_gs.fit import Problem, fit
from raylab.methods.mri_gs.metrics import psnr, ssim
from raylab.records import ResultRecord
from raylab.seeding import derive_seed


@dataclasses.dataclass
class Case:
    """One volume ready to fit; arrays have the thick axis last."""

    name: str
    lowres: torch.Tensor  # (X, Y, n_lr) in [0, 1]
    truth: torch.Tensor | None  # (X, Y, n_lr * f) in [0, 1] (simulate), None (restore)
    axis: int  # the thick array axis of the input
    affine: np.ndarray  # output grid index -> mm, in the input's array axes
    value_range: tuple[float, float]  # the input's intensity range, for writing it back
    dtype: np.dtype
    input_zooms: np.ndarray  # voxel sizes of the input, mm


def thick_axis(cfg: MriConfig, zooms: np.ndarray) -> int:
    if cfg.axis >= 0:
        return cfg.axis
    if cfg.mode == "simulate":
        return 2
    return int(np.flatnonzero(np.isclose(zooms, zooms.max(), rtol=1e-3))[-1])


def prepare(cfg: MriConfig, source: str, device: torch.device, roots: Sequence[Path] = ()) -> Case:
    """Load, crop and scale the input (a path, or a built-in volume looked up under the data `roots`);
    in simulate mode also degrade it to make the scan (with `cfg.degradation`, a profile other than the
    fitted one)."""
    volume = nifti.load(data.resolve(source, roots), None if cfg.volume < 0 else cfg.volume)
    axis, f = thick_axis(cfg, volume.zooms), cfg.scale
    cropped, start = data.crop(volume.data, cfg.crop_centre, cfg.crop_size)
    unit, value_range = data.unit_range(cropped)
    scaled = torch.tensor(np.moveaxis(unit, axis, -1), dtype=torch.float32, device=device)
    affine = nifti.cropped_affine(volume.affine, start)
    name = Path(source).name
    if cfg.mode == "restore":
        affine = nifti.upsampled_affine(affine, axis, f)
        return Case(name, scaled, None, axis, affine, value_range, volume.dtype, volume.zooms)
    if scaled.shape[2] < 2 * f:
        raise ValueError(f"scale {f} leaves fewer than 2 slices of the {scaled.shape[2]} along axis {axis}")
    truth = scaled[..., : scaled.shape[2] // f * f]
    scan_profile = cfg.degradation or cfg.profile
    lowres = degrade(truth, slice_matrix(truth.shape[2], f, scan_profile, truth.dtype, device))
    return Case(name, lowres, truth, axis, affine, value_range, volume.dtype, volume.zooms)


def interpolations(case: Case, f: int) -> dict[str, np.ndarray]:
    lowres = case.lowres.double().cpu().numpy()
    return {name: baselines.interpolate(lowres, f, order) for name, order in baselines.INTERPOLATIONS.items()}


def scores(case: Case, volumes: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, float]:
    assert case.truth is not None  # scored in simulate mode only
    truth = case.truth.double().cpu().numpy()
    metrics = {}
    for name, volume in volumes.items():
        metrics[f"psnr/{name}"] = psnr(volume, truth)
        metrics[f"psnr_mask/{name}"] = psnr(volume, truth, mask)
        metrics[f"ssim_mask/{name}"] = ssim(volume, truth, mask)
    return metrics


def inr_baseline(case: Case, cfg: MriConfig, fitted: dict, matrix) -> tuple[np.ndarray, dict]:
    """SIREN through the same forward model, until its plateau, its step cap or its time budget (a
    multiple of the Gaussian fit's seconds); with ground truth, the seconds the Gaussians need to reach
    the SIREN's final PSNR."""
    b, gs_seconds = cfg.baselines, fitted["seconds"]
    inr = baselines.fit_inr(
        case.lowres, matrix, Problem(case.lowres, cfg.scale).hr_shape, iterations=b.inr_iterations,
        lr=b.inr_lr, width=b.inr_width, seed=derive_seed(cfg.seed, "inr", case.name), truth=case.truth,
        patience=b.inr_patience, max_seconds=b.inr_time_factor * gs_seconds or float("inf"),
    )  # fmt: skip
    volume = inr["volume"]
    metrics = {
        "time/inr_s": inr["seconds"],
        "time/inr_over_gs_fit": inr["seconds"] / max(gs_seconds, 1e-9),
        "inr/steps": inr["steps"],
        "inr/plateaued": float(inr["stop"] == "plateau"),
        "dc_psnr/inr": psnr(degrade(volume, matrix), case.lowres),
    }
    if case.truth is None:
        return volume.double().cpu().numpy(), metrics
    gs_curve = [(row["seconds"], row["hr_psnr"]) for row in fitted["history"] if "hr_psnr" in row]
    inr_final = inr["curve"][-1][1]
    metrics["inr/final_psnr"] = inr_final
    gs_to_inr = baselines.seconds_to_reach(gs_curve, inr_final)
    if gs_to_inr is not None:
        metrics["time/gs_to_inr_psnr_s"] = gs_to_inr
        metrics["time/inr_over_gs_at_equal_psnr"] = inr["seconds"] / max(gs_to_inr, 1e-9)
    return volume.double().cpu().numpy(), metrics


def super_resolve(case: Case, cfg: MriConfig, report=None) -> tuple[dict, dict[str, np.ndarray], object]:
    """Fit, render, score: (metrics, volumes by method with the thick axis last, the fitted Gaussians)."""
    problem = Problem(case.lowres, cfg.scale)
    fitted = fit(problem, cfg, report, case.truth)
    ours = fitted["volume"]
    matrix = problem.matrix(cfg.profile)
    history = fitted["history"]
    metrics = {
        "time/fit_s": fitted["seconds"],
        "fit/iterations": len(history),
        "fit/gaussians": fitted["gaussians"].count,
        "fit/floats_per_gaussian": fitted["gaussians"].floats_per_gaussian,
        "dc_psnr/ours": psnr(degrade(ours, matrix), case.lowres),
    }
    volumes = {"ours": ours.double().cpu().numpy()} | interpolations(case, cfg.scale)
    if cfg.baselines.inr:
        volumes["inr"], inr_metrics = inr_baseline(case, cfg, fitted, matrix)
        metrics |= inr_metrics
    if case.truth is not None:
        mask = data.brain_mask(case.truth.double().cpu().numpy(), cfg.mask_threshold)
        metrics |= scores(case, volumes, mask) | {"mask/voxels": int(mask.sum())}
    return metrics, volumes, fitted["gaussians"]


def write_outputs(case: Case, volumes: dict[str, np.ndarray], folder: Path, stem: str) -> list[str]:
    """Each volume as NIfTI on the output grid, in the input's axes, dtype and intensity range."""
    low, high = case.value_range
    written = []
    for name, volume in volumes.items():
        restored = np.moveaxis(volume, -1, case.axis) * (high - low) + low
        path = folder / f"{stem}_{name}.nii.gz"
        nifti.save(path, restored, case.affine, case.dtype, case.value_range)
        written.append(path.name)
    return written


def run(cfg: MriConfig, ctx: RunContext) -> ResultRecord:
    device = pick_device(cfg.device)
    case = prepare(cfg, cfg.input, device, ctx.data_roots)
    ctx.expect_steps(cfg.train.iterations)
    metrics, volumes, gaussians = super_resolve(case, cfg, ctx.report)
    if cfg.write_nifti:
        for name in write_outputs(case, volumes, ctx.out_dir, "sr"):
            ctx.artifacts.append(name)
    record_claims = claims.renderer_invariants(gaussians, cfg, case.lowres.shape)
    if case.truth is None:
        written = ctx.out_dir / "sr_ours.nii.gz" if cfg.write_nifti else None
        record_claims += claims.restore_claims(metrics, case, cfg, written)
    else:
        record_claims += claims.simulate_claims(metrics, cfg.scale)
        plots.slices(case, volumes, ctx.artifact("slices.png"))
        ctx.artifact("results.md").write_text(plots.results_table(metrics, cfg))
    ctx.report({k: v for k, v in metrics.items() if k.startswith(("psnr", "ssim", "dc_psnr"))})
    return ctx.result(metrics, record_claims)
