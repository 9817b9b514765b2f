"""Configuration of the zero-shot Gaussian MRI super-resolution runs (our reconstruction; see the
README). Lengths are in output (high-resolution) voxels unless a field says otherwise."""

from __future__ import annotations

import dataclasses

from raylab.config import require_positive
from raylab.methods.mri_gs.acquisition import PROFILES
from raylab.methods.mri_gs.gaussians import SIGNALS

MODES = ("simulate", "restore")


@dataclasses.dataclass
class InitConfig:
    """Gaussians placed on the low-resolution voxels."""

    step: int = 1  # one Gaussian per `step` low-res voxels along each in-plane axis (2 = a quarter as many)
    sigma_inplane: float = 0.6  # initial in-plane standard deviation, voxels (times `step`)
    sigma_thick: float = 0.5  # initial thick-axis standard deviation, in slice thicknesses
    rotations: bool = False  # learn a rotation quaternion per Gaussian (else axis-aligned: 7 floats each)

    def __post_init__(self):
        require_positive(
            **{
                "init.step": self.step,
                "init.sigma_inplane": self.sigma_inplane,
                "init.sigma_thick": self.sigma_thick,
            }
        )


@dataclasses.dataclass
class RenderConfig:
    """The brick rasterizer (raylab/methods/mri_gs/render.py)."""

    brick: int = 4  # brick edge, voxels (4 is fastest on CPU: less work per pair outside the ellipsoid)
    cutoff: float = 3.0  # Gaussian support radius, Mahalanobis units
    eps: float = 1e-8  # added to the denominator of the normalized aggregation
    chunk: int = 2**18  # voxel evaluations per step of the rasterizer (memory / speed trade-off)

    def __post_init__(self):
        require_positive(
            **{"render.brick": self.brick, "render.cutoff": self.cutoff, "render.chunk": self.chunk}
        )
        if self.eps < 0:
            raise ValueError("render.eps must be >= 0")


@dataclasses.dataclass
class SignalConfig:
    """How a Gaussian's tissue vector becomes MR signal."""

    model: str = "intensity"  # intensity (s = rho) | spin_echo (PD, T1, T2 -> PD (1 - e^-TR/T1) e^-TE/T2)
    tr_ms: float = 500.0  # repetition time, ms (spin_echo)
    te_ms: float = 15.0  # echo time, ms (spin_echo)
    t1_ms: float = 1000.0  # initial T1 of every Gaussian, ms (spin_echo)
    t2_ms: float = 80.0  # initial T2 of every Gaussian, ms (spin_echo)

    def __post_init__(self):
        if self.model not in SIGNALS:
            raise ValueError(f"signal.model must be one of {', '.join(SIGNALS)}, not '{self.model}'")
        require_positive(
            **{
                "signal.tr_ms": self.tr_ms,
                "signal.te_ms": self.te_ms,
                "signal.t1_ms": self.t1_ms,
                "signal.t2_ms": self.t2_ms,
            }
        )


@dataclasses.dataclass
class TrainConfig:
    """Adam on the data-consistency loss, stopped on data consistency alone (never on ground truth)."""

    iterations: int = 60  # maximum Adam steps
    lr_means: float = 1e-2  # Adam step size of the centres, voxels
    lr_scales: float = 1e-2  # Adam step size of the log-scales
    lr_rotations: float = 1e-2  # Adam step size of the quaternions
    lr_tissue: float = 5e-3  # Adam step size of the tissue values (intensity units of [0, 1])
    stop_db: float = 60.0  # stop when the re-degraded fit reaches this PSNR against the input, dB
    patience: int = 15  # ... or after this many steps without a 0.01 dB gain in data consistency
    densify_every: int = 0  # split / prune every this many steps (0 = never)
    densify_fraction: float = 0.05  # fraction of Gaussians split each time (largest centre gradients)
    prune_scale: float = 0.05  # Gaussians whose largest standard deviation falls below this are removed

    def __post_init__(self):
        require_positive(**{"train.iterations": self.iterations, "train.patience": self.patience})
        if self.densify_every < 0 or not 0 <= self.densify_fraction <= 1:
            raise ValueError("train.densify_every must be >= 0 and train.densify_fraction in [0, 1]")


