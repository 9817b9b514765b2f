"""REPORT.md from a folder of run records: a summary per method, the open claims first, then one
section per run (headline metrics, claims, plots) and one table per Tune sweep.

Only raylab records are read (they carry `schema_version`); other `result.json` files, such as the
per-trial ones Tune writes inside a sweep folder, are skipped, and a broken record is listed rather
than stopping the report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from raylab import RaylabError
from raylab.records import INVARIANT, RESULT_FILE, TIME_NAMESPACE, Claim, ResultRecord, read_record
from raylab.registry import PAPERS, REGISTRY
from raylab.reporting import deviations
from raylab.reporting.html import HTML_FILE, write_html
from raylab.storage import is_uri, join, readable, upload_files

REPORT_FILE = "REPORT.md"
SIZE_DEPENDENT = "not met here (size-dependent)"
MET_OPEN = "met: remove from the open list"
NOT_JUDGED = "not judged"
NEEDS_DATA = "needs your data"
SWEEP_SUMMARY = "tune_summary.json"
HEADLINE_METRICS = 12  # metrics shown per run (eval/ first); the rest stay in result.json


def find_records(root: str | Path) -> tuple[list[tuple[Path, ResultRecord]], list[str]]:
    """Every raylab record under `root`, sorted by experiment, and the records that could not be read."""
    root = Path(root)
    if not root.is_dir():
        raise RaylabError(f"no such results folder: {root}")
    found, broken = [], []
    for path in sorted(root.rglob(RESULT_FILE)):
        if not _is_raylab_record(path):
            continue
        try:
            found.append((path.parent, read_record(path)))
        except RaylabError as exc:
            broken.append(str(exc))
    return sorted(found, key=lambda item: item[1].experiment), broken


def _is_raylab_record(path: Path) -> bool:
    """Ours carry a "schema_version" key; Tune's per-trial result.json (JSON lines) does not. A
    damaged file of ours still names the key, and is then listed as unreadable, not skipped."""
    try:
        return '"schema_version"' in path.read_text(errors="replace")
    except OSError:
        return False


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def claim_status(record: ResultRecord, claim: Claim) -> str:
    """yes / **NO** for claims; "open" for a claim the spec lists as not met at full size, and MET_OPEN
    when a full-size record meets it; SIZE_DEPENDENT for a failing claim whose outcome below full size
    is not evidence (a full-size record judges it: failing there is **NO**); "holds" / **BROKEN** for
    invariants."""
    spec = REGISTRY.get(record.experiment)
    full = record.size == "full"
    if claim.not_judged is not None:
        return f"{NOT_JUDGED} ({claim.not_judged})"
    if claim.kind == INVARIANT:
        return "holds" if claim.passed else "**BROKEN**"
    if spec and claim.id in spec.open_claims:
        return MET_OPEN if full and claim.passed else "open"
    if claim.passed:
        return "yes"
    return SIZE_DEPENDENT if spec and claim.id in spec.size_dependent and not full else "**NO**"


def user_data_command(record: ResultRecord) -> str | None:
    """For a run that stopped because the user's own data is absent (licence-gated or cluster-built:
    the spec's `user_data`), the command that supplies it; None for every other record."""
    spec = REGISTRY.get(record.experiment)
    missing = record.status == "failed" and (record.error or "").startswith("DataMissing:")
    return spec.user_data if spec and spec.user_data and missing else None


def _size_note(record: ResultRecord, claim: Claim) -> str:
    spec = REGISTRY.get(record.experiment)
    return " (size-dependent: judged at full size)" if spec and claim.id in spec.size_dependent else ""


def _provenance(record: ResultRecord) -> str:
    """The record's size and the code it ran: "full size, code 1a2b3c4d5e (uncommitted changes)"."""
    commit = str(record.code.get("commit", "unknown"))
    dirty = " (uncommitted changes)" if record.code.get("dirty") else ""
    return f"{record.size} size, code {commit[:10]}{dirty}"


def _deviation_note(record: ResultRecord, claim: Claim, report_dir: Path) -> str:
    """A link to the README's deviations section when it names this claim."""
    method = record.experiment.split("/", 1)[0]
    section, names = deviations.deviations(method)
    if not section or not deviations.touches(claim.id, names):
        return ""
    return f" ([deviation]({os.path.relpath(deviations.readme(method), report_dir)}#{section}))"


