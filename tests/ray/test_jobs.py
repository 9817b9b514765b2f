"""A real two-node local cluster (`ray start --head` + a worker node with 1 fake GPU) on this machine:
`raylab submit --follow` runs a job to success, the dashboard API lists it, and placement groups
spread across the two nodes. The nodes run with `--block` and are stopped by killing their
process groups, so no other Ray on the machine (e.g. the session fixture's) is touched."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from ray.job_submission import JobStatus, JobSubmissionClient

from raylab.records import read_record
from raylab.runtime import jobs
from raylab.runtime.local_nodes import LocalCluster, get_json, start_node, wait_for

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def two_node_cluster(tmp_path_factory):
    cluster = LocalCluster(tmp_path_factory.mktemp("ray-nodes"), head_cpus=2)
    try:
        worker = cluster.add_worker(cpus=1, gpus=1)
        yield {
            "url": cluster.url,
            "client": f"ray://127.0.0.1:{cluster.client_port}",
            "metrics": f"http://127.0.0.1:{cluster.metrics_port}/metrics",
            "gcs": cluster.address,
            "worker": worker,
        }
    finally:
        cluster.stop()


def test_submit_follow_runs_the_job_and_the_dashboard_lists_it(two_node_cluster, tmp_path):
    url, out = two_node_cluster["url"], tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "raylab.cli",
            "submit",
            "specgd/trajectory",
            "--smoke",
            "--follow",
            "--address",
            url,
            "--out",
            str(out),
            "--working-dir",
            str(ROOT),
            "--env",
            "RAYLAB_PROBE=from-submit",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    job_id = result.stdout.split("as job ")[1].split()[0]
    info = JobSubmissionClient(url).get_job_info(job_id)
    assert info.runtime_env["env_vars"]["RAYLAB_PROBE"] == "from-submit"
    assert f"{url}/#/jobs/{job_id}" in result.stdout
    assert f"job {job_id}: SUCCEEDED" in result.stdout
    record = read_record(out)
    assert record.status == "ok" and record.claims_passed
    listed = get_json(f"{url}/api/jobs/")
    assert any(job["submission_id"] == job_id and job["status"] == "SUCCEEDED" for job in listed)
    # live progress: the run's metrics reach the head's Prometheus endpoint (exported every ~10 s)
    run_id = record.run_id

    def exported():
        with urllib.request.urlopen(two_node_cluster["metrics"], timeout=5) as response:
            text = response.read().decode()
        return [line for line in text.splitlines() if line.startswith("ray_raylab_step{") and run_id in line]

    (line,) = wait_for(exported, 40, "raylab's metrics on the head's /metrics endpoint")
    assert 'experiment="specgd/trajectory"' in line and float(line.rsplit(" ", 1)[1]) >= 1


@pytest.mark.parametrize(
    "target, extra, reads",
    [
        ("reproduce", ["--only", "specgd/finite_sample"], "specgd/finite_sample/result.json"),
        ("specgd/trajectory", ["--sweep", "configs/specgd/sweeps/lr.yaml"], "tune_summary.json"),
    ],
)
def test_submit_sends_reproduce_and_tune_too(two_node_cluster, tmp_path, target, extra, reads):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "raylab", "submit", target, *extra, "--smoke", "--follow"]
        + ["--address", two_node_cluster["url"], "--out", str(out), "--working-dir", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    job_id = result.stdout.split("as job ")[1].split()[0]
    assert job_id.startswith(f"raylab-{'reproduce' if target == 'reproduce' else 'tune'}-")
    assert f"job {job_id}: SUCCEEDED" in result.stdout
    assert (out / reads).exists()


def test_placement_groups_spread_over_two_nodes(two_node_cluster):
    client = JobSubmissionClient(two_node_cluster["url"])  # submit waits for a fresh head's job agent
    job_id = jobs.submit(client, [], jobs.job_runtime_env(ROOT), entry_script="tests/ray/two_node_job.py")
    status = wait_for(lambda: (s := client.get_job_status(job_id)).is_terminal() and s, 240, "the job")
    logs = client.get_job_logs(job_id)
    assert status == JobStatus.SUCCEEDED, logs
    result = json.loads(logs.split("PLACEMENT ")[1].splitlines()[0])
    (cpu_node, cpu_devices), (gpu_node, gpu_devices) = result["placed"]
    assert result["nodes"] == 2 and cpu_node != gpu_node
    assert gpu_devices == "0" and cpu_devices in (None, "")
    assert "STRICT_SPREAD needs 3 nodes, the cluster has 2" in result["too_many"]


def test_failing_job_makes_follow_exit_non_zero(two_node_cluster, tmp_path):
    client = jobs.connect(two_node_cluster["url"])
    job_id = jobs.submit(client, ["specgd/nope"], jobs.job_runtime_env(ROOT))
    assert jobs.follow(client, job_id) == JobStatus.FAILED


def test_run_joins_the_cluster_through_a_ray_client_address(two_node_cluster, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "raylab.cli",
            "run",
            "specgd/misalignment",
            "--smoke",
            "--address",
            two_node_cluster["client"],
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    record = read_record(tmp_path)
    assert record.status == "ok" and record.claims_passed
    # The dashboard's state API shows the fan-out under readable task names.
    tasks = get_json(f"{two_node_cluster['url']}/api/v0/tasks?limit=10000")["data"]["result"]["result"]
    names = {task["name"] for task in tasks}
    assert {"specgd-cell[0]", "specgd-cell[35]"} <= names


def test_jobs_list_logs_and_stop_a_running_job(two_node_cluster, tmp_path):
    """`raylab jobs list | logs | stop`; a stopped run leaves its record ("stopped",
    with the metrics reported before the stop)."""
    url, out = two_node_cluster["url"], tmp_path / "run"

    def raylab(*args, timeout=300):
        return subprocess.run(
            [sys.executable, "-m", "raylab", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )

    submitted = raylab(
        "submit",
        "label_noise/single",
        "--set",
        "train.steps=50000000",
        "--address",
        url,
        "--out",
        str(out),
        "--working-dir",
        str(ROOT),
    )
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    job_id = submitted.stdout.split("as job ")[1].split()[0]
    wait_for(
        lambda: (out / "metrics.jsonl").exists() and (out / "metrics.jsonl").stat().st_size, 240, "metrics"
    )
    listed = raylab("jobs", "list", "--address", url)
    assert any(line.startswith(job_id) and "RUNNING" in line for line in listed.stdout.splitlines()), (
        listed.stdout
    )
    assert "label_noise/single" in raylab("jobs", "logs", job_id, "--address", url).stdout
    stopped = raylab("jobs", "stop", job_id, "--address", url)
    assert stopped.returncode == 0 and f"job {job_id}: STOPPED" in stopped.stdout, (
        stopped.stdout + stopped.stderr
    )
    record = wait_for(lambda: (out / "result.json").exists() and read_record(out), 30, "the record")
    assert record.status == "stopped" and record.metrics
    missing = raylab("jobs", "stop", "raylab-no-such-job", "--address", url)
    assert missing.returncode != 0 and "no job 'raylab-no-such-job'" in missing.stderr


def test_a_gpu_batch_gets_the_only_gpu_for_its_items(two_node_cluster, tmp_path):
    """mri_gs/batch asks a GPU per volume; the cluster has one (the worker node's). Its loop only hands
    the volumes out, so it must not be placed in a GPU bundle of its own: it used to hold the only GPU
    while the volumes waited for it, and failed after the placement timeout."""
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    result = subprocess.run(
        [sys.executable, "-m", "raylab", "run", "mri_gs/batch", "--smoke"]
        + ["--address", two_node_cluster["gcs"], "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    record = read_record(tmp_path)
    assert record.status == "ok" and sorted(p.name for p in tmp_path.glob("*_ours.nii.gz")) == [
        "anat_moved_ours.nii.gz",
        "anatomical_ours.nii.gz",
    ]


def kill_worker_during_map(gcs: str, worker, backend: str, nodes: int = 2, actors: int = 3) -> dict:
    """Run node_loss_job.py with `backend` (`actors` one-CPU actors) on a cluster of `nodes` nodes,
    SIGKILL the worker node's process group once the map's first items run; the driver's RESULT."""
    env = {**os.environ, "RAY_ADDRESS": gcs, "RAY_AUTH_MODE": "disabled"}
    driver = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "ray" / "node_loss_job.py"),
            backend,
            str(actors),
            str(nodes - 1),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in driver.stdout:
        lines.append(line)
        if line.startswith("STARTED"):
            assert f"with {nodes} nodes" in line
            time.sleep(2.5)  # the first items are running on both nodes
            os.killpg(worker.pid, signal.SIGKILL)
            break
    lines += driver.stdout.readlines()
    assert driver.wait(timeout=240) == 0, "".join(lines)
    (result,) = [json.loads(line[len("RESULT ") :]) for line in lines if line.startswith("RESULT ")]
    return result


