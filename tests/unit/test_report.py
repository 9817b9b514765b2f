from raylab.records import Claim, ResultRecord, write_record
from raylab.reporting.report import build_report


def test_report_tables_mark_failed_claims_and_failed_runs(tmp_path):
    ok = ResultRecord(
        "specgd/a",
        "r1",
        "ok",
        0,
        {},
        "sha256:1",
        {"m": 1.0},
        [
            Claim.check("c.pass", "value <= 2", 1.0, "<=", 2.0, paper_value=1.21),
            Claim.check("c.fail", "value >= 5", 1.0, ">=", 5.0),
        ],
        artifacts=["plot.png"],
    )
    failed = ResultRecord("specgd/b", "r2", "failed", 0, {}, "sha256:2", error="ValueError: boom")
    write_record(ok, tmp_path / "a")
    write_record(failed, tmp_path / "b")
    text = build_report(tmp_path).read_text()
    assert "2 runs, 1/2 claims passed, failed runs: specgd/b." in text
    assert "| c.pass | value <= 2 | 1.21 | 1 | <= 2 | yes |" in text
    assert "| c.fail | value >= 5 | – | 1 | >= 5 | **NO** |" in text
    assert "![plot.png](a/plot.png)" in text and "ValueError: boom" in text
