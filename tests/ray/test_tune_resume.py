"""Driver loss: `raylab tune ... --resume DIR` continues a sweep whose `raylab tune`
process was SIGKILLed mid-sweep; finished trials are not rerun and the summary has every trial."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from raylab.records import read_record

pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]

SWEEP = """
metric: train/norm
mode: min
num_samples: 1
max_concurrent_trials: 1
space:
  seed: {grid: [0, 1, 2, 3]}
resources_per_trial: {cpu: 1}
"""


def tune_command(sweep: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "raylab", "tune", "label_noise/single", "--sweep", str(sweep)] + [
        "--set", "train.steps=30000", *extra,
    ]  # fmt: skip


def finished_trials(out: Path) -> list[dict]:
    try:
        summary = json.loads((out / "tune_summary.json").read_text())
    except (OSError, ValueError):
        return []
    return [t for t in summary["trials"] if t["status"] == "TERMINATED"]


def test_a_killed_sweep_resumes_without_rerunning_finished_trials(tmp_path):
    sweep, out = tmp_path / "sweep.yaml", tmp_path / "sweep"
    sweep.write_text(SWEEP)
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    driver = subprocess.Popen(
        tune_command(sweep, "--out", str(out)), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.time() + 300
        while time.time() < deadline and not finished_trials(out):
            time.sleep(0.5)
        assert driver.poll() is None, "the sweep ended before it could be killed"
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
    before = {
        path.parent.parent.name: read_record(path.parent).run_id
        for path in out.glob("tune/*/run/result.json")
        if read_record(path.parent).status == "ok"
    }
    assert 1 <= len(before) < 4, before
    resumed = subprocess.run(
        tune_command(sweep, "--resume", str(out)), env=env, capture_output=True, text=True, timeout=400
    )
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    summary = json.loads((out / "tune_summary.json").read_text())
    assert summary["status"] == "done" and summary["num_trials"] == 4 and summary["num_errors"] == 0
    assert sorted(t["config"]["seed"] for t in summary["trials"]) == [0, 1, 2, 3]
    after = {
        path.parent.parent.name: read_record(path.parent).run_id
        for path in out.glob("tune/*/run/result.json")
    }
    assert {name: after[name] for name in before} == before, "a finished trial was run again"
    assert len(after) == 4