def test_a_map_survives_losing_the_worker_node(two_node_cluster):
    """Node loss: kill the worker node (raylet, its workers and agents) while a map's
    tasks run on it; Ray retries them on the head and the results equal the expected ones. Runs after
    the other tests of the module: the cluster has one node afterwards."""
    result = kill_worker_during_map(two_node_cluster["gcs"], two_node_cluster["worker"], "tasks")
    assert result["alive"] == 1, "the worker node was killed"
    assert result["results"] == [{"item": i, "value": i * i + 7} for i in range(12)]


def test_an_actor_pool_survives_losing_the_worker_node(two_node_cluster, tmp_path):
    """The same for an actor pool (one one-CPU actor per CPU of the cluster, so one on a fresh worker
    node): the lost actor's items run on the other actors. (Restarting it instead would wait for a
    CPU the survivors hold: the map hung that way before.)"""
    gcs = two_node_cluster["gcs"]
    port = gcs.rsplit(":", 1)[1]
    nodes = lambda: get_json(f"{two_node_cluster['url']}/api/v0/nodes")["data"]["result"]["result"]  # noqa: E731
    alive = lambda: [n for n in nodes() if n["state"] == "ALIVE"]  # noqa: E731
    before = len(alive())  # the fixture's worker may be alive or not, depending on the tests before
    worker = start_node(
        ["--address", gcs, "--num-cpus", "1", "--num-gpus", "0"], tmp_path / "w.log", f"/tmp/rx{port}"
    )
    try:
        wait_for(lambda: len(alive()) == before + 1, 90, "the new worker node")
        cpus = int(sum(n["resources_total"].get("CPU", 0) for n in alive()))  # one actor per CPU
        result = kill_worker_during_map(gcs, worker, "actors", nodes=before + 1, actors=cpus)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        shutil.rmtree(f"/tmp/rx{port}", ignore_errors=True)
    assert result["alive"] == before, "the new worker node was killed"
    assert result["results"] == [{"item": i, "value": i * i + 7} for i in range(12)]


