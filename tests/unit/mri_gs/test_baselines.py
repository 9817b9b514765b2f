"""The SIREN baseline's stopping rules, and a simulated scan made with a profile other than the fitted
one (the mismatched-degradation experiment)."""

import numpy as np
import pytest
import torch

from raylab.methods.mri_gs import baselines, nifti
from raylab.methods.mri_gs.acquisition import degrade, slice_matrix
from raylab.methods.mri_gs.config import MriConfig
from raylab.methods.mri_gs.experiment import prepare


def small_inr(**stopping) -> dict:
    lowres = torch.rand(6, 6, 4, generator=torch.Generator().manual_seed(0))
    matrix = slice_matrix(8, 2, dtype=lowres.dtype)
    return baselines.fit_inr(
        lowres, matrix, (6, 6, 8), lr=stopping.pop("lr", 1e-3), width=16, seed=0, **stopping
    )


def test_a_siren_that_cannot_improve_stops_after_patience_steps_without_gain():
    # lr 0: every step after the first has the first step's loss, so no step gains 0.01 dB
    found = small_inr(iterations=500, lr=0.0, patience=7)
    assert (found["stop"], found["steps"]) == ("plateau", 8)


def test_a_siren_runs_its_step_cap_without_patience_and_stops_on_its_time_budget():
    capped = small_inr(iterations=12)
    assert (capped["stop"], capped["steps"]) == ("iterations", 12)
    timed = small_inr(iterations=500, max_seconds=0.0)
    assert (timed["stop"], timed["steps"]) == ("time", 1)


def test_simulate_makes_the_scan_with_the_degradation_profile_and_fits_the_model_profile(tmp_path):
    volume = np.random.default_rng(0).random((8, 8, 12)).astype(np.float32)
    path = nifti.save(tmp_path / "t1.nii.gz", volume, np.eye(4), np.dtype("f4"))
    matched = prepare(MriConfig(input=str(path), scale=2), str(path), torch.device("cpu"))
    mismatched = prepare(
        MriConfig(input=str(path), scale=2, degradation="gaussian"), str(path), torch.device("cpu")
    )
    assert torch.equal(matched.truth, mismatched.truth)
    gaussian = degrade(mismatched.truth, slice_matrix(12, 2, "gaussian", torch.float32))
    assert torch.allclose(mismatched.lowres, gaussian, atol=1e-6)  # float32 sums of the same terms
    assert (mismatched.lowres - matched.lowres).abs().max() > 1e-2  # a different scan from the box one


def test_a_degradation_profile_is_refused_where_it_means_nothing():
    with pytest.raises(ValueError, match="degradation must be one of box, gaussian in simulate mode"):
        MriConfig(degradation="lorentzian")
    with pytest.raises(ValueError, match="in restore mode"):
        MriConfig(mode="restore", degradation="gaussian")
