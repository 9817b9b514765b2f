"""Structured shift families: each maps a standard-normal latent z to node shifts, scale-free
in units of the nearest-neighbour distance. Sample 0 is always the unshifted instance (z = 0).

- gaussian: independent per-node shifts, delta_i = a d_i z_i (the first design's family);
- affine: one global map about the centroid, delta = a (x - c) Z^T, Z a 2x2 normal matrix (stretch,
  shear, rotation); a is dimensionless (a node at distance R moves by ~ a R);
- field: a smooth random displacement field, delta(x) = a d_mean sum_j (A_j cos(k_j.x) + B_j sin(k_j.x))
  / sqrt(modes), wave vectors |k_j| = 2 pi / (length_scale x extent) in fixed random directions;
- cluster: k-means groups of ~`group_size` nodes moved together, delta_i = a d_mean z_{g(i)}.

The latent has a fixed size per (family, instance), so test-time search (CEM, `guided.py`) works in
the same space for every family.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import numpy as np
from scipy.cluster.vq import kmeans2

from raylab.methods.tsp_mdf.sampling import nearest_neighbour_distance
from raylab.seeding import derive_seed

FAMILIES = ("gaussian", "affine", "field", "cluster")


@dataclasses.dataclass(frozen=True)
class Family:
    """One shift family and its untrained setting."""

    name: str  # gaussian | affine | field | cluster
    amplitude: float  # a (see the module docstring for its unit per family)
    length_scale: float = 0.25  # field: wavelength as a fraction of the instance's extent
    modes: int = 8  # field: random Fourier modes
    group_size: int = 10  # cluster: nodes per k-means group (on average)

    def __post_init__(self):
        if self.name not in FAMILIES:
            raise ValueError(f"family must be one of {', '.join(FAMILIES)}, not '{self.name}'")
        if self.amplitude < 0 or self.length_scale <= 0 or self.modes < 1 or self.group_size < 1:
            raise ValueError("family: need amplitude >= 0, length_scale > 0, modes >= 1, group_size >= 1")


class Shifter:
    """The family's map z -> delta on one instance (geometry computed once)."""

    def __init__(self, family: Family, coords: np.ndarray, seed: int, instance: int):
        self.family, self.coords = family, coords
        self.seed, self.instance = seed, instance

    @cached_property
    def unit(self) -> np.ndarray:
        return nearest_neighbour_distance(self.coords)

    @cached_property
    def waves(self) -> np.ndarray:
        """(modes, 2) wave vectors: fixed random directions, |k| = 2 pi / wavelength."""
        extent = float(np.ptp(self.coords, axis=0).max())
        angle = np.random.default_rng(derive_seed(self.seed, "waves", self.instance)).uniform(
            0, 2 * np.pi, self.family.modes
        )
        return 2 * np.pi / (self.family.length_scale * extent) * np.c_[np.cos(angle), np.sin(angle)]

    @cached_property
    def groups(self) -> np.ndarray:
        k = max(1, len(self.coords) // self.family.group_size)
        _, labels = kmeans2(self.coords, k, minit="++", seed=derive_seed(self.seed, "groups", self.instance))
        return labels

    @property
    def latent_size(self) -> int:
        name = self.family.name
        return {
            "gaussian": 2 * len(self.coords),
            "affine": 4,
            "field": 4 * self.family.modes,
            "cluster": 2 * (int(self.groups.max()) + 1) if name == "cluster" else 0,
        }[name]

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """delta (n, 2) for the latent z."""
        a, x, name = self.family.amplitude, self.coords, self.family.name
        if name == "gaussian":
            return a * self.unit[:, None] * z.reshape(-1, 2)
        if name == "affine":
            return a * (x - x.mean(axis=0)) @ z.reshape(2, 2).T
        mean_unit = float(self.unit.mean())
        if name == "field":
            phase = x @ self.waves.T  # (n, modes)
            coef = z.reshape(4, -1)  # A_x, B_x, A_y, B_y per mode
            dx = np.cos(phase) @ coef[0] + np.sin(phase) @ coef[1]
            dy = np.cos(phase) @ coef[2] + np.sin(phase) @ coef[3]
            return a * mean_unit * np.c_[dx, dy] / np.sqrt(self.family.modes)
        return a * mean_unit * z.reshape(-1, 2)[self.groups]


def untrained_latents(shifter: Shifter, stream: int, sample_ids) -> list[np.ndarray]:
    """z for each sample id: zeros for sample 0, else N(0, I) fixed by (seed, stream, instance, id)."""
    size = shifter.latent_size
    return [
        np.zeros(size)
        if k == 0
        else np.random.default_rng(
            derive_seed(shifter.seed, "family", stream, shifter.instance, k)
        ).standard_normal(size)
        for k in sample_ids
    ]
