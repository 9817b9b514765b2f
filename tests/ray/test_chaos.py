"""The chaos run (benchmarks/chaos.py) on a local head and two worker nodes, in two parts, each on a
cluster of its own: a smoke reproduction with an actor-pool fan-out and a task fan-out, and a Tune
sweep. Each part runs undisturbed, then while worker nodes are SIGKILLed (the first 5-10 s in, then
every 20-30 s) and replaced; it must end with every record ok and whole, the same results as the
undisturbed pass, and no process of the cluster left (about a minute each on 2 cores)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "chaos.py"


@pytest.mark.parametrize("part", ["reproduce", "tune"])
def test_a_reproduction_survives_a_node_killer(part, tmp_path):
    report_file = tmp_path / "chaos.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--part", part, "--out", str(tmp_path / "out"),
         "--json", str(report_file)],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert report_file.exists(), done.stdout[-4000:] + done.stderr[-4000:]
    report = json.loads(report_file.read_text())
    print(json.dumps({k: v for k, v in report.items() if k != "out"}))
    assert report["parts"] == [part]
    assert report["nodes_killed"] >= 1 and not report["kill_failures"], report
    assert report["all_ok"] and report["none_half_written"], done.stdout[-4000:]
    assert report["equal_to_undisturbed"], report
    assert report["leftover_processes"] == []
    assert done.returncode == 0
