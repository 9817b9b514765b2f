"""Cache-and-reuse: content-addressed prefix keys, a filesystem store shared by every
worker (atomic writes, no large objects in Ray's object store), a per-sample memo for LLM operators,
and counters that make the savings numbers rather than wall-clock.

key_0 = sha256(data fingerprint); key_i = sha256(key_{i-1}, canonical step i[, targets + LLM
fingerprint for LLM operators]). Nothing run-specific (run id, time, folder, worker) enters a key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path

from raylab.methods.autodp.data import Sample
from raylab.methods.autodp.strategy import canonical_step


def sha(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def rows_fingerprint(rows) -> str:
    """Content hash of rows (fields and hidden truth, in order)."""
    h = hashlib.sha256()
    for s in rows:
        h.update(json.dumps([s.id, s.input, s.output, s.bad, s.fact]).encode())
    return h.hexdigest()


def prefix_keys(
    data_fp: str, steps: list[tuple[str, dict]], llm_fp: str, targets_fp: str, llm_ops
) -> list[str]:
    """key_i for i = 1..len(steps) (the output of the first i steps)."""
    keys, key = [], sha("data", data_fp)
    for op, params in steps:
        key = sha(key, canonical_step(op, params), *((llm_fp, targets_fp) if op in llm_ops else ()))
        keys.append(key)
    return keys


@dataclasses.dataclass
class Counters:
    """What a piece of work executed (summed over evaluations and workers)."""

    op_runs: int = 0  # operator executions
    op_rows: int = 0  # rows fed to executed operators
    steps_reused: int = 0  # steps skipped thanks to a cached prefix
    llm_calls: int = 0  # LLM operator calls made (memo misses)
    memo_hits: int = 0  # LLM rewrites reused from the memo
    evaluations: int = 0  # proxy models trained and scored
    train_rows: int = 0  # rows those models were trained on

    def add(self, other: Counters) -> Counters:
        return Counters(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))))

    def cost(self, call_cost: float, train_cost: float) -> float:
        """Counted compute units: a row through an operator = 1, an LLM call = call_cost, a training
        row = train_cost (what the accelerated_cost claim compares)."""
        return self.op_rows + call_cost * self.llm_calls + train_cost * self.train_rows


class Store:
    """Pickled values under root/<2 hex>/<key>, written to a temporary file and renamed into place,
    so concurrent workers never see a partial file (the last identical write wins)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str):
        path = self._path(key)
        try:
            return pickle.loads(path.read_bytes())
        except FileNotFoundError:
            return None

    def has(self, key: str) -> bool:
        return self._path(key).exists()

    def put(self, key: str, value) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(pickle.dumps(value))
        os.replace(tmp, path)


def memo_key(op: str, params: dict, llm_fp: str, sample: Sample) -> str:
    """Per-sample memo of an LLM rewrite: the same sample through the same operator and model is
    rewritten once, whatever came before it in the strategy."""
    return sha(
        "memo",
        canonical_step(op, params),
        llm_fp,
        json.dumps([sample.id, sample.input, sample.output, sample.bad, sample.fact]),
    )
