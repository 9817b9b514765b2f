"""A run whose map items Ray's memory monitor kills: started in a fresh process, since the monitor's
threshold is read when Ray starts. Prints one `RECORD {...}` line that tests/ray/test_memory_kill.py
reads."""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ["RAY_memory_usage_threshold"] = "0.01"  # below what Ray itself uses: every item is killed
os.environ["RAY_memory_monitor_refresh_ms"] = "100"
os.environ["RAY_task_oom_retry_delay_base_ms"] = "100"

from raylab.registry import ExperimentSpec  # noqa: E402
from raylab.runner import run_experiment  # noqa: E402
from raylab.runtime.cluster import ray_session  # noqa: E402
from raylab.runtime.parallel import RayMapper  # noqa: E402
from tests.unit.test_records import TinyConfig  # noqa: E402


def hog(megabytes: int) -> int:
    held = bytearray(megabytes * 1024**2)
    time.sleep(20)
    return len(held)


def mapping_entry(cfg, ctx):
    ctx.map(hog, [200, 200], name="hog")
    raise AssertionError("the memory monitor should have killed the items")


def main() -> None:
    spec = ExperimentSpec(
        "m/memory", "", "tests.unit.test_records:TinyConfig", "tests.ray.memory_kill_job:mapping_entry"
    )
    with ray_session(num_cpus=2, log_to_driver=False):
        record = run_experiment(spec, TinyConfig(), sys.argv[1], mapper=RayMapper(progress=False))
    print("RECORD " + json.dumps({"status": record.status, "error": record.error}))


if __name__ == "__main__":
    main()
