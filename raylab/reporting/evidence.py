"""A folder of committed full-size results judged against today's code and configs.

A record is evidence for today's experiment only if it is a full-size run that finished, of today's
full config (same config hash for its seed), whose failing claims are exactly the experiment's open
claims (size-dependent ones included: at full size they are judged) and whose invariants hold. The
smoke conformance test cannot make this judgement; `raylab report DIR --check` and the test of the
repository's docs/results make it on the records, with no run.
"""

from __future__ import annotations

from pathlib import Path

from raylab import RaylabError
from raylab.config import config_hash
from raylab.records import CLAIM, INVARIANT, ResultRecord
from raylab.registry import REGISTRY, all_specs
from raylab.reporting.report import find_records, user_data_command


def refresh_command(root: str | Path, experiment: str) -> str:
    return f"raylab reproduce --out {root} --resume --only {experiment}"


def record_problems(root: str | Path, record: ResultRecord) -> list[str]:
    """What keeps one record from being today's full-size evidence (empty: nothing)."""
    from raylab.runner import load_run_config

    spec = REGISTRY.get(record.experiment)
    if spec is None:
        return [f"{record.experiment}: no such experiment today"]
    refresh = f"(refresh: {refresh_command(root, record.experiment)})"
    if record.size != "full" or record.status != "ok":
        return [f"{record.experiment}: a {record.size}-size run with status {record.status} {refresh}"]
    today = config_hash(load_run_config(spec, seed=record.seed))
    if record.config_hash != today:
        return [
            f"{record.experiment}: stale, its config {record.config_hash[:19]} is not today's full "
            f"config {today[:19]} {refresh}"
        ]
    problems = []
    unjudged = sorted(c.id for c in record.claims if c.not_judged is not None)
    if unjudged:
        problems.append(f"{record.experiment}: claims not judged: {unjudged} (install what they need)")
    failing = sorted(c.id for c in record.claims if c.kind == CLAIM and not c.passed and c.not_judged is None)
    if failing != sorted(spec.open_claims):
        problems.append(
            f"{record.experiment}: failing claims {failing} differ from its open claims "
            f"{sorted(spec.open_claims)} (a claim that fails at full size is open; one that passes "
            "leaves the list)"
        )
    broken = sorted(c.id for c in record.claims if c.kind == INVARIANT and not c.passed)
    if broken:
        problems.append(f"{record.experiment}: invariants broken: {broken}")
    return problems


def judge(root: str | Path) -> tuple[list[str], list[str]]:
    """(problems, missing): what is wrong with the records under `root`, and the reproduction-set
    experiments (bar those that need the user's own data) that have no record there."""
    records, broken = find_records(root)
    problems = [f"unreadable record: {b}" for b in broken]
    records = [(folder, r) for folder, r in records if not user_data_command(r)]  # not evidence, not wrong
    for _, record in records:
        problems += record_problems(root, record)
    seen = [r.experiment for _, r in records]
    problems += [
        f"{name}: {seen.count(name)} records (one per experiment)"
        for name in sorted(set(seen))
        if seen.count(name) > 1
    ]
    missing = [s.name for s in all_specs() if s.reproduce and not s.user_data and s.name not in seen]
    return problems, missing


def check(root: str | Path) -> None:
    """Raise a RaylabError listing every problem; print nothing when the folder is today's evidence."""
    problems, missing = judge(root)
    if missing:
        problems.append(
            f"no full-size record of {', '.join(missing)} "
            f"(run: raylab reproduce --out {root} --resume --only {','.join(missing)})"
        )
    if problems:
        raise RaylabError(f"{root}: not today's full-size evidence:\n  " + "\n  ".join(problems))
