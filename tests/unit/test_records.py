import dataclasses
import json
import math
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from raylab import RaylabError
from raylab.records import (
    INVARIANT,
    Claim,
    ClaimRow,
    ResultRecord,
    claim_table,
    judge_table,
    read_record,
    write_record,
)
from raylab.registry import ExperimentSpec
from raylab.runner import TRACEBACK_FILE, run_experiment


def make_record(**kw):
    base = dict(
        experiment="m/e",
        run_id="r",
        status="ok",
        seed=0,
        config={"seed": 0},
        config_hash="sha256:x",
        metrics={"a": 1.5, "inf": math.inf},
        claims=[Claim.check("c1", "a <= 2", 1.5, "<=", 2)],
    )
    return ResultRecord(**{**base, **kw})


def test_claim_check_ops_and_nan():
    assert Claim.check("x", "", 1.0, "<=", 1.0).passed
    assert not Claim.check("x", "", 1.0, "<", 1.0).passed
    assert Claim.check("x", "", 3.0, ">=", 2.0).passed
    assert not Claim.check("x", "", math.nan, ">=", 0.0).passed
    assert not Claim.check("x", "", math.nan, "<=", 0.0).passed


def test_worst_case_judges_the_worst_seed():
    assert Claim.worst_case("x", "", [0.1, 0.4, 0.2], "<=", 0.3).value == 0.4
    assert Claim.worst_case("x", "", [5.0, 2.0], ">=", 1.0) == Claim.check("x", "", 2.0, ">=", 1.0)
    assert not Claim.worst_case("x", "", [0.1, math.nan], "<=", 1.0).passed


def test_a_claim_table_judges_numbers_and_worst_seeds_and_leaves_out_what_was_not_computed():
    table = claim_table(
        ClaimRow("bound", "err", "<=", 0.3, "err <= 0.3"),
        ClaimRow("floor", "acc", ">=", 0.5, "acc >= 0.5", kind=INVARIANT),
        ClaimRow("absent", "never", "<", 1.0, "not run"),
    )
    claims = judge_table(table, {"err": np.array([0.1, 0.4]), "acc": np.float64(0.7)})
    assert [c.id for c in claims] == ["bound", "floor"]
    assert claims[0] == Claim.worst_case("bound", "err <= 0.3", [0.1, 0.4], "<=", 0.3)
    assert not claims[0].passed and claims[1].passed and claims[1].kind == INVARIANT
    assert judge_table(table, {"err": 0.2})[0].passed
    assert not judge_table(table, {"err": [0.2, math.nan]})[0].passed
    unjudged = table[0].unjudged("no data")
    assert unjudged.not_judged == "no data" and not unjudged.passed and math.isnan(unjudged.value)


def test_a_claim_table_refuses_ids_defined_twice_and_unknown_comparisons():
    with pytest.raises(ValueError, match="twice.*'a'"):
        claim_table(ClaimRow("a", "x", "<", 1, ""), ClaimRow("a", "y", ">", 0, ""))
    with pytest.raises(ValueError, match="comparison '=<'"):
        claim_table(ClaimRow("a", "x", "=<", 1, ""))
    with pytest.raises(ValueError, match="kind 'fact'"):
        claim_table(ClaimRow("a", "x", "<", 1, "", kind="fact"))


