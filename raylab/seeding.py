"""Seeds: one base seed per run, every other seed derived from it by name, never from the clock."""

from __future__ import annotations

import hashlib
import random
import sys

import numpy as np

_SEED_SPACE = 2**31 - 1


def derive_seed(base: int, *keys: object) -> int:
    """A deterministic seed in [0, 2**31 - 1) for (base, *keys).

    Stable across processes and Python versions (sha256 of the keys' reprs, not `hash()`), so a Ray
    worker, a Tune trial and the serial path all derive the same seed for the same item.
    """
    text = "\x1f".join([repr(int(base))] + [repr(k) for k in keys])
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "little") % _SEED_SPACE


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, numpy's legacy global RNG and, if already imported, torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
