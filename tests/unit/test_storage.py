"""Results on storage URIs (tested with file://, which goes through the same pyarrow filesystem
layer as s3:// or gs://): runs stage locally and upload, the report and --resume read through it,
and nothing is written into a folder literally named after the scheme."""

import json
import math
from pathlib import Path

import pytest

from raylab import RaylabError, cli
from raylab.records import read_record
from raylab.registry import ExperimentSpec
from raylab.runner import run_experiment
from raylab.storage import is_uri, join, staged
from tests.unit.test_records import TinyConfig, failing_entry  # noqa: F401 - the spec's entry


def uri(path: Path) -> str:
    return f"file://{path}"


def test_uris_stay_strings_and_join_with_slashes(tmp_path):
    assert is_uri("s3://bucket/x") and not is_uri(str(tmp_path)) and not is_uri(tmp_path)
    assert join("s3://bucket/x/", "a", "b") == "s3://bucket/x/a/b"
    assert join(tmp_path, "a") == tmp_path / "a"


def test_a_run_into_a_uri_is_uploaded_and_no_scheme_folder_appears(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "bucket" / "run"
    assert cli.main(["run", "specgd/trajectory", "--smoke", "--serial", "--out", uri(target)]) == 0
    record = read_record(target)
    assert record.status == "ok" and (target / "metrics.jsonl").stat().st_size > 0
    assert f"record: {uri(target)}/result.json" in capsys.readouterr().out
    assert not (tmp_path / "file:").exists()


def test_a_failed_run_into_a_uri_still_uploads_its_record(tmp_path):
    spec = ExperimentSpec(
        "m/fail", "", "tests.unit.test_records:TinyConfig", "tests.unit.test_records:failing_entry"
    )
    record = run_experiment(spec, TinyConfig(), uri(tmp_path / "run"))
    assert record.status == "failed"
    assert read_record(tmp_path / "run").error == "RuntimeError: diverged at step 2"


def test_a_reproduction_on_a_uri_writes_its_report_there_and_resumes_from_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = uri(tmp_path / "results")
    args = ["reproduce", "--smoke", "--serial", "--only", "specgd/finite_sample", "--out", out]
    assert cli.main(args) == 0
    first = read_record(tmp_path / "results" / "specgd/finite_sample")
    assert "specgd/finite_sample" in (tmp_path / "results" / "REPORT.md").read_text()
    assert (tmp_path / "results" / "index.html").exists()
    capsys.readouterr()
    assert cli.main([*args, "--resume"]) == 0
    assert "kept (--resume" in capsys.readouterr().out
    assert read_record(tmp_path / "results" / "specgd/finite_sample").run_id == first.run_id


def test_staging_resumes_from_what_the_uri_holds(tmp_path):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "state.pkl").write_bytes(b"saved")
    with staged(uri(tmp_path / "run")) as local:
        assert (local / "checkpoints" / "state.pkl").read_bytes() == b"saved"
        (local / "metrics.jsonl").write_text(json.dumps({"x": math.pi}) + "\n")
    assert json.loads((tmp_path / "run" / "metrics.jsonl").read_text())["x"] == math.pi


def test_a_uri_no_filesystem_can_open_is_one_clear_error(tmp_path):
    with pytest.raises(RaylabError, match="nosuch://bucket/run: not a storage URI pyarrow can open"):
        with staged("nosuch://bucket/run"):
            pass
