"""Bad input gives a one-line error and a non-zero exit; run/show/report work end to end."""

import json
import subprocess
import sys

import pytest


def raylab(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "raylab.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("raylab: error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_config_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 0\nstepz: 3\n")
    assert_one_line_error(raylab("show", "specgd/trajectory", "--config", str(bad)), "bad.yaml", "stepz")


def test_wrong_type_in_set():
    assert_one_line_error(
        raylab("run", "specgd/trajectory", "--serial", "--set", "steps=many"),
        "--set steps=many",
        "expected int",
    )


def test_unknown_experiment():
    assert_one_line_error(raylab("run", "specgd/nope", "--serial"), "unknown experiment 'specgd/nope'")


@pytest.mark.parametrize("verb", ["run", "submit"])
def test_unreachable_address(verb):
    address = "127.0.0.1:1" if verb == "run" else "http://127.0.0.1:1"
    result = raylab(verb, "specgd/trajectory", "--smoke", "--address", address)
    assert_one_line_error(result, address)


def test_show_resolves_smoke_and_overrides():
    result = raylab("show", "specgd/trajectory", "--smoke", "--set", "lr.specgd=0.02")
    assert result.returncode == 0
    assert "steps: 120" in result.stdout and "specgd: 0.02" in result.stdout


def test_serial_run_then_report(tmp_path):
    out = tmp_path / "run"
    result = raylab("run", "specgd/trajectory", "--smoke", "--serial", "--out", str(out))
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "result.json").read_text())
    assert record["status"] == "ok" and record["experiment"] == "specgd/trajectory"
    assert raylab("report", str(tmp_path)).returncode == 0
    report = (tmp_path / "REPORT.md").read_text()
    assert "specgd/trajectory" in report and "S3-c.specgd_spike" in report
    assert_one_line_error(raylab("report", str(tmp_path / "empty")), "no such results folder")
