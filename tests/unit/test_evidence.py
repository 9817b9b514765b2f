"""The committed full-size results (docs/results) are today's evidence: each record a full-size run of
today's full config whose failing claims are exactly its experiment's open claims; and the judgement
fails on doctored records."""

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from raylab import RaylabError
from raylab.cli import main
from raylab.config import config_hash
from raylab.records import Claim, ResultRecord, read_record, write_record
from raylab.registry import get_spec
from raylab.reporting.evidence import check, judge, record_problems
from raylab.runner import load_run_config

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"


def full_record(name: str, claims: list[Claim], seed: int = 0) -> ResultRecord:
    cfg = load_run_config(get_spec(name), seed=seed)
    return ResultRecord(name, "r", "ok", seed, {}, config_hash(cfg), {"eval/x": 1.0}, claims, size="full")


def failing_open_claims(name: str) -> list[Claim]:
    """A full-size run's claims as the spec expects them: each open claim recorded failing."""
    return [
        Claim.check(i, "measured short of its target", 0.0, ">=", 1.0) for i in get_spec(name).open_claims
    ]


def test_the_committed_results_are_todays_full_size_evidence():
    problems, missing = judge(RESULTS)
    assert problems == [], "\n".join(problems)
    committed = {read_record(p).experiment for p in RESULTS.rglob("result.json")}
    assert committed and not set(missing) & committed


def test_a_record_of_todays_full_config_failing_exactly_its_open_claims_is_evidence(tmp_path):
    claims = [*failing_open_claims("autodp/fact_qa"), Claim.check("beats_raw", "wins", 0.7, ">", 0.5)]
    assert record_problems(tmp_path, full_record("autodp/fact_qa", claims, seed=3)) == []


@pytest.mark.parametrize(
    "doctor, complaint",
    [
        (lambda r: dataclasses.replace(r, config_hash="sha256:0"), "stale, its config sha256:0"),
        (lambda r: dataclasses.replace(r, size="smoke"), "a smoke-size run"),
        (lambda r: dataclasses.replace(r, status="failed"), "status failed"),
        (
            lambda r: dataclasses.replace(r, claims=r.claims[1:]),
            r"failing claims \[.*\] differ from its open",
        ),
        (
            lambda r: dataclasses.replace(
                r, claims=[*r.claims, Claim.check("beats_raw", "s", 0.1, ">", 0.5)]
            ),
            r"failing claims \['beats_raw', ",
        ),
        (
            lambda r: dataclasses.replace(
                r, claims=[*r.claims, dataclasses.replace(Claim.invariant("i", "s", 1, "<=", 0))]
            ),
            r"invariants broken: \['i'\]",
        ),
    ],
)
def test_a_doctored_record_fails_the_judgement_with_the_command_that_refreshes_it(
    tmp_path, doctor, complaint
):
    good = full_record("autodp/fact_qa", failing_open_claims("autodp/fact_qa"))
    write_record(doctor(good), tmp_path / "autodp" / "fact_qa")
    problems, _ = judge(tmp_path)
    assert len(problems) == 1 and re.search(complaint, problems[0]), problems
    with pytest.raises(RaylabError, match="not today's full-size evidence"):
        check(tmp_path)


def test_report_check_names_every_experiment_without_a_record(tmp_path, capsys):
    write_record(full_record("autodp/fact_qa", failing_open_claims("autodp/fact_qa")), tmp_path / "a")
    gated = dataclasses.replace(full_record("abaw/affwild2", []), status="failed", error="DataMissing: x")
    write_record(gated, tmp_path / "g")  # waits for the user's data: neither evidence nor a problem
    assert main(["report", str(tmp_path), "--check"]) == 2
    error = capsys.readouterr().err
    missing = error.split("no full-size record of ", 1)[1].split(" (run:", 1)[0].split(", ")
    assert "specgd/misalignment" in missing and "autodp/text_cls" in missing
    assert "autodp/fact_qa" not in missing
    assert "abaw/affwild2" not in error  # the user's own data: not expected here


def test_the_committed_folder_fails_the_check_once_a_record_is_doctored(tmp_path):
    shutil.copytree(RESULTS, tmp_path / "results")
    path = next((tmp_path / "results").rglob("result.json"))
    record = read_record(path)
    write_record(dataclasses.replace(record, config_hash="sha256:doctored"), path.parent)
    problems, _ = judge(tmp_path / "results")
    assert any(f"{record.experiment}: stale" in p for p in problems)
