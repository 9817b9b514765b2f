"""Input volumes: a NIfTI path, or a named real volume that ships in a wheel or in the repository's
data/mri, cropped and scaled to [0, 1]; the brain mask the metrics use."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from raylab import DataMissing


def _wheel_file(package: str, *parts: str) -> Path:
    module = __import__(package)
    assert module.__file__ is not None  # a regular package (nilearn, dipy), not a namespace one
    return Path(module.__file__).parent.joinpath(*parts)


# name -> (how to find it, what it is)
BUILTIN = {
    "mni152": (
        lambda roots: _wheel_file(
            "nilearn", "datasets", "data", "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
        ),
        "MNI ICBM152 2009a T1 template, 1 mm (nilearn wheel; (c) McConnell Brain Imaging Centre)",
    ),
    "colin27": (
        lambda roots: _data_file("ch2bet.nii.gz", roots),
        "Colin27 single-subject T1, brain-extracted, 1 mm (data/mri/ch2bet.nii.gz)",
    ),
    "aniso_vox": (
        lambda roots: _wheel_file("dipy", "data", "files", "aniso_vox.nii.gz"),
        "real 4 x 4 x 5 mm volume (dipy wheel): a genuinely thick-slice input, no ground truth",
    ),
    "anatomical": (
        lambda roots: _wheel_file("nibabel", "tests", "data", "anatomical.nii"),
        "real 2 mm T1 (nibabel wheel), 33 x 41 x 25",
    ),
    "anat_moved": (
        lambda roots: _wheel_file("nibabel", "tests", "data", "reoriented_anat_moved.nii"),
        "real 4 mm T1, reoriented (nibabel wheel), 21 x 26 x 22",
    ),
}


def _data_file(name: str, roots: Sequence[Path]) -> Path:
    candidates = [Path(root) / "mri" / name for root in roots]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise DataMissing(
        f"'{name}' not found (looked in: {', '.join(str(c) for c in candidates)}); "
        f"put it in $RAYLAB_DATA/mri or pass --set input=<path to a NIfTI file>"
    )


def resolve(name: str, roots: Sequence[Path] = ()) -> Path:
    """A built-in volume's file (those outside a wheel are looked up under `<root>/mri` for each data
    root, the RunContext's `data_roots`), or `name` as a path."""
    if name in BUILTIN:
        path = BUILTIN[name][0](roots)
        if not path.exists():
            raise DataMissing(
                f"built-in volume '{name}' expected at {path} is missing: reinstall its package"
            )
        return path
    return Path(name)


def crop(data: np.ndarray, centre: list[int], size: list[int]) -> tuple[np.ndarray, tuple[int, ...]]:
    """The `size` box around `centre` (voxel indices), clipped into the volume; (crop, start index).
    An empty `size` keeps the whole volume."""
    if not size:
        return data, (0, 0, 0)
    start = []
    for n, c, s in zip(data.shape, centre or [n // 2 for n in data.shape], size):
        if s > n:
            raise ValueError(f"crop size {size} does not fit in the volume {data.shape}")
        start.append(int(min(max(c - s // 2, 0), n - s)))
    box = tuple(slice(a, a + s) for a, s in zip(start, size))
    return data[box], tuple(start)


def unit_range(data: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Values scaled to [0, 1] by the volume's min and max (PSNR uses data range 1); the range."""
    low, high = float(data.min()), float(data.max())
    if high <= low:
        raise ValueError("the volume is constant: nothing to super-resolve")
    return (data - low) / (high - low), (low, high)


def brain_mask(volume: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """Voxels of the [0, 1] ground truth above `threshold` (the templates ship no mask).
    # DEVIATION: [R] an intensity threshold, not a segmentation."""
    return volume > threshold
