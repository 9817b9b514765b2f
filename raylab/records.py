"""The result record: one `result.json` per run, written atomically, even when the run fails."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import numbers
import os
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, SupportsFloat

from raylab import RaylabError

SCHEMA_VERSION = 1
RESULT_FILE = "result.json"
METRICS_FILE = "metrics.jsonl"
RESULTS_DIR = "docs/results"  # the repository's committed full-size records
# Metric names: "/"-separated segments, the first a lower-case namespace (train/, eval/, data/, time/,
# a heuristic or loss name, ...), the rest of [A-Za-z0-9_.+=-]. `time/` holds wall-clock figures only:
# they are the one namespace allowed to differ between runs with the same seed.
METRIC_NAME = re.compile(r"[a-z][a-z0-9_]*(/[A-Za-z0-9_.+=-]+)+")
TIME_NAMESPACE = "time/"

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda v, t: v <= t,
    ">=": lambda v, t: v >= t,
    "<": lambda v, t: v < t,
    ">": lambda v, t: v > t,
}


CLAIM, INVARIANT = "claim", "invariant"


@dataclasses.dataclass
class Claim:
    """A paper's checkable statement, evaluated on this run's own metrics: `value op threshold`.

    kind "claim": it could fail on this run's data and counts as evidence. kind "invariant": it holds
    by construction (a line search that only accepts increases, a sample that is the plain tour); it
    is recorded and must hold, but it is never counted among the claims passed."""

    id: str
    statement: str
    value: float
    op: str
    threshold: float
    passed: bool
    paper_value: float | None = None
    kind: str = CLAIM
    # None when the claim was judged; else why it could not be (an optional package absent, too few
    # replicates): recorded visibly, never counted as passed or failed
    not_judged: str | None = None

    @classmethod
    def check(
        cls,
        id: str,
        statement: str,
        value: float,
        op: str,
        threshold: float,
        paper_value: float | None = None,
    ) -> Claim:
        """Evaluate `value op threshold`; a NaN value never passes."""
        value = float(value)
        passed = (not math.isnan(value)) and _OPS[op](value, threshold)
        return cls(id, statement, value, op, float(threshold), bool(passed), paper_value)

    @classmethod
    def unjudged(cls, id: str, statement: str, reason: str, op: str, threshold: float) -> Claim:
        """A claim this run could not judge, and why; its value is NaN and it is not `passed`."""
        return cls(id, statement, math.nan, op, float(threshold), False, not_judged=reason)

    @classmethod
    def invariant(cls, id: str, statement: str, value: float, op: str, threshold: float) -> Claim:
        """A check that holds by construction (see the class docstring)."""
        return dataclasses.replace(cls.check(id, statement, value, op, threshold), kind=INVARIANT)

    @classmethod
    def worst_case(
        cls,
        id: str,
        statement: str,
        values: Iterable[SupportsFloat],
        op: str,
        threshold: float,
        paper_value: float | None = None,
    ) -> Claim:
        """The claim over several seeds/channels, judged on the worst one: the largest value for an
        upper bound (`<`, `<=`), the smallest for a lower bound. Any NaN fails it."""
        floats = [float(v) for v in values]
        if any(math.isnan(v) for v in floats):
            return cls.check(id, statement, math.nan, op, threshold, paper_value)
        worst = max(floats) if op in ("<", "<=") else min(floats)
        return cls.check(id, statement, worst, op, threshold, paper_value)


@dataclasses.dataclass(frozen=True)
class ClaimRow:
    """One row of a method's claim table: the claim's id, the key of the value it judges (among the
    values its builder computed from the run), the comparison, the threshold, the statement and the
    kind. A value that is a sequence (seeds, channels, replicates) is judged on its worst element."""

    id: str
    key: str
    op: str
    threshold: float
    statement: str
    kind: str = CLAIM
    paper_value: float | None = None

    def judge(self, value: Any) -> Claim:
        """The claim on `value`: a number is checked, a sequence judged on its worst element."""
        scalar = isinstance(value, numbers.Real) or getattr(value, "ndim", None) == 0
        judge = Claim.check if scalar else Claim.worst_case
        claim = judge(self.id, self.statement, value, self.op, self.threshold, self.paper_value)
        return dataclasses.replace(claim, kind=self.kind)

    def unjudged(self, reason: str) -> Claim:
        """This row recorded as not judged, and why."""
        return dataclasses.replace(
            Claim.unjudged(self.id, self.statement, reason, self.op, self.threshold), kind=self.kind
        )


def claim_table(*rows: ClaimRow) -> tuple[ClaimRow, ...]:
    """A claim table, checked where it is declared: ids unique, comparisons and kinds known."""
    ids = [row.id for row in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids defined twice: {sorted({i for i in ids if ids.count(i) > 1})}")
    for row in rows:
        if row.op not in _OPS or row.kind not in (CLAIM, INVARIANT):
            raise ValueError(f"claim {row.id!r}: unknown comparison {row.op!r} or kind {row.kind!r}")
    return rows


def judge_table(rows: Iterable[ClaimRow], values: Mapping[str, Any]) -> list[Claim]:
    """Every row judged on `values[row.key]`; a row whose value was not computed (its cells were not
    run) is left out, never passed."""
    return [row.judge(values[row.key]) for row in rows if row.key in values]


@dataclasses.dataclass
class ResultRecord:
    """Everything about one run that reports and tests rely on (schema in ARCHITECTURE.md)."""

    experiment: str
    run_id: str
    status: str
    seed: int
    config: dict[str, Any]
    config_hash: str
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    claims: list[Claim] = dataclasses.field(default_factory=list)
    wall_s: float = 0.0
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    artifacts: list[str] = dataclasses.field(default_factory=list)
    error: str | None = None
    # "full" (the experiment's registered config), "smoke" (its smoke config) or "custom" (anything
    # else: overrides, another config file, a sweep trial), whatever the seed: see `runner.run_size`
    size: str = "custom"
    # the code that ran: {"commit": git HEAD or "unknown", "dirty": uncommitted changes or None}
    code: dict[str, Any] = dataclasses.field(default_factory=dict)
    # where it ran: {"cpus": ..., "gpus": [names], "platform": ..., "python": ...}
    machine: dict[str, Any] = dataclasses.field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = _json_safe(dataclasses.asdict(self))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "record") -> ResultRecord:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise RaylabError(
                f"{source}: schema_version {data.get('schema_version')!r} is not {SCHEMA_VERSION}"
            )
        fields = {f.name for f in dataclasses.fields(cls)}
        missing = {"experiment", "run_id", "status", "seed", "config", "config_hash"} - set(data)
        if missing:
            raise RaylabError(f"{source}: missing keys {sorted(missing)}")
        kwargs = {k: v for k, v in data.items() if k in fields}
        kwargs["metrics"] = {k: _number(v) for k, v in data.get("metrics", {}).items()}
        kwargs["claims"] = [Claim(**{**c, "value": _number(c["value"])}) for c in data.get("claims", [])]
        return cls(**kwargs)

    @property
    def claims_passed(self) -> bool:
        return all(c.passed for c in self.claims if c.not_judged is None)


def _json_safe(value: Any) -> Any:
    """Numbers as plain floats/ints; NaN/inf as strings so the file stays strict JSON."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _number(value: Any) -> Any:
    """Undo `_json_safe` for numbers: "inf", "-inf" and "nan" come back as floats."""
    return float(value) if value in ("inf", "-inf", "nan") else value


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, briefly, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class WriteFailed(RaylabError):
    """A file could not be written (disk full, quota, read-only storage): names the file."""