def claims_table(record: ResultRecord, report_dir: Path) -> list[str]:
    lines = ["| claim | kind | statement | paper | ours | bound | status |", "|---|---|---|---|---|---|---|"]
    for c in record.claims:
        statement = _cell(c.statement + _size_note(record, c)) + _deviation_note(record, c, report_dir)
        lines.append(
            f"| {c.id} | {c.kind} | {statement} | {_fmt(c.paper_value)} | "
            f"{_fmt(c.value)} | {c.op} {_fmt(c.threshold)} | {claim_status(record, c)} |"
        )
    return lines


def headline_metrics(record: ResultRecord) -> list[str]:
    names = sorted(
        (n for n in record.metrics if not n.startswith(TIME_NAMESPACE)), key=lambda n: (n[:5] != "eval/", n)
    )
    shown = names[:HEADLINE_METRICS]
    if not shown:
        return []
    lines = ["| metric | value |", "|---|---|"] + [f"| {n} | {_fmt(record.metrics[n])} |" for n in shown]
    more = len(names) - len(shown)
    return lines + (["", f"({more} more in result.json)"] if more else [])


def run_section(folder: Path, record: ResultRecord, report_dir: Path) -> list[str]:
    counts = count_claims([record])
    lines = [
        f"### `{record.experiment}`",
        "",
        f"status **{record.status}**, {_provenance(record)}, seed {record.seed}, {record.wall_s:.1f} s, "
        f"claims passed "
        f"{counts['passed']}/{counts['claims']} ({counts['open']} open), invariants "
        f"{counts['held']}/{counts['invariants']}, config `{record.config_hash[:19]}`, "
        f"folder `{os.path.relpath(folder, report_dir)}`",
        "",
    ]
    if record.error:
        lines += [f"Error: `{record.error}`", ""]
    lines += headline_metrics(record) + [""]
    if record.claims:
        lines += claims_table(record, report_dir) + [""]
    for artifact in record.artifacts:
        if artifact.endswith(".png"):
            lines += [f"![{artifact}]({os.path.relpath(folder / artifact, report_dir)})", ""]
        elif artifact.endswith(".md"):  # a run's own table (e.g. results per variant), inlined
            try:
                lines += [(folder / artifact).read_text().rstrip(), ""]
            except OSError:
                lines += [f"(table `{artifact}` could not be read)", ""]
    return lines


def count_claims(records: list[ResultRecord]) -> dict[str, int]:
    """Claims passed / open / failed / not judged (invariants apart: they hold by construction)."""
    keys = ("claims", "passed", "open", "met_open", "sized", "failed", "unjudged", "invariants", "held")
    counts = dict.fromkeys(keys, 0)
    for record in records:
        for claim in record.claims:
            status = claim_status(record, claim)
            if claim.kind == INVARIANT:
                counts["invariants"] += 1
                counts["held"] += status == "holds"
            else:
                counts["claims"] += claim.not_judged is None  # judged claims: the denominator
                counts["passed"] += status in ("yes", MET_OPEN)
                counts["met_open"] += status == MET_OPEN
                counts["open"] += status == "open"
                counts["sized"] += status == SIZE_DEPENDENT
                counts["failed"] += status == "**NO**"
                counts["unjudged"] += status.startswith(NOT_JUDGED)
    return counts


