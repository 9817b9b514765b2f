"""Zero-shot MRI super-resolution experiments (torch-free: `raylab list` imports this module only)."""

from raylab.registry import ExperimentSpec

PAPER = (
    "Physics-Driven 3D Gaussian Rendering for Zero-Shot MRI Super-Resolution (Liu et al., arXiv 2603.09621)"
)


def _mri(experiment: str, summary: str, entry: str = "experiment", reproduce: bool = True) -> ExperimentSpec:
    batch = entry == "batch"
    return ExperimentSpec(
        # one GPU per volume on a GPU cluster (the same torch code on CPU elsewhere, one thread)
        resources={"cpu": 1, "gpu": 1},
        name=f"mri_gs/{experiment}",
        summary=summary,
        config_cls="raylab.methods.mri_gs.config:MriConfig",
        entry=f"raylab.methods.mri_gs.{entry}:run",
        reproduce=reproduce,
        # batch: each volume in its own placement-group bundle, spread over the nodes
        mapper={"placement": "SPREAD"} if batch else {},
        dispatches=batch,
    )


EXPERIMENTS = [
    _mri(
        "mni152_x2",
        "MNI152 T1 64^3 crop degraded x2 along z: Gaussians vs trilinear / cubic B-spline / SIREN, PSNR / "
        "SSIM on the brain mask, renderer invariants (A1-A5)",
    ),
    _mri(
        "mni152_x2_mismatch",
        "mni152_x2 with a Gaussian slice profile in and the box model fitted: A5 without the inverse crime",
    ),
    _mri("mni152_x4", "the same at x4 (A5)"),
    _mri("colin27_x4", "Colin27 single-subject T1 64^3 crop at x4 (A5 on one real subject)"),
    _mri(
        "aniso_demo",
        "restore a real 4 x 4 x 5 mm scan (dipy) to 4 x 4 x 1.25 mm: NIfTI zooms, re-degradation (A6)",
    ),
    _mri(
        "batch",
        "a folder of NIfTI volumes, one placement-group bundle (a GPU on GPU clusters) per volume",
        entry="batch",
        reproduce=False,
    ),
]
