"""Replicate batches: a fan-out's runs grouped into vectorised models, one fan-out item each.

A method whose runs share their networks' shapes trains a group of them as one model with a leading
replicate axis; each run still has its own seeds, so its numbers do not depend on the group it lands
in. `batches` trades the two kinds of parallelism: one group per core keeps a small machine busy, a
GPU takes one large group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def replicate_batches(runs: Sequence[T], batches: int) -> list[tuple[T, ...]]:
    """`runs` in order, cut into min(batches, len(runs)) contiguous groups whose sizes differ by at
    most one (the first groups take the remainder)."""
    if batches < 1:
        raise ValueError(f"replicate batches must be >= 1, not {batches}")
    count = min(batches, len(runs))
    size, extra = divmod(len(runs), count) if count else (0, 0)
    groups, start = [], 0
    for i in range(count):
        end = start + size + (i < extra)
        groups.append(tuple(runs[start:end]))
        start = end
    return groups
