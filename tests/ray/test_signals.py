"""SIGTERM (what `ray job stop`, Kubernetes and batch schedulers send) stops `raylab run` like Ctrl-C:
a record with status "interrupted" and the metrics so far, exit code 143 (issue #19)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.timeout(300)]


def test_sigterm_leaves_an_interrupted_record_with_the_metrics_so_far(tmp_path):
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    cmd = [sys.executable, "-m", "raylab", "run", "label_noise/single", "--set", "train.steps=50000000"]
    proc = subprocess.Popen(
        [*cmd, "--out", str(tmp_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    metrics = tmp_path / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (metrics.exists() and metrics.stat().st_size > 0):
        time.sleep(0.2)  # the embedded Ray is up and the loop is reporting
    assert proc.poll() is None, proc.stdout.read().decode()
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 143, out
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["status"] == "interrupted" and record["error"] == "Terminated: SIGTERM"
    assert record["metrics"], "the metrics reported before the signal are in the record"
    assert "terminated (SIGTERM)" in out
