"""Flat offline transitions (observations, actions, rewards, next observations, terminations): what
the dataset builders produce and the learners consume. Terminations bootstrap, truncations do not."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from raylab import RaylabError

FIELDS = ("observations", "actions", "rewards", "next_observations", "terminals")


class DatasetError(RaylabError):
    """A dataset that is missing or cannot be used; the message says which and why."""


@dataclasses.dataclass
class Transitions:
    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    terminals: np.ndarray

    def __len__(self) -> int:
        return len(self.rewards)

    def check(self, name: str) -> None:
        sizes = {f: len(getattr(self, f)) for f in FIELDS}
        if len(set(sizes.values())) != 1 or not sizes["rewards"]:
            raise DatasetError(f"{name}: fields have different or zero lengths: {sizes}")
        for field in FIELDS:
            values = getattr(self, field)
            if not np.isfinite(values).all():
                rows = np.unique(np.nonzero(~np.isfinite(values))[0])
                raise DatasetError(
                    f"{name}: {field} has non-finite values in {len(rows)} transitions "
                    f"(first at index {rows[0]})"
                )

    def state_stats(self, eps: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
        return self.observations.mean(0), self.observations.std(0) + eps

    def to_torch(self, mean: np.ndarray, std: np.ndarray) -> dict[str, torch.Tensor]:
        """Float tensors with normalised states (rewards and terminals flat)."""
        out = {f: torch.as_tensor(getattr(self, f), dtype=torch.float32) for f in FIELDS}
        for key in ("observations", "next_observations"):
            out[key] = (out[key] - torch.as_tensor(mean, dtype=torch.float32)) / torch.as_tensor(
                std, dtype=torch.float32
            )
        out["rewards"], out["terminals"] = out["rewards"].reshape(-1), out["terminals"].reshape(-1)
        return out
