"""The mri_gs claims fail on runs where they are false; the renderer invariants hold on a fitted model
and fail on a broken renderer."""

import numpy as np
import torch

from raylab.methods.mri_gs import claims, nifti
from raylab.methods.mri_gs.config import MriConfig
from raylab.methods.mri_gs.experiment import Case
from raylab.methods.mri_gs.fit import Problem, fit


def scores(ours: float, ssim_ours: float = 0.95, dc: float = 55.0, whole_crop: float = 0.0) -> dict:
    """Mask PSNRs with ours at `ours`; the whole-crop PSNRs differ from them by `whole_crop` dB for ours."""
    mask = {"ours": ours, "trilinear": 30.0, "cubic": 32.0}
    return (
        {f"psnr_mask/{k}": v for k, v in mask.items()}
        | {f"psnr/{k}": v + (whole_crop if k == "ours" else 0.0) for k, v in mask.items()}
        | {"ssim_mask/ours": ssim_ours, "ssim_mask/cubic": 0.94, "dc_psnr/ours": dc}
    )


def verdicts(found) -> dict:
    return {c.id.split("@")[0]: c.passed for c in found}


def test_simulate_claims_pass_on_a_good_run_and_fail_where_it_is_bad():
    assert all(verdicts(claims.simulate_claims(scores(33.0), 2)).values())
    assert verdicts(claims.simulate_claims(scores(32.1), 2))["A5.vs_cubic"] is False  # +0.1 < 0.3 dB
    assert verdicts(claims.simulate_claims(scores(31.5), 2))["A5.vs_trilinear"] is False  # +1.5 < 2.0 dB
    assert verdicts(claims.simulate_claims(scores(33.0, ssim_ours=0.93), 2))["A5.ssim_vs_cubic"] is False
    assert verdicts(claims.simulate_claims(scores(33.0, dc=35.0), 2))["A5.data_consistency"] is False
    assert all(verdicts(claims.simulate_claims(scores(32.3), 4)).values())  # x4 margins: +1.0 / +0.2


def test_psnr_margins_are_judged_on_the_brain_mask_not_the_whole_crop():
    """A gain that lives in the background (whole crop +4.5 / +2.5 dB over trilinear / cubic, mask +1.5 /
    -0.5 dB) fails; a mask gain with a whole-crop loss passes."""
    found = verdicts(claims.simulate_claims(scores(31.5, whole_crop=3.0), 2))
    assert found["A5.vs_cubic"] is False and found["A5.vs_trilinear"] is False
    assert all(verdicts(claims.simulate_claims(scores(33.0, whole_crop=-2.0), 2)).values())


def test_restore_zoom_check_fails_on_a_wrong_affine(tmp_path):
    affine = np.diag([4.0, 4.0, 5.0, 1.0])
    case = Case("scan", torch.zeros(2, 2, 2), None, 2, nifti.upsampled_affine(affine, 2, 4), (0.0, 1.0),
                np.dtype("int16"), np.array([4.0, 4.0, 5.0]))  # fmt: skip
    cfg = MriConfig(mode="restore", scale=4)
    good = nifti.save(tmp_path / "good.nii.gz", np.zeros((2, 2, 8)), case.affine, np.dtype("f4"))
    bad = nifti.save(tmp_path / "bad.nii.gz", np.zeros((2, 2, 8)), affine, np.dtype("f4"))  # zooms not / 4
    assert all(c.passed for c in claims.restore_claims({"dc_psnr/ours": 50.0}, case, cfg, good))
    found = {c.id: c.passed for c in claims.restore_claims({"dc_psnr/ours": 20.0}, case, cfg, bad)}
    assert found == {"A6.consistency": False, "A6.zooms": False}


def test_renderer_invariants_hold_on_a_fit_and_fail_on_a_broken_renderer(monkeypatch):
    cfg = MriConfig(scale=2)
    cfg.train.iterations = 5
    lowres = torch.rand(8, 8, 6, generator=torch.Generator().manual_seed(0))
    gaussians = fit(Problem(lowres, 2), cfg)["gaussians"]
    assert all(c.passed for c in claims.renderer_invariants(gaussians, cfg, lowres.shape))
    real = claims.brick_splat

    def leaky(means, whiten, values, weights, grid, brick, cutoff):  # perturbs ~5 % of the voxels
        num, den = real(means, whiten, values, weights, grid, brick, cutoff)
        return num * (1 - 1e-3 * (torch.rand_like(num) < 0.05)), den

    monkeypatch.setattr(claims, "brick_splat", leaky)
    broken = {c.id: c.passed for c in claims.renderer_invariants(gaussians, cfg, lowres.shape)}
    assert broken["A1.brick_equals_dense"] is False