def test_record_round_trip_is_strict_json_and_atomic(tmp_path):
    write_record(make_record(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temp file left behind
    data = json.loads((tmp_path / "result.json").read_text())  # strict JSON: inf as a string
    assert data["metrics"]["inf"] == "inf" and data["schema_version"] == 1
    back = read_record(tmp_path)
    assert back.metrics == {"a": 1.5, "inf": math.inf}  # and back to a float
    assert back.claims[0] == make_record().claims[0] and back.claims_passed


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_records_get_the_mode_of_the_umask_not_0600(tmp_path, umask):
    """Shared storage: other users and the dashboard host must read records when the umask says so."""
    old = os.umask(umask)
    try:
        write_record(make_record(), tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "result.json").stat().st_mode) == 0o666 & ~umask


KILL_WRITER = """
import sys
from raylab.records import write_json_atomic
big = {"rows": list(range(200_000)), "tag": ""}
i = 0
while True:
    big["tag"] = str(i)
    write_json_atomic(sys.argv[1], big)
    i += 1
"""


def test_a_writer_killed_mid_write_leaves_a_whole_record(tmp_path):
    """SIGKILL a process that rewrites a ~1.5 MB record in a loop, at several moments: the file is
    always complete JSON (the old or the new version), never truncated."""
    target = tmp_path / "result.json"
    for delay in (0.3, 0.45, 0.6, 0.75):
        child = subprocess.Popen([sys.executable, "-c", KILL_WRITER, str(target)])
        time.sleep(delay)
        child.kill()
        child.wait()
        if target.exists():
            data = json.loads(target.read_text())
            assert len(data["rows"]) == 200_000


def test_broken_records_are_named(tmp_path):
    (tmp_path / "result.json").write_text("{not json")
    with pytest.raises(RaylabError, match=r"result\.json: not valid JSON"):
        read_record(tmp_path)
    (tmp_path / "result.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(RaylabError, match="schema_version 99"):
        read_record(tmp_path)


def failing_entry(cfg, ctx):
    ctx.report({"train/loss": 0.5}, step=1)
    raise RuntimeError("diverged at step 2")


@dataclasses.dataclass
class TinyConfig:
    seed: int = 3


def test_failed_run_still_writes_a_record_with_the_metrics_so_far(tmp_path):
    spec = ExperimentSpec(
        "m/fail",
        "fails",
        config_cls="tests.unit.test_records:TinyConfig",
        entry="tests.unit.test_records:failing_entry",
    )
    record = run_experiment(spec, TinyConfig(), tmp_path)
    on_disk = read_record(tmp_path)
    assert record.status == on_disk.status == "failed"
    assert on_disk.error == "RuntimeError: diverged at step 2"
    assert on_disk.metrics == {"train/loss": 0.5} and on_disk.seed == 3
    assert "diverged" in (tmp_path / TRACEBACK_FILE).read_text()
    assert json.loads((tmp_path / "metrics.jsonl").read_text()) == {"step": 1, "train/loss": 0.5}


def interrupted_entry(cfg, ctx):
    ctx.report({"train/loss": 0.25}, step=7)
    raise KeyboardInterrupt


def test_interrupted_run_records_what_it_had_and_reraises(tmp_path):
    spec = ExperimentSpec(
        "m/stop",
        "stops",
        config_cls="tests.unit.test_records:TinyConfig",
        entry="tests.unit.test_records:interrupted_entry",
    )
    with pytest.raises(KeyboardInterrupt):
        run_experiment(spec, TinyConfig(), tmp_path)
    record = read_record(tmp_path)
    assert record.status == "interrupted" and record.metrics == {"train/loss": 0.25}


def test_a_record_carries_its_size_code_and_machine_through_json(tmp_path):
    from raylab.records import code_version, machine_info

    rec = ResultRecord("x/y", "r", "ok", 0, {}, "sha256:1", size="full")
    rec.code, rec.machine = code_version(Path(__file__).parent), machine_info()
    write_record(rec, tmp_path)
    back = read_record(tmp_path)
    assert back.size == "full" and back.code == rec.code and back.machine["cpus"] == os.cpu_count()
    assert len(back.code["commit"]) == 40 and isinstance(back.code["dirty"], bool)  # this checkout
    assert code_version(tmp_path) == {"commit": "unknown", "dirty": None}  # not a git checkout


def test_code_is_dirty_when_a_file_outside_the_results_folder_changes(tmp_path):
    """A reproduction writes its records into the committed results folder as it goes: those changes
    leave the next run's code clean; any other change, tracked or untracked, makes it dirty."""
    from raylab.records import RESULTS_DIR, code_version

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "src.py").write_text("x = 1\n")
    (tmp_path / RESULTS_DIR / "m" / "e").mkdir(parents=True)
    (tmp_path / RESULTS_DIR / "m" / "e" / "result.json").write_text("{}\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    package = tmp_path / RESULTS_DIR  # any folder of the checkout: the whole tree is judged
    assert code_version(package)["dirty"] is False
    (tmp_path / RESULTS_DIR / "m" / "e" / "result.json").write_text('{"a": 1}\n')
    (tmp_path / RESULTS_DIR / "m" / "new").mkdir()
    (tmp_path / RESULTS_DIR / "m" / "new" / "result.json").write_text("{}\n")
    assert code_version(package)["dirty"] is False
    (tmp_path / "notes.txt").write_text("untracked\n")
    assert code_version(package)["dirty"] is True
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "src.py").write_text("x = 2\n")
    assert code_version(package)["dirty"] is True