@contextlib.contextmanager
def writing(path: str | Path, what: str) -> Iterator[None]:
    """Inside the block, an OSError is one `WriteFailed` naming `path` and what it holds."""
    try:
        yield
    except OSError as exc:
        raise WriteFailed(f"could not write the {what} {path}: {exc.strerror or exc}") from exc


def write_json_atomic(path: str | Path, data: Any, what: str = "file") -> Path:
    """Write JSON to a temp file in the same folder, then rename: readers never see half a file.
    The file gets the mode an ordinary `open` would give (0666 minus the umask), not mkstemp's 0600,
    so other users of shared storage and the dashboard host can read records."""
    path = Path(path)
    with writing(path, what):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o666 & ~_umask())
            with os.fdopen(fd, "w") as handle:
                json.dump(_json_safe(data), handle, indent=2, sort_keys=False)
                handle.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


def write_record(record: ResultRecord, out_dir: str | Path) -> Path:
    return write_json_atomic(Path(out_dir) / RESULT_FILE, record.to_json(), what="record")


def read_record(path: str | Path) -> ResultRecord:
    """Load a `result.json` (or the one inside a run folder); a broken file is a RaylabError naming it."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULT_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RaylabError(f"no result record at {path}") from None
    except json.JSONDecodeError as exc:
        raise RaylabError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    return ResultRecord.from_json(data, str(path))


def append_jsonl(path: str | Path, row: dict[str, Any]) -> None:
    """Append one JSON line and flush, so a crash loses at most the line being written."""
    with writing(path, "metrics log"), open(path, "a") as handle:
        handle.write(json.dumps(_json_safe(row)) + "\n")
        handle.flush()


def code_version(source: str | Path) -> dict[str, Any]:
    """The git commit of the checkout holding `source` and whether its tree has uncommitted changes
    (untracked files count) outside RESULTS_DIR, whose records a reproduction writes as it goes;
    {"commit": "unknown", "dirty": None} outside a git checkout (a wheel)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=source, capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout.strip()

    try:
        changes = git("status", "--porcelain", "--", ":(top)", f":(top,exclude){RESULTS_DIR}")
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(changes)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}


def machine_info() -> dict[str, Any]:
    """Cores, GPUs (by name, when torch is already loaded and sees CUDA), platform and Python."""
    torch = sys.modules.get("torch")
    gpus = []
    if torch is not None and torch.cuda.is_available():
        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "cpus": os.cpu_count(),
        "gpus": gpus,
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
    }


def package_versions() -> dict[str, str]:
    versions = {}
    for name in ("raylab", "ray", "torch", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