@dataclasses.dataclass
class BaselineConfig:
    """Baselines fitted on the same input in the same run."""

    inr: bool = True  # fit the SIREN baseline (time to equal PSNR)
    inr_iterations: int = 300  # SIREN full-batch Adam steps, at most
    inr_patience: int = 0  # ... stop at its plateau: this many steps without a 0.01 dB gain (0 = never)
    inr_time_factor: float = 0.0  # ... stop after this many times the Gaussian fit's seconds (0 = never)
    inr_lr: float = 1e-3  # SIREN Adam step size (at width 64 better than 1e-4: README)
    inr_width: int = 64  # SIREN hidden units (3 sine layers; 128 costs 4x per step: README)

    def __post_init__(self):
        require_positive(
            **{"baselines.inr_iterations": self.inr_iterations, "baselines.inr_width": self.inr_width}
        )
        if self.inr_patience < 0 or self.inr_time_factor < 0:
            raise ValueError("baselines.inr_patience and baselines.inr_time_factor must be >= 0")


@dataclasses.dataclass
class MriConfig:
    """One volume (or, for mri_gs/batch, a folder of them) super-resolved along its thick axis."""

    seed: int = 0  # run seed (SIREN initialisation; the Gaussian fit itself is deterministic)
    mode: str = "simulate"  # simulate (degrade a high-res input, score) | restore (input is the scan)
    input: str = "mni152"  # NIfTI file, folder (batch) or a built-in (raylab/methods/mri_gs/data.py)
    volume: int = -1  # which volume of a 4-D series (-1: none chosen; a 4-D input then is an error)
    scale: int = 2  # super-resolution factor along the thick axis (integer >= 2)
    axis: int = -1  # thick array axis 0 / 1 / 2; -1: the axis with the largest voxel size (ties: the last)
    profile: str = "box"  # slice profile of the forward model: box | gaussian (FWHM = scale)
    degradation: str = ""  # simulate: the profile that makes the scan ("" = `profile`, the fitted model)
    shortcut: bool = False  # gaussian profile: render the slices from widened Gaussians (no convolution)
    crop_centre: list[int] = dataclasses.field(default_factory=list)  # crop centre, input voxel indices
    crop_size: list[int] = dataclasses.field(default_factory=list)  # crop size, input voxels ([] = whole)
    mask_threshold: float = 0.1  # brain mask = ground truth above this fraction of the range
    device: str = "auto"  # auto | cpu | cuda
    write_nifti: bool = True  # write the super-resolved volume (and the baselines) as NIfTI
    init: InitConfig = dataclasses.field(default_factory=InitConfig)  # Gaussian placement and count
    render: RenderConfig = dataclasses.field(default_factory=RenderConfig)  # brick rasterizer
    signal: SignalConfig = dataclasses.field(default_factory=SignalConfig)  # tissue -> MR signal
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)  # the zero-shot fit
    baselines: BaselineConfig = dataclasses.field(default_factory=BaselineConfig)  # run beside it

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not '{self.mode}'")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not '{self.profile}'")
        if self.scale < 2:
            raise ValueError(f"scale must be an integer >= 2, not {self.scale}")
        if self.axis not in (-1, 0, 1, 2):
            raise ValueError(f"axis must be -1, 0, 1 or 2, not {self.axis}")
        if self.degradation and (self.degradation not in PROFILES or self.mode != "simulate"):
            raise ValueError(
                f"degradation must be one of {', '.join(PROFILES)} in simulate mode, not "
                f"'{self.degradation}' in {self.mode} mode"
            )
        if self.shortcut and self.profile != "gaussian":
            raise ValueError("shortcut needs profile: gaussian (it widens Gaussians by the Gaussian profile)")
        if self.crop_size and len(self.crop_size) != 3 or self.crop_centre and len(self.crop_centre) != 3:
            raise ValueError("crop_size and crop_centre take three voxel counts / indices")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not '{self.device}'")
