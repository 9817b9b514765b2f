"""Work that Ray's memory monitor kills ends the run with a record saying so in one line: which
item, how much memory, the knob to change; not a generic worker-died error or a retry loop."""

import json
import subprocess
import sys
from pathlib import Path

JOB = Path(__file__).with_name("memory_kill_job.py")


def test_a_map_item_killed_by_the_memory_monitor_is_named_in_the_record(tmp_path):
    done = subprocess.run(
        [sys.executable, str(JOB), str(tmp_path / "run")], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(done.stdout.split("RECORD ", 1)[1].splitlines()[0])
    assert record["status"] == "failed"
    error = record["error"]
    assert "\n" not in error and len(error) < 600, error
    assert error.startswith("ItemError: hog: item ") and "200" in error
    assert "killed by Ray's memory monitor: the node used " in error and "GB of " in error
    assert "over its 1.0% threshold" in error and "RAY_memory_usage_threshold" in error
