"""NIfTI I/O: output affines for any orientation, dtype and range kept, clear errors for bad input;
the zero-shot loop end to end on a tiny real crop."""

import gzip

import nibabel as nib
import numpy as np
import pytest
import torch

from raylab.methods.mri_gs import data, nifti
from raylab.methods.mri_gs.config import MriConfig
from raylab.methods.mri_gs.experiment import prepare, super_resolve, thick_axis, write_outputs


def oblique_affine():
    angle = 0.3
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, -1]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag([0.9, 1.1, 5.0])
    affine[:3, 3] = [10, -20, 30]
    return affine


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_upsampled_affine_keeps_the_slab_and_divides_the_zoom(axis):
    affine, f = oblique_affine(), 4
    up = nifti.upsampled_affine(affine, axis, f)
    zooms = nifti.Volume(np.zeros(1), affine, np.dtype("f4"), "").zooms
    want = zooms.copy()
    want[axis] /= f
    assert np.allclose(nifti.Volume(np.zeros(1), up, np.dtype("f4"), "").zooms, want, rtol=1e-12)
    # the mean of output voxels k f .. k f + f - 1 sits at input voxel k: the slices' centres
    for k in range(3):
        idx = np.zeros(4)
        idx[3] = 1
        idx[axis] = k * f + (f - 1) / 2
        src = np.zeros(4)
        src[3], src[axis] = 1, k
        assert np.allclose(up @ idx, affine @ src, atol=1e-12)


def test_save_keeps_integer_dtype_and_range(tmp_path):
    values = np.linspace(-50, 400, 60).reshape(3, 4, 5)
    path = nifti.save(tmp_path / "out.nii.gz", values, oblique_affine(), np.dtype("int16"), (0.0, 300.0))
    back = nib.load(str(path))
    assert back.get_data_dtype() == np.int16
    stored = np.asarray(back.dataobj)
    assert stored.min() == 0 and stored.max() == 300
    assert np.allclose(back.affine, oblique_affine(), atol=1e-5)


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(nifti.NiftiError, match="no such file"):
        nifti.load(tmp_path / "absent.nii.gz")
    text = tmp_path / "notes.nii.gz"
    text.write_bytes(gzip.compress(b"not an image"))
    with pytest.raises(nifti.NiftiError, match="not a readable NIfTI"):
        nifti.load(text)
    series = tmp_path / "series.nii"
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4, 3), np.float32), np.eye(4)), str(series))
    with pytest.raises(nifti.NiftiError, match=r"4-D series of 3 volumes; choose one with --set volume"):
        nifti.load(series)
    assert nifti.load(series, volume=2).data.shape == (4, 4, 4)
    broken = np.zeros((4, 4, 4), np.float32)
    broken[1, 2, 3] = np.nan
    nib.save(nib.Nifti1Image(broken, np.eye(4)), str(tmp_path / "nan.nii"))
    with pytest.raises(nifti.NiftiError, match="1 non-finite"):
        nifti.load(tmp_path / "nan.nii")


def test_scale_too_large_for_the_crop_is_an_error():
    cfg = MriConfig(input="anatomical", scale=16, crop_size=[8, 8, 20])
    with pytest.raises(ValueError, match="fewer than 2 slices"):
        prepare(cfg, cfg.input, torch.device("cpu"))
    with pytest.raises(ValueError, match="scale must be an integer >= 2"):
        MriConfig(scale=1)


def test_thick_axis_is_the_largest_zoom_in_restore_mode():
    cfg = MriConfig(mode="restore")
    assert thick_axis(cfg, np.array([4.0, 4.0, 5.0])) == 2
    assert thick_axis(cfg, np.array([1.0, 6.0, 1.0])) == 1
    assert thick_axis(MriConfig(mode="restore", axis=0), np.array([1.0, 6.0, 1.0])) == 0


def test_restore_writes_a_volume_whose_re_degradation_matches_the_scan(tmp_path):
    """A6 end to end on a crop of the real 4 x 4 x 5 mm dipy scan."""
    cfg = MriConfig(mode="restore", input="aniso_vox", scale=4, crop_size=[12, 12, 8])
    cfg.train.iterations, cfg.baselines.inr = 40, False
    case = prepare(cfg, cfg.input, torch.device("cpu"))
    metrics, volumes, gaussians = super_resolve(case, cfg)
    assert metrics["dc_psnr/ours"] >= 35.0
    write_outputs(case, {"ours": volumes["ours"]}, tmp_path, "sr")
    out = nifti.load(tmp_path / "sr_ours.nii.gz")
    assert out.data.shape == (12, 12, 32)
    assert np.allclose(out.zooms, [4.0, 4.0, 1.25], rtol=1e-5)
    assert out.dtype == np.int16 and out.data.min() >= 0
    source = nifti.load(data.resolve("aniso_vox"))
    assert out.data.max() <= source.data.max()


def test_a_truncated_volume_is_named_with_its_path(tmp_path):
    whole = tmp_path / "whole.nii.gz"
    nib.save(
        nib.Nifti1Image(np.random.default_rng(0).random((16, 16, 16)).astype(np.float32), np.eye(4)), whole
    )
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    with pytest.raises(nifti.NiftiError, match=r"cut\.nii\.gz: its voxel data cannot be read, truncated"):
        nifti.load(cut)
