"""S2O on Tune: a smoke sweep of one-cell trials whose trial process is killed (SIGKILL) after its
second epoch's checkpoint; Tune retries it from that checkpoint and the trial ends with the metrics
of an uninterrupted run."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from raylab.config import apply_values, from_dict, to_dict
from raylab.context import SerialMapper
from raylab.records import TIME_NAMESPACE, read_record
from raylab.registry import configs_dir, get_spec
from raylab.runner import load_run_config, run_experiment
from raylab.runtime.tune import load_sweep, run_sweep

pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]


def kill_trial_after(checkpoint: str, root: Path, killed: list, timeout: float = 300) -> None:
    """SIGKILL the first Tune trial process once any trial has written `checkpoint`."""
    deadline = time.time() + timeout
    while time.time() < deadline and not killed:
        if any(root.rglob(f"run/checkpoints/{checkpoint}/state.pkl")):
            time.sleep(0.5)  # let the trial report the checkpoint to Tune
            for proc in psutil.process_iter(["pid", "cmdline"]):
                if "ray::ImplicitFunc" in " ".join(proc.info["cmdline"] or []):
                    os.kill(proc.info["pid"], signal.SIGKILL)
                    killed.append(proc.info["pid"])
                    return
        time.sleep(0.2)


def test_a_killed_trial_resumes_from_its_epoch_checkpoint(ray_cluster, tmp_path):
    spec = get_spec("s2o/mnist_at")
    base = load_run_config(spec, smoke=True)
    sweep = load_sweep(configs_dir() / "s2o/sweeps/variants.yaml", smoke=True)
    sweep.space = {"variants": {"grid": [["at_s2o"]]}, "replicates": {"grid": [1]}}
    sweep.max_failures = 1
    killed: list[int] = []
    watcher = threading.Thread(target=kill_trial_after, args=("step_00000001", tmp_path, killed))
    watcher.start()
    summary = run_sweep(spec, base, sweep, tmp_path)
    watcher.join()
    assert killed, "no trial process was found to kill"

    trial = summary["trials"][0]
    assert trial["error"] is None and summary["num_errors"] == 0
    record = read_record(trial["record"])
    steps = [
        json.loads(line).get("step")
        for line in (Path(trial["record"]) / "metrics.jsonl").read_text().splitlines()
    ]
    epochs = [s for s in steps if s is not None]
    assert epochs[:2] == [0, 1] and 0 not in epochs[2:], f"the retry restarted from scratch: {epochs}"

    cfg = from_dict(type(base), apply_values(to_dict(base), trial["config"], type(base), "test"), "test")
    reference = run_experiment(spec, cfg, tmp_path / "uninterrupted", mapper=SerialMapper(progress=False))
    untimed = {k: v for k, v in reference.metrics.items() if not k.startswith(TIME_NAMESPACE)}
    assert {k: v for k, v in record.metrics.items() if not k.startswith(TIME_NAMESPACE)} == untimed
    assert record.metrics["eval/cell/pgd20"] == reference.metrics["eval/at_s2o/pgd20"]
