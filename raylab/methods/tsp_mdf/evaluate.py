"""Evaluation of plain heuristics, the random-shift ablation and the trained modifier on one
instance set, all on a common sample stream: sample k of instance i uses the same standard-normal
noise for every sigma and model, so comparisons are paired and best-of-K is monotone in K.

Gaps (our reconstruction): "gap of means" = mean(L) / reference_mean - 1 (the literature tables), and
"mean gap" = mean_i(L_i / ref_i - 1) against per-instance references when the data has them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import torch

from raylab.methods.tsp_mdf.data import InstanceSet
from raylab.methods.tsp_mdf.modifier import InstanceModifier, shift_models
from raylab.methods.tsp_mdf.sampling import ShiftModel, best_of_k, random_shift_model


@dataclasses.dataclass
class Sampled:
    """All K_max sample lengths per instance (original metric; column 0 = plain H) and best tours."""

    lengths: np.ndarray  # (instances, K_max)
    tours: list[np.ndarray]  # best tour over all K_max samples, per instance
    seconds: float

    def best(self, k: int) -> np.ndarray:
        """Best-of-k lengths per instance (samples 0..k-1; sample 0 is the unshifted instance)."""
        return self.lengths[:, :k].min(axis=1)

    @property
    def plain(self) -> np.ndarray:
        return self.lengths[:, 0]


def sample(
    data: InstanceSet, models: list[ShiftModel], k: int, method: str, seed: int, chunk: int, map_fn: Callable
) -> Sampled:
    """Best-of-k over `models` on every instance, scored with the instance's own metric."""
    began = time.perf_counter()
    tsplib = any(o.metric != "EUCLIDEAN" for o in data.originals)
    results = best_of_k(map_fn, data.unit, models, k, method, seed, chunk, data.originals if tsplib else None)
    return Sampled(
        np.stack([r["lengths"] for r in results]), [r["tour"] for r in results], time.perf_counter() - began
    )


def ablation_models(data: InstanceSet, sigma: float) -> list[ShiftModel]:
    """The untrained random-shift ablation: i.i.d. N(0, sigma^2) in unit-square coordinates."""
    return [random_shift_model(len(c), sigma) for c in data.unit]


def modifier_models(net: InstanceModifier, data: InstanceSet, method: str, clip: float) -> list[ShiftModel]:
    """The trained modifier's per-node shift distributions, one instance at a time (sizes may differ)."""
    with torch.no_grad():
        return [shift_models(net, [c], method, clip)[0][0] for c in data.unit]


def gaps(lengths: np.ndarray, data: InstanceSet, reference_mean: float) -> dict[str, float]:
    """Mean length, gap of means vs the literature reference, mean per-instance gap (in %)."""
    out = {"length": float(lengths.mean())}
    if reference_mean > 0:
        out["gap_of_means"] = 100.0 * (lengths.mean() / reference_mean - 1.0)
    if data.references is not None:
        out["gap"] = float(100.0 * np.mean(lengths / data.references - 1.0))
    return out


def per_instance_gap(lengths: np.ndarray, data: InstanceSet) -> np.ndarray:
    """Per-instance gaps in % against the data's per-instance references."""
    return 100.0 * (lengths / data.references - 1.0)