def summary_table(by_method: dict[str, list[tuple[Path, ResultRecord]]]) -> list[str]:
    lines = [
        "| method | runs | claims passed | open | size-dependent, not met here | failed | invariants held "
        "| wall time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method, runs in by_method.items():
        records = [r for _, r in runs]
        c = count_claims(records)
        lines.append(
            f"| {method} | {len(records)} | {c['passed']}/{c['claims']} | {c['open']} | {c['sized']} | "
            f"{c['failed']} | "
            f"{c['held']}/{c['invariants']} | {sum(r.wall_s for r in records):.0f} |"
        )
    return lines


def open_claims_section(records: list[tuple[Path, ResultRecord]]) -> list[str]:
    rows = [
        f"| `{r.experiment}` | {c.id} | {_cell(c.statement)} | {_fmt(c.value)} | {c.op} {_fmt(c.threshold)} "
        f"| {claim_status(r, c)} |"
        for _, r in records
        for c in r.claims
        if claim_status(r, c) in ("open", MET_OPEN)
    ]
    if not rows:
        return []
    return [
        "## Open claims",
        "",
        "Claims this reproduction does not meet at full size (see each method's README for what was tried).",
        "",
        "| experiment | claim | statement | measured | target | status |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def needs_data_section(needs_data: list[tuple[str, str]]) -> list[str]:
    """The runs that wait for the user's own data, each with the command that supplies it."""
    if not needs_data:
        return []
    rows = [f"| `{experiment}` | `{_cell(command)}` |" for experiment, command in needs_data]
    return [
        "## Needs your data",
        "",
        "These runs need data only you can supply (licence-gated or built on a cluster); they are not "
        "counted as failures.",
        "",
        "| experiment | how to supply it |",
        "|---|---|",
        *rows,
        "",
    ]


def sweep_sections(root: Path, report_dir: Path) -> list[str]:
    """One table per `tune_summary.json` under root: each trial's swept values and metric."""
    lines = []
    for path in sorted(root.rglob(SWEEP_SUMMARY)):
        try:
            summary = json.loads(path.read_text())
            trials = summary["trials"]
        except (OSError, ValueError, KeyError, TypeError):
            lines += [f"Sweep summary `{path}` could not be read.", ""]
            continue
        keys = list(trials[0]["config"]) if trials else []
        lines += [
            f"### sweep `{summary.get('experiment', '?')}` ({os.path.relpath(path.parent, report_dir)})",
            "",
            f"{len(trials)} trials, metric `{summary.get('metric')}` ({summary.get('mode')}); best "
            f"{_fmt(summary.get('best_value'))} with `{summary.get('best_values')}`",
            "",
            "| " + " | ".join(keys + [str(summary.get("metric")), "error"]) + " |",
            "|" + "---|" * (len(keys) + 2),
        ]
        for t in trials:
            values = [_cell(_fmt(t["config"].get(k))) for k in keys]
            lines.append(
                "| " + " | ".join(values + [_fmt(t.get("metric")), _cell(t.get("error") or "")]) + " |"
            )
        lines.append("")
    return lines


def _readme_link(method: str, report_dir: Path) -> str:
    readme, section = deviations.readme(method), deviations.deviations(method)[0]
    if not readme.exists():
        return ""
    link = os.path.relpath(readme, report_dir)
    return f"[README]({link})" + (f", [deviations]({link}#{section})" if section else "")


def build_report_at(root: str | Path, title: str = "raylab report") -> str | Path:
    """`build_report` for a folder or a storage URI (read into a local copy; REPORT.md and index.html
    uploaded back beside the records)."""
    if not is_uri(root):
        return build_report(root, title=title)
    with readable(root) as local:
        report = build_report(local, title=title)
        upload_files([report, report.with_name(HTML_FILE)], str(root))
    return join(root, REPORT_FILE)


def build_report(root: str | Path, out: str | Path | None = None, title: str = "raylab report") -> Path:
    """Write REPORT.md (default: `root/REPORT.md`) from the records and sweep summaries under `root`,
    and index.html beside it (the same, plots inlined)."""
    root = Path(root)
    out = Path(out) if out else root / REPORT_FILE
    records, broken = find_records(root)
    sweeps = sweep_sections(root, out.parent)
    if not records and not sweeps:
        raise RaylabError(f"no raylab {RESULT_FILE} or {SWEEP_SUMMARY} under {root}")
    by_method: dict[str, list[tuple[Path, ResultRecord]]] = {}
    for folder, record in records:
        by_method.setdefault(record.experiment.split("/")[0], []).append((folder, record))
    totals = count_claims([r for _, r in records])
    needs_data = [(r.experiment, command) for _, r in records if (command := user_data_command(r))]
    failed_runs = [r.experiment for _, r in records if r.status != "ok" and not user_data_command(r)]
    lines = [
        f"# {title}",
        "",
        f"{len(records)} runs: {totals['passed']}/{totals['claims']} claims passed, {totals['open']} open, "
        f"{totals['sized']} size-dependent not met here, {totals['failed']} failed; "
        f"{totals['held']}/{totals['invariants']} invariants hold"
        + (f"; {totals['met_open']} open claims met ({MET_OPEN})" if totals["met_open"] else "")
        + (f"; {totals['unjudged']} claims {NOT_JUDGED}" if totals["unjudged"] else "")
        + (f"; failed runs: {', '.join(failed_runs)}" if failed_runs else "")
        + (f"; {NEEDS_DATA}: {', '.join(e for e, _ in needs_data)}" if needs_data else "")
        + ".",
        "",
        *(summary_table(by_method) if records else []),
        "",
        *([f"Unreadable records: {'; '.join(broken)}", ""] if broken else []),
        *needs_data_section(needs_data),
        *open_claims_section(records),
    ]
    for method, runs in by_method.items():
        lines += [
            f"## {method}",
            "",
            f"Paper: {PAPERS.get(method, 'unknown')}. {_readme_link(method, out.parent)}",
            "",
        ]
        for folder, record in runs:
            lines += run_section(folder, record, out.parent)
    if sweeps:
        lines += ["## Sweeps", "", *sweeps]
    out.write_text("\n".join(lines) + "\n")
    write_html(out)
    return out
