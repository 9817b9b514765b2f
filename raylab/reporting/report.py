"""REPORT.md from a folder of run records: one section per method, one claims table per run."""

from __future__ import annotations

import os
from pathlib import Path

from raylab import RaylabError
from raylab.records import RESULT_FILE, ResultRecord, read_record
from raylab.registry import PAPERS

REPORT_FILE = "REPORT.md"


def find_records(root: str | Path) -> list[tuple[Path, ResultRecord]]:
    """Every result.json under `root`, sorted by experiment name; unreadable ones are an error."""
    root = Path(root)
    if not root.is_dir():
        raise RaylabError(f"no such results folder: {root}")
    found = [(p.parent, read_record(p)) for p in sorted(root.rglob(RESULT_FILE))]
    if not found:
        raise RaylabError(f"no {RESULT_FILE} under {root}")
    return sorted(found, key=lambda item: item[1].experiment)


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def claims_table(record: ResultRecord) -> list[str]:
    lines = ["| claim | statement | paper | ours | bound | passed |", "|---|---|---|---|---|---|"]
    for c in record.claims:
        mark = "yes" if c.passed else "**NO**"
        lines.append(
            f"| {c.id} | {c.statement} | {_fmt(c.paper_value)} | {_fmt(c.value)} | "
            f"{c.op} {_fmt(c.threshold)} | {mark} |"
        )
    return lines


def run_section(folder: Path, record: ResultRecord, report_dir: Path) -> list[str]:
    passed = sum(c.passed for c in record.claims)
    lines = [
        f"### `{record.experiment}`",
        "",
        f"status **{record.status}**, seed {record.seed}, {record.wall_s:.1f} s, "
        f"claims passed {passed}/{len(record.claims)}, config `{record.config_hash[:19]}`, "
        f"folder `{os.path.relpath(folder, report_dir)}`",
        "",
    ]
    if record.error:
        lines += [f"Error: `{record.error}`", ""]
    if record.claims:
        lines += claims_table(record) + [""]
    for artifact in record.artifacts:
        if artifact.endswith(".png"):
            lines += [f"![{artifact}]({os.path.relpath(folder / artifact, report_dir)})", ""]
    return lines


def build_report(root: str | Path, out: str | Path | None = None, title: str = "raylab report") -> Path:
    """Write REPORT.md (default: `root/REPORT.md`) from the records under `root`."""
    root = Path(root)
    out = Path(out) if out else root / REPORT_FILE
    records = find_records(root)
    total = sum(len(r.claims) for _, r in records)
    passed = sum(c.passed for _, r in records for c in r.claims)
    failed_runs = [r.experiment for _, r in records if r.status != "ok"]
    lines = [
        f"# {title}",
        "",
        f"{len(records)} runs, {passed}/{total} claims passed"
        + (f", failed runs: {', '.join(failed_runs)}" if failed_runs else "")
        + ".",
        "",
    ]
    by_method: dict[str, list] = {}
    for folder, record in records:
        by_method.setdefault(record.experiment.split("/")[0], []).append((folder, record))
    for method, runs in by_method.items():
        lines += [f"## {method}", "", f"Paper: {PAPERS.get(method, 'unknown')}", ""]
        for folder, record in runs:
            lines += run_section(folder, record, out.parent)
    out.write_text("\n".join(lines) + "\n")
    return out
