"""Configuration of the FAA secrecy experiments (one dataclass; `kind` picks the study)."""

from __future__ import annotations

import dataclasses
from typing import Literal

Kind = Literal["power", "antennas", "eves", "shapes", "convergence"]
Shape = Literal["rigid", "rotation", "bend", "fold"]


@dataclasses.dataclass
class SystemConfig:
    """The paper's setting (arXiv 2602.23769): 3x3 array at 10 GHz, kappa 4, 10 paths, Bob 50 m,
    Eves 60 m."""

    shape: Shape = "rotation"  # how the array deforms: rigid | rotation | bend | fold (bend/fold: ours)
    n_v: int = 3  # antenna rows
    n_h: int = 3  # antenna columns
    kappa: float = 4.0  # element-pattern sharpness
    paths: int = 10  # multipath components per channel (plus LoS)
    wavelength: float = 0.03  # 10 GHz; spacing lambda / 2
    g0_db: float = -40.0  # path gain at 1 m
    alpha: float = 2.0  # path-loss exponent
    dist_bob: float = 50.0  # Bob's distance (m)
    dist_eve: float = 60.0  # each Eve's distance (m)
    noise_dbm: float = -80.0  # receiver noise power (dBm)
    power_dbm: float = 10.0  # transmit power (dBm); the claims' reference power
    psi_max_deg: float = 180.0  # |psi| <= this (degrees); 180 = unrestricted (rotation wraps round)
    num_eves: int = 1  # GRQ / AO studies: one Eve (the "eves" study uses `eves` instead)

    def __post_init__(self):
        if not 0 < self.psi_max_deg <= 180:
            raise ValueError("system.psi_max_deg must be in (0, 180]")
        if min(self.n_v, self.n_h, self.paths, self.num_eves) < 1 or self.kappa < 0:
            raise ValueError("system: n_v, n_h, paths, num_eves must be >= 1 and kappa >= 0")


@dataclasses.dataclass
class FAAConfig:
    seed: int = 0  # run seed; channel i is drawn from derive_seed(seed, "channel", i)
    kind: Kind = "power"  # the study: power | antennas | eves | shapes | convergence
    channels: int = 200  # Monte-Carlo channel draws (common to every scheme and parameter)
    chunk: int = 10  # channels per Ray task
    grid_points: int = 721  # exhaustive psi grid (0.5 degree for rotation)
    starts: int = 8  # multi-start AO
    ao_iters: int = 50  # alternating-optimisation iterations per start
    system: SystemConfig = dataclasses.field(default_factory=SystemConfig)  # array, channel, powers
    powers_dbm: list[float] = dataclasses.field(  # "power" study: transmit powers (dBm)
        default_factory=lambda: [-10.0, 0.0, 10.0, 20.0, 30.0]
    )
    sizes: list[list[int]] = dataclasses.field(  # "antennas" study: [n_v, n_h] array sizes
        default_factory=lambda: [[2, 2], [3, 3], [4, 4]]
    )
    shapes: list[Shape] = dataclasses.field(  # "shapes" study: deformations compared with rigid
        default_factory=lambda: ["rotation", "bend", "fold"]
    )
    eves: list[int] = dataclasses.field(default_factory=lambda: [1, 2, 3, 4])  # "eves" study: K values
    check_cases: int = 1000  # convergence: random cases for the GRQ / SDR / gradient checks (A1, A2)

    def __post_init__(self):
        if min(self.channels, self.chunk, self.grid_points, self.starts, self.ao_iters) < 1:
            raise ValueError("channels, chunk, grid_points, starts and ao_iters must be >= 1")
        if any(len(size) != 2 or min(size) < 1 for size in self.sizes):
            raise ValueError("sizes must be [n_v, n_h] pairs of positive integers")
        if not self.eves or min(self.eves) < 1:
            raise ValueError("eves must list numbers of eavesdroppers >= 1")
        if self.system.num_eves != 1:
            raise ValueError(
                "system.num_eves: the GRQ / AO studies are for one Eve; use kind 'eves' for K > 1"
            )
