"""The cluster user's path on a local head with no CPUs and one worker node: a run's loop is a Ray
task on the worker (the driver needs no CPU), a reproduction runs its experiments at once with the
same numbers as one after another, and a job's driver reserves the resources `submit` asks for."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ray.util.state import list_nodes, list_tasks

from raylab.records import read_record
from raylab.runtime import jobs
from raylab.runtime.local_nodes import LocalCluster, wait_for

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def headless_cluster(tmp_path_factory):
    cluster = LocalCluster(tmp_path_factory.mktemp("ray-nodes"), head_cpus=0)
    try:
        cluster.add_worker(cpus=2)
        yield cluster
    finally:
        assert cluster.stop() == []


def raylab(*args):
    return subprocess.run(
        [sys.executable, "-m", "raylab", *args], capture_output=True, text=True, cwd=ROOT, timeout=400
    )


def numbers(record):
    return (
        {k: v for k, v in record.metrics.items() if not k.startswith("time/")},
        [(c.id, c.value, c.passed) for c in record.claims],
    )


def test_a_runs_loop_is_a_task_on_the_worker_node(headless_cluster, tmp_path):
    done = raylab(
        "run",
        "specgd/finite_sample",
        "--smoke",
        "--address",
        headless_cluster.address,
        "--out",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert read_record(tmp_path).status == "ok"
    head = {n.node_id for n in list_nodes(address=headless_cluster.url) if n.is_head_node}
    finished = [("name", "=", "specgd/finite_sample-run"), ("state", "=", "FINISHED")]
    # task events reach the dashboard within a few seconds of the task's end
    (loop,) = wait_for(
        lambda: list_tasks(address=headless_cluster.url, filters=finished), 60, "the loop's task"
    )
    assert loop.node_id not in head


def test_a_reproduction_runs_its_experiments_at_once_with_the_sequential_numbers(headless_cluster, tmp_path):
    only = "specgd/finite_sample,faa/shapes,label_noise/periodic"
    together = raylab(
        "reproduce",
        "--smoke",
        "--only",
        only,
        "--address",
        headless_cluster.address,
        "--out",
        str(tmp_path / "c"),
    )
    assert together.returncode == 0, together.stderr[-3000:]
    assert "reproduce: 3 experiments, up to 3 at once" in together.stdout
    serial = raylab("reproduce", "--smoke", "--only", only, "--serial", "--out", str(tmp_path / "s"))
    assert serial.returncode == 0, serial.stderr[-3000:]
    for name in only.split(","):
        assert numbers(read_record(tmp_path / "c" / name)) == numbers(read_record(tmp_path / "s" / name)), (
            name
        )


def test_submit_reserves_the_drivers_resources(headless_cluster, tmp_path):
    done = raylab(
        "submit", "specgd/trajectory", "--smoke", "--address", headless_cluster.url.removeprefix("http://"),
        "--entrypoint-num-cpus", "1", "--out", str(tmp_path / "run"), "--follow",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    client = jobs.connect(headless_cluster.url)
    (job,) = [j for j in client.list_jobs() if j.metadata.get("experiment") == "specgd/trajectory"]
    head = {n.node_id for n in list_nodes(address=headless_cluster.url) if n.is_head_node}
    assert job.driver_node_id and job.driver_node_id not in head  # one CPU: the head has none to give
    assert json.loads((tmp_path / "run" / "result.json").read_text())["status"] == "ok"
