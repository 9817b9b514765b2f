"""Figures and tables of a simulate run: axial / coronal / sagittal slices and the PSNR / SSIM table."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from raylab.reporting.plots import save_figure  # noqa: E402

ORDER = ("nearest", "trilinear", "cubic", "inr", "ours")


def slices(case, volumes: dict[str, np.ndarray], path: Path) -> Path:
    """Rows: the three orthogonal mid-slices (z = the thick axis); columns: input (nearest), baselines,
    ours, truth, |error|."""
    truth = case.truth.double().cpu().numpy()
    columns = [name for name in ORDER if name in volumes] + ["truth", "|ours - truth|"]
    images = dict(volumes, truth=truth)
    images["|ours - truth|"] = np.abs(volumes["ours"] - truth)
    centre = [n // 2 for n in truth.shape]
    cuts = {
        "in-plane (one z)": lambda v: v[:, :, centre[2]],
        "x-z (z up)": lambda v: v[:, centre[1], :].T,
        "y-z (z up)": lambda v: v[centre[0], :, :].T,
    }
    fig, axes = plt.subplots(3, len(columns), figsize=(2.1 * len(columns), 6.6), squeeze=False)
    for row, (label, cut) in enumerate(cuts.items()):
        for col, name in enumerate(columns):
            scale = {"vmin": 0, "vmax": 0.25} if name.startswith("|") else {"vmin": 0, "vmax": 1}
            axes[row, col].imshow(cut(images[name]), cmap="gray", origin="lower", **scale)
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
            if row == 0:
                axes[row, col].set_title(name, fontsize=9)
        axes[row, 0].set_ylabel(label, fontsize=8)
    return save_figure(fig, path)


def results_table(metrics: dict, cfg) -> str:
    """Markdown: PSNR (crop), PSNR and SSIM on the brain mask per method; fit time and size."""
    rows = [
        f"Scale x{cfg.scale} along the thick axis, {cfg.degradation or cfg.profile} slice profile in, "
        f"{cfg.profile} fitted; PSNR in dB (data range 1).",
        "",
        "| method | PSNR | PSNR (mask) | SSIM (mask) |",
        "|---|---|---|---|",
    ]
    for name in ORDER:
        if f"psnr/{name}" in metrics:
            rows.append(
                f"| {name} | {metrics[f'psnr/{name}']:.2f} | {metrics[f'psnr_mask/{name}']:.2f} "
                f"| {metrics[f'ssim_mask/{name}']:.4f} |"
            )
    rows += [
        "",
        f"Ours: {metrics['fit/gaussians']} Gaussians x {metrics['fit/floats_per_gaussian']} floats, "
        f"{metrics['fit/iterations']} Adam steps in {metrics['time/fit_s']:.1f} s; "
        f"data consistency {metrics['dc_psnr/ours']:.1f} dB.",
    ]
    if "time/inr_s" in metrics:
        reach = metrics.get("time/gs_to_inr_psnr_s")
        ended = "its plateau" if metrics["inr/plateaued"] else "not plateaued"
        rows.append(
            f"SIREN: {metrics['inr/final_psnr']:.2f} dB after {metrics['inr/steps']} steps in "
            f"{metrics['time/inr_s']:.1f} s ({ended}); "
            + (
                f"ours reached that PSNR after {reach:.1f} s."
                if reach is not None
                else "ours never reached it."
            )
        )
    return "\n".join(rows) + "\n"
