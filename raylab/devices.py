"""The torch device of a run from its config's `device` field (auto | cpu | cuda); torch is imported
only when asked, so `raylab list` stays light."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def pick_device(name: str) -> torch.device:
    """auto: CUDA when torch sees a GPU, else the CPU; cuda without a GPU is an error naming it."""
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no CUDA device")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")
