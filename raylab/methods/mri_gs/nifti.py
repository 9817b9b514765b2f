"""NIfTI in and out (nibabel): any orientation, the output affine and zooms for the new resolution,
intensities written back in the input's dtype and range where it is an integer type.

Everything works in array axes: the thick axis is an array axis, and the output grid's index space
maps to the input's by idx_in = (idx_out - (f-1)/2) / f along it, so the output affine is
A_out = A_in T for any orientation (flips, obliques) of A_in.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import nibabel as nib
import numpy as np

from raylab import RaylabError


class NiftiError(RaylabError):
    """An input volume that raylab cannot super-resolve; the message names the file and the problem."""


@dataclasses.dataclass
class Volume:
    data: np.ndarray  # (X, Y, Z) float64, the stored values (scl_slope / inter applied)
    affine: np.ndarray  # (4, 4) voxel index -> scanner mm
    dtype: np.dtype  # on-disk dtype, used for the output
    path: str

    @property
    def zooms(self) -> np.ndarray:
        return np.sqrt((self.affine[:3, :3] ** 2).sum(0))


def load(path: str | Path, volume: int | None = None) -> Volume:
    """Read a 3-D volume (or volume `volume` of a 4-D series) with clear errors for everything else."""
    path = Path(path)
    if not path.exists():
        raise NiftiError(f"{path}: no such file")
    try:
        image = nib.load(str(path))
    except Exception as exc:  # nibabel raises ImageFileError, OSError, EOFError, gzip errors ...
        raise NiftiError(f"{path}: not a readable NIfTI file ({type(exc).__name__}: {exc})") from None
    if not isinstance(image, (nib.Nifti1Image, nib.Nifti2Image)):
        raise NiftiError(f"{path}: a {type(image).__name__}, not a NIfTI image")
    shape = image.shape
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) == 4:
        if volume is None:
            raise NiftiError(
                f"{path}: a 4-D series of {shape[3]} volumes; "
                f"choose one with --set volume=<0..{shape[3] - 1}>"
            )
        if not 0 <= volume < shape[3]:
            raise NiftiError(f"{path}: volume {volume} out of range (the series has {shape[3]} volumes)")
    elif len(shape) != 3:
        raise NiftiError(f"{path}: shape {image.shape}; a 3-D volume (or 4-D with --set volume) is needed")
    try:  # nibabel reads the voxels lazily: a truncated or corrupt file fails here, not in nib.load
        if len(shape) == 4:
            data = np.asarray(image.dataobj[..., volume], dtype=np.float64)
        else:
            data = np.asarray(image.dataobj, dtype=np.float64).reshape(shape)
    except Exception as exc:  # EOFError, zlib.error, OSError, ValueError (too few bytes) ...
        raise NiftiError(f"{path}: its voxel data cannot be read, truncated or corrupt ({exc})") from None
    bad = int((~np.isfinite(data)).sum())
    if bad:
        raise NiftiError(f"{path}: {bad} non-finite voxel value(s) (NaN or inf)")
    return Volume(data, image.affine.astype(np.float64), image.get_data_dtype(), str(path))


def upsampled_affine(affine: np.ndarray, axis: int, factor: int) -> np.ndarray:
    """The affine of the output grid with `factor` times as many voxels along array axis `axis`,
    covering the same slab: output voxel j sits at input index (j - (f-1)/2) / f."""
    to_input = np.eye(4)
    to_input[axis, axis] = 1.0 / factor
    to_input[axis, 3] = -(factor - 1) / (2.0 * factor)
    return affine @ to_input


def cropped_affine(affine: np.ndarray, start: tuple[int, ...]) -> np.ndarray:
    shift = np.eye(4)
    shift[:3, 3] = start
    return affine @ shift


def save(path: str | Path, data: np.ndarray, affine: np.ndarray, dtype: np.dtype, value_range=None) -> Path:
    """Write `data` with `affine`. For an integer on-disk dtype the values are rounded and clipped to
    `value_range` (the input's) and stored in that dtype; otherwise float32."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        low, high = value_range if value_range is not None else (np.iinfo(dtype).min, np.iinfo(dtype).max)
        data = np.clip(np.rint(data), low, high).astype(dtype)
    else:
        data = data.astype(np.float32)
    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    path = Path(path)
    tmp = path.with_name(f".part-{path.name}")  # same extension: nibabel picks gzip by name
    nib.save(image, str(tmp))
    tmp.replace(path)
    return path