NODE_LOSS_SWEEP = """
metric: train/norm
mode: min
num_samples: 1
max_concurrent_trials: {slots}
max_failures: 2
space:
  seed: {grid: {seeds}}
resources_per_trial: {cpu: 1}
"""


def test_a_sweep_survives_losing_the_worker_node(two_node_cluster, tmp_path):
    """Node loss mid-sweep: as many one-CPU trials, all at once, as the cluster has CPUs
    (the head's 2, a fresh worker node's 1, the fixture's worker's 1 if an earlier test left it alive);
    the fresh worker is SIGKILLed while its trial runs; Tune (max_failures 2) runs that trial again on
    the head from its last checkpoint; every trial ends with its record, and the lost attempt left
    Tune's error file behind."""
    gcs = two_node_cluster["gcs"]
    port = gcs.rsplit(":", 1)[1]
    before = sum(
        n["state"] == "ALIVE"
        for n in get_json(f"{two_node_cluster['url']}/api/v0/nodes")["data"]["result"]["result"]
    )
    worker = start_node(
        ["--address", gcs, "--num-cpus", "1", "--num-gpus", "0"], tmp_path / "w.log", f"/tmp/ry{port}"
    )
    sweep, out = tmp_path / "sweep.yaml", tmp_path / "sweep"
    try:
        nodes = lambda: get_json(f"{two_node_cluster['url']}/api/v0/nodes")["data"]["result"]["result"]  # noqa: E731
        alive = lambda: [n for n in nodes() if n["state"] == "ALIVE"]  # noqa: E731
        # the fixture's own worker is alive or not depending on which tests ran before: count the CPUs
        wait_for(lambda: len(alive()) == before + 1, 90, "the new worker node")
        slots = int(sum(n["resources_total"].get("CPU", 0) for n in alive()))
        sweep.write_text(
            NODE_LOSS_SWEEP.replace("{slots}", str(slots)).replace("{seeds}", str(list(range(slots))))
        )
        env = {**os.environ, "RAY_ADDRESS": gcs, "RAY_AUTH_MODE": "disabled"}
        command = [sys.executable, "-m", "raylab", "tune", "label_noise/single", "--sweep", str(sweep)]
        command += ["--set", "train.steps=60000", "--out", str(out)]
        driver = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        # as many unfinished one-CPU trials as the cluster has CPUs: one of them is on the new worker
        # node, so kill it then (a fixed delay after some had started could fall between two trials)
        unfinished = "tune/*/run/metrics.jsonl"
        running = lambda: sum(not (m.parent / "result.json").exists() for m in out.glob(unfinished))  # noqa: E731
        wait_for(lambda: running() >= slots, 180, f"{slots} trials running at once")
        os.killpg(worker.pid, signal.SIGKILL)
        output, _ = driver.communicate(timeout=400)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        shutil.rmtree(f"/tmp/ry{port}", ignore_errors=True)
    assert driver.returncode == 0, output[-3000:]
    summary = json.loads((out / "tune_summary.json").read_text())
    assert summary["num_trials"] == slots and summary["num_errors"] == 0, summary
    assert sorted(t["config"]["seed"] for t in summary["trials"]) == list(range(slots))
    assert all(read_record(Path(t["record"])).status == "ok" for t in summary["trials"])
    assert list(out.glob("tune/*/error.txt")), "no trial was lost with the node: the test did not test it"
