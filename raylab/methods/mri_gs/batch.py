"""`mri_gs/batch`: super-resolve every volume of a folder (or a comma-separated list of files / built-in
names), one fan-out item per volume. On Ray each item runs in its own placement-group bundle of the
experiment's resources (one GPU each on a GPU cluster, CPUs elsewhere; registry `mapper`)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

from raylab.context import RunContext
from raylab.devices import pick_device
from raylab.methods.mri_gs import claims, data
from raylab.methods.mri_gs.config import MriConfig
from raylab.methods.mri_gs.experiment import prepare, super_resolve, write_outputs
from raylab.records import ResultRecord

NIFTI_SUFFIXES = (".nii", ".nii.gz")


def sources(spec: str) -> list[str]:
    """The volumes of a folder (sorted), or the entries of a comma-separated list."""
    if "," not in spec and Path(spec).is_dir():
        found = sorted(str(p) for p in Path(spec).iterdir() if p.name.endswith(NIFTI_SUFFIXES))
        if not found:
            raise ValueError(f"{spec}: no .nii / .nii.gz files in this folder")
        return found
    return [entry.strip() for entry in spec.split(",") if entry.strip()]


def stem(source: str) -> str:
    name = Path(source).name
    for suffix in NIFTI_SUFFIXES[::-1]:
        name = name.removesuffix(suffix)
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def process(source: str, cfg: MriConfig, out_dir: str, roots: tuple[Path, ...]) -> dict:
    """One volume: fit, write `<stem>_ours.nii.gz` (and the baselines) into out_dir, return its metrics."""
    case = prepare(cfg, source, pick_device(cfg.device), roots)
    metrics, volumes, _ = super_resolve(case, cfg)
    if cfg.write_nifti:
        write_outputs(case, volumes, Path(out_dir), stem(source))
    return metrics


def run(cfg: MriConfig, ctx: RunContext) -> ResultRecord:
    items = sources(cfg.input)
    for item in items:
        data.resolve(item, ctx.data_roots)  # a missing built-in fails before any work is placed
    work = functools.partial(process, cfg=cfg, out_dir=str(ctx.out_dir), roots=ctx.data_roots)
    results = ctx.map(work, items, name="mri volumes")
    metrics = {  # wall-clock figures stay in the time/ namespace
        (f"time/{stem(s)}/{key[5:]}" if key.startswith("time/") else f"volume/{stem(s)}/{key}"): value
        for s, r in zip(items, results)
        for key, value in r.items()
    }
    dc = [r["dc_psnr/ours"] for r in results]
    metrics |= {
        "dc_psnr/mean": float(np.mean(dc)),
        "dc_psnr/min": float(np.min(dc)),
        "batch/volumes": len(items),
    }
    ctx.report({key: value for key, value in metrics.items() if key.startswith(("dc_psnr/", "batch/"))})
    return ctx.result(metrics, claims.batch_claims(dc, cfg.mode))
