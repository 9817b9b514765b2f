"""A multi-node Ray cluster on one machine: a head and worker nodes, each `ray start --block` in a
process group of its own with its own temp dir, so a node can be killed (SIGKILL to its group, as a
lost machine) or stopped without touching any other Ray on the machine. Used by the chaos run and
the cluster tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raylab import RaylabError
from raylab.runtime.cluster import free_port

# A killed node refuses the GCS's health checks at once: with a check a second and 3 misses it is
# declared dead ~3 s after the kill (Ray's defaults: ~15 s). A live node is only lost by mistake if it
# leaves 3 checks in a row unanswered for 3 s each.
HEALTH_CHECKS = {
    "RAY_health_check_initial_delay_ms": "1000",
    "RAY_health_check_period_ms": "1000",
    "RAY_health_check_timeout_ms": "3000",
    "RAY_health_check_failure_threshold": "3",
}


def wait_for(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; RaylabError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, ValueError, KeyError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise RaylabError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def start_node(
    args: list[str], log: Path, temp_dir: str, metrics_port: int | None = None
) -> subprocess.Popen[bytes]:
    """One node, blocking in its own process group. Each node gets its own temp dir: nodes sharing
    one session folder on one machine delete each other's unpacked job working dirs."""
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", **HEALTH_CHECKS}
    env.pop("RAY_ADDRESS", None)
    # Agent ports are picked free: another local Ray may hold the defaults.
    ports = [
        f"--{name}={free_port()}"
        for name in ("dashboard-agent-listen-port", "dashboard-agent-grpc-port", "runtime-env-agent-port")
    ] + [f"--metrics-export-port={metrics_port or free_port()}"]
    cmd = [
        str(Path(sys.executable).parent / "ray"),
        "start",
        "--block",
        "--node-ip-address",
        "127.0.0.1",
        "--object-store-memory",
        str(200 * 1024**2),
        "--disable-usage-stats",
        "--temp-dir",
        temp_dir,
        *ports,
        *args,
    ]
    return subprocess.Popen(
        cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True
    )


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


class LocalCluster:
    """A head (`head_cpus`, dashboard on 127.0.0.1) and worker nodes started with `add_worker`.
    `kill_worker` SIGKILLs a node's whole process group; `stop` ends every node and removes the temp
    dirs; `leftover_processes` lists any process still running from them."""

    def __init__(self, logs: Path, head_cpus: int = 2, head_gpus: int = 0):
        self.logs, self.gcs, self.dashboard_port = Path(logs), free_port(), free_port()
        self.client_port, self.metrics_port = free_port(), free_port()
        self.logs.mkdir(parents=True, exist_ok=True)
        self.temp_root = f"/tmp/rl{self.gcs}"  # short: Ray's socket paths must stay under 108 bytes
        self.workers: list[subprocess.Popen[bytes]] = []
        self.head = start_node(
            [
                "--head",
                f"--port={self.gcs}",
                "--dashboard-host=127.0.0.1",
                f"--dashboard-port={self.dashboard_port}",
                f"--num-cpus={head_cpus}",
                f"--num-gpus={head_gpus}",
                f"--ray-client-server-port={self.client_port}",
            ],
            self.logs / "head.log",
            f"{self.temp_root}h",
            metrics_port=self.metrics_port,
        )
        self._started = 0
        wait_for(lambda: get_json(f"{self.url}/api/version"), 90, f"the dashboard ({self.logs / 'head.log'})")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gcs}"

    def alive_nodes(self) -> int:
        nodes = get_json(f"{self.url}/api/v0/nodes")["data"]["result"]["result"]
        return sum(node["state"] == "ALIVE" for node in nodes)

    def add_worker(self, cpus: int = 1, gpus: int = 0, wait: bool = True) -> subprocess.Popen[bytes]:
        """Start a worker node; with `wait`, return once the head counts it alive."""
        expected = self.alive_nodes() + 1 if wait else 0
        self._started += 1
        worker = start_node(
            [f"--address={self.address}", f"--num-cpus={cpus}", f"--num-gpus={gpus}"],
            self.logs / f"worker{self._started}.log",
            f"{self.temp_root}w{self._started}",
        )
        self.workers.append(worker)
        if wait:
            wait_for(lambda: self.alive_nodes() >= expected, 90, f"worker node {self._started}")
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL the node's process group: its raylet, object store, workers and agents at once."""
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        self.workers.remove(worker)

    def stop(self, timeout_s: float = 30) -> list[str]:
        """End every node at once, as `kill_worker` does (a SIGTERMed `ray start --block` takes up
        to 30 s to drain and shut down, and nothing on a throwaway cluster needs it); the processes
        of the cluster still running `timeout_s` later (none)."""
        for node in [*self.workers, self.head]:
            if node.poll() is None:
                os.killpg(node.pid, signal.SIGKILL)
            node.wait()
        deadline = time.monotonic() + timeout_s
        while (left := self.leftover_processes()) and time.monotonic() < deadline:
            time.sleep(0.5)
        for path in Path("/tmp").glob(f"rl{self.gcs}*"):
            shutil.rmtree(path, ignore_errors=True)
        return left

    def leftover_processes(self) -> list[str]:
        """Command lines of processes that still name one of this cluster's temp dirs or ports."""
        marks = (self.temp_root, f":{self.gcs}")
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if any(mark in cmdline for mark in marks):
                found.append(cmdline.strip())
        return found
