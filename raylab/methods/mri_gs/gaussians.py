"""MRI-tailored 3-D Gaussians (our reconstruction; README, "Method"): a centre, three
log-scales, an optional rotation and 1-3 tissue values; no opacity, no colour (<= 13 floats each,
against 59 for 3DGS). Coordinates are the output (high-resolution) grid's voxel indices, the one space
the renderer, the forward model and the NIfTI affine agree on (cf. r2_gaussian #76)."""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

SIGNALS = ("intensity", "spin_echo")
TISSUE_DIMS = {"intensity": 1, "spin_echo": 3}


@dataclasses.dataclass
class Gaussians:
    """The learnable fields, one row per Gaussian (leaf tensors; the optimizer owns them)."""

    means: torch.Tensor  # (N, 3) centre, output voxel indices
    log_scales: torch.Tensor  # (N, 3) log standard deviations along the Gaussian's own axes, voxels
    quats: torch.Tensor | None  # (N, 4) unnormalised rotation quaternion (w, x, y, z); None = axis-aligned
    tissue: torch.Tensor  # (N, 1) intensity, or (N, 3) raw PD / T1 / T2 (softplus -> positive)

    def fields(self) -> dict[str, torch.Tensor]:
        named = {"means": self.means, "log_scales": self.log_scales, "tissue": self.tissue}
        return named | ({"quats": self.quats} if self.quats is not None else {})

    @property
    def count(self) -> int:
        return self.means.shape[0]

    @property
    def floats_per_gaussian(self) -> int:
        return sum(t.shape[1] for t in self.fields().values())

    def rotations(self) -> torch.Tensor:
        """(N, 3, 3) rotation matrices; columns are the Gaussian's axes in voxel space."""
        if self.quats is None:
            return torch.eye(3, dtype=self.means.dtype, device=self.means.device).expand(self.count, 3, 3)
        return quaternion_matrix(self.quats)

    def whitening(self) -> torch.Tensor:
        """(N, 3, 3) W = R S^-1, so that W W^T = Sigma^-1 and d^2 = |(x - mu) W|^2; axis-aligned
        Gaussians give its diagonal, (N, 3)."""
        if self.quats is None:
            return torch.exp(-self.log_scales)
        return self.rotations() * torch.exp(-self.log_scales)[:, None, :]

    def covariances(self) -> torch.Tensor:
        rotations = self.rotations()
        return rotations @ torch.diag_embed(torch.exp(2 * self.log_scales)) @ rotations.transpose(1, 2)


def quaternion_matrix(quats: torch.Tensor) -> torch.Tensor:
    """Rotation matrices of (normalised) quaternions (w, x, y, z), differentiable."""
    w, x, y, z = F.normalize(quats, dim=-1).unbind(-1)
    rows = [
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ]  # fmt: skip
    return torch.stack(rows, -1).reshape(*quats.shape[:-1], 3, 3)


def signal(tissue: torch.Tensor, model: str, tr_ms: float = 500.0, te_ms: float = 15.0) -> torch.Tensor:
    """Per-Gaussian MR signal s_i from its tissue vector.

    intensity: s = rho. spin_echo: s = PD (1 - exp(-TR/T1)) exp(-TE/T2), with PD, T1, T2 = softplus
    of the raw fields (T1, T2 in ms).
    """
    if model == "intensity":
        return tissue[:, 0]
    if model == "spin_echo":
        pd, t1, t2 = F.softplus(tissue).unbind(-1)
        return pd * (1 - torch.exp(-tr_ms / t1)) * torch.exp(-te_ms / t2)
    raise ValueError(f"unknown signal model '{model}' (choose from {', '.join(SIGNALS)})")


def inverse_softplus(x: torch.Tensor) -> torch.Tensor:
    return x + torch.log(-torch.expm1(-x))


def init_from_lowres(
    lowres: torch.Tensor,
    factor: int,
    *,
    step: int = 1,
    sigma_inplane: float = 0.6,
    sigma_thick: float = 0.5,
    rotations: bool = False,
    signal_model: str = "intensity",
    t1_ms: float = 1000.0,
    t2_ms: float = 80.0,
    tr_ms: float = 500.0,
    te_ms: float = 15.0,
) -> Gaussians:
    """One Gaussian per `step`-th low-resolution voxel in-plane (every slice), centred on it in output
    voxel indices (slice k covers output z in [k f, (k+1) f), centre k f + (f-1)/2).

    Scales: `sigma_inplane` voxels in-plane (times `step`), `sigma_thick` x f along the thick (last)
    axis. Tissue: the voxel's value (intensity), or PD fitted to it at the given T1 / T2 (spin_echo).
    # DEVIATION: [R] initialisation of our reconstruction; the paper's is unknown.
    """
    lr = lowres[::step, ::step, :]
    ii, jj, kk = torch.meshgrid(*(torch.arange(n, dtype=lowres.dtype) for n in lr.shape), indexing="ij")
    means = torch.stack([ii * step, jj * step, kk * factor + (factor - 1) / 2], -1).reshape(-1, 3)
    n = means.shape[0]
    sigma = torch.tensor(
        [sigma_inplane * step, sigma_inplane * step, sigma_thick * factor], dtype=lowres.dtype
    )
    log_scales = sigma.log().expand(n, 3).clone()
    values = lr.reshape(-1, 1).clone()
    if signal_model == "spin_echo":
        contrast = (1 - torch.exp(torch.tensor(-tr_ms / t1_ms))) * torch.exp(torch.tensor(-te_ms / t2_ms))
        pd = (values / contrast).clamp_min(1e-4)
        t1 = torch.full_like(pd, t1_ms)
        t2 = torch.full_like(pd, t2_ms)
        values = inverse_softplus(torch.cat([pd, t1, t2], 1))
    elif signal_model != "intensity":
        raise ValueError(f"unknown signal model '{signal_model}' (choose from {', '.join(SIGNALS)})")
    quats = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=lowres.dtype).expand(n, 4).clone() if rotations else None
    return Gaussians(
        means.requires_grad_(True),
        log_scales.requires_grad_(True),
        quats.requires_grad_(True) if quats is not None else None,
        values.requires_grad_(True),
    )
