"""Chaos run: a smoke reproduction of three kinds of distributed work -- an actor-pool fan-out
(tsp_mdf/policy), a task fan-out (specgd/misalignment) and a Tune sweep (specgd/trajectory, three
trials) -- first undisturbed, then while a node killer SIGKILLs a random worker node (the first 5-10 s
in, then every 20-30 s) and starts a replacement. Checks that every record ends "ok" and is whole, that
the results equal the undisturbed run's (same seeds), and that no process of the cluster remains once
it is stopped; prints how many nodes were killed and how many task attempts Ray retried.

    python benchmarks/chaos.py                  # a head (0 CPUs) and two 1-CPU worker nodes here
    python benchmarks/chaos.py --part tune      # only the sweep (or --part reproduce: only the fan-outs)
    python benchmarks/chaos.py --address HOST:PORT --dashboard http://HOST:8265 --out /shared/chaos \\
        --kill-command "ray kill-random-node cluster.yaml --yes"   # your cluster; its autoscaler replaces

Exit code 0 when every check holds; `--json FILE` writes the figures and checks.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from raylab import RaylabError  # noqa: E402
from raylab.records import read_record  # noqa: E402
from raylab.runtime.local_nodes import LocalCluster  # noqa: E402
from raylab.runtime.parallel import LOST_ACTOR  # noqa: E402

# actors, tasks. (autodp's actor pool would do too, but a loop rerun after its node is lost finds the
# cache its first attempt wrote and, rightly, leaves its cold-cache claims unjudged: not the same record)
EXPERIMENTS = "tsp_mdf/policy,specgd/misalignment"
SWEEP = """\
metric: train/error
mode: min
space:
  lr.specgd: {grid: [0.005, 0.01, 0.02]}
scheduler: {type: fifo}
resources_per_trial: {cpu: 1}
max_failures: 3
"""
TRIAL_SETTINGS = ["--set", "steps=6000", "--set", "report_every=200"]  # ~5 s a trial


class NodeKiller(threading.Thread):
    """Calls `kill()` after `first` seconds, then every `interval` seconds (each uniform) until
    stopped; counts the kills."""

    def __init__(
        self,
        kill: Callable[[], None],
        first: tuple[float, float],
        interval: tuple[float, float],
        seed: int = 0,
    ):
        super().__init__(daemon=True)
        self.kill, self.first, self.interval = kill, first, interval
        self.random = random.Random(seed)
        self.stopped, self.killed, self.failures = threading.Event(), 0, []
        self.kill_times: list[float] = []  # seconds after the killer started

    def run(self) -> None:
        start, wait = time.monotonic(), self.random.uniform(*self.first)
        while not self.stopped.wait(wait):
            wait = self.random.uniform(*self.interval)
            try:
                self.kill()
                self.killed += 1
                self.kill_times.append(round(time.monotonic() - start, 1))
            except (OSError, RaylabError, subprocess.SubprocessError) as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")


def raylab(*args: str, address: str) -> str:
    """Run a raylab command against the cluster; its output (also printed)."""
    done = subprocess.run(
        [sys.executable, "-m", "raylab", *args, "--address", address],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    print(done.stdout, end="", flush=True)
    if done.returncode != 0:
        print(f"chaos: `raylab {' '.join(args)}` exited {done.returncode}", flush=True)
    return done.stdout


PARTS = ("reproduce", "tune")


def run_all(address: str, out: Path, parts: tuple[str, ...]) -> int:
    """The reproduction of two experiments, then the sweep (those of them in `parts`), against the
    cluster at `address`; how many worker actors the fan-outs lost (and replaced)."""
    log = ""
    out.mkdir(parents=True, exist_ok=True)
    if "reproduce" in parts:
        log += raylab(
            "reproduce", "--smoke", "--only", EXPERIMENTS, "--out", str(out / "reproduce"),
            address=address,
        )  # fmt: skip
    if "tune" in parts:
        sweep = out / "sweep.yaml"
        sweep.write_text(SWEEP)
        log += raylab(
            "tune", "specgd/trajectory", "--sweep", str(sweep), *TRIAL_SETTINGS,
            "--out", str(out / "tune"), address=address,
        )  # fmt: skip
    return log.count(LOST_ACTOR)


def outcome(out: Path, parts: tuple[str, ...]) -> dict:
    """What a pass left: each record's status and numbers (wall-clock `time/` metrics aside), the
    sweep's trials, and every record or summary that is not whole."""
    results, broken = {}, []
    for path in sorted(out.glob("reproduce/*/*/result.json")):
        try:
            record = read_record(path)
        except RaylabError as exc:
            broken.append(str(exc))
            continue
        results[record.experiment] = {
            "status": record.status,
            "metrics": {k: v for k, v in record.metrics.items() if not k.startswith("time/")},
            "claims": [(c.id, c.value, c.passed) for c in record.claims],
        }
    if "tune" not in parts:
        return {"results": results, "broken": broken}
    try:
        summary = json.loads((out / "tune" / "tune_summary.json").read_text())
        results["tune"] = {
            "status": "ok" if summary["num_errors"] == 0 and summary["num_trials"] == 3 else "failed",
            "trials": sorted(
                (json.dumps(t["config"], sort_keys=True), t["metric"]) for t in summary["trials"]
            ),
        }
    except (OSError, ValueError, KeyError) as exc:
        broken.append(f"{out / 'tune' / 'tune_summary.json'}: {exc}")
    return {"results": results, "broken": broken}


def retried_attempts(dashboard: str) -> int | None:
    """Task attempts after the first (Ray's retries), from the state API; None when unavailable."""
    from ray.util.state import list_tasks

    try:
        tasks = list_tasks(address=dashboard, limit=10_000, raise_on_missing_output=False)
    except Exception as exc:  # noqa: BLE001 - a figure to print, not a check
        print(f"chaos: could not count retried tasks ({type(exc).__name__}: {exc})", flush=True)
        return None
    return sum(task.attempt_number > 0 for task in tasks)


def local_killer(cluster: LocalCluster, rng: random.Random) -> Callable[[], None]:
    def kill() -> None:
        victim = rng.choice(cluster.workers)
        cluster.kill_worker(victim)
        cluster.add_worker(cpus=1, wait=False)  # the replacement joins while the work goes on

    return kill


def chaos(args: argparse.Namespace) -> dict:
    out = Path(args.out or tempfile.mkdtemp(prefix="raylab-chaos-"))
    parts = PARTS if args.part == "all" else (args.part,)
    cluster = None
    if args.address:
        address, dashboard = args.address, args.dashboard
        kill = lambda: subprocess.run(shlex.split(args.kill_command), check=True)  # noqa: E731
    else:
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # the local nodes run without auth
        cluster = LocalCluster(out / "logs", head_cpus=0)
        for _ in range(2):
            cluster.add_worker(cpus=1)
        address, dashboard = cluster.address, cluster.url
        kill = local_killer(cluster, random.Random(args.seed))
    try:
        start = time.monotonic()
        run_all(address, out / "undisturbed", parts)
        calm_s = time.monotonic() - start
        killer = NodeKiller(
            kill, (args.first_min, args.first_max), (args.min_interval, args.max_interval), seed=args.seed
        )
        killer.start()
        start = time.monotonic()
        actors_lost = run_all(address, out / "disturbed", parts)
        chaos_s = time.monotonic() - start
        killer.stopped.set()
        killer.join()
        retried = retried_attempts(dashboard) if dashboard else None
    finally:
        leftover = cluster.stop() if cluster else []
    calm, disturbed = outcome(out / "undisturbed", parts), outcome(out / "disturbed", parts)
    expected = {"tune"} if "tune" in parts else set()
    if "reproduce" in parts:
        expected |= set(EXPERIMENTS.split(","))
    report = {
        "parts": list(parts),
        "nodes_killed": killer.killed,
        "kill_times_s": killer.kill_times,
        "kill_failures": killer.failures,
        "actors_lost_and_replaced": actors_lost,
        "retried_task_attempts": retried,
        "undisturbed_s": round(calm_s, 1),
        "disturbed_s": round(chaos_s, 1),
        "all_ok": set(disturbed["results"]) == expected
        and all(r["status"] == "ok" for r in disturbed["results"].values()),
        "none_half_written": not disturbed["broken"] and not calm["broken"],
        "equal_to_undisturbed": disturbed["results"] == calm["results"],
        "differing": sorted(
            name for name in calm["results"] if calm["results"][name] != disturbed["results"].get(name)
        ),
        "leftover_processes": leftover,
        "out": str(out),
    }
    report["passed"] = bool(
        report["all_ok"] and report["none_half_written"] and report["equal_to_undisturbed"] and not leftover
    )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--address", help="a running cluster (GCS HOST:PORT); default: start one here")
    parser.add_argument("--dashboard", help="its dashboard URL, to count retried tasks")
    parser.add_argument("--kill-command", help="with --address: the command that kills a random worker node")
    parser.add_argument("--out", help="results folder (shared storage on a multi-node cluster)")
    parser.add_argument("--part", choices=("all", *PARTS), default="all", help="which work to disturb")
    parser.add_argument("--first-min", type=float, default=5.0, help="the first kill, seconds in")
    parser.add_argument("--first-max", type=float, default=10.0)
    parser.add_argument("--min-interval", type=float, default=20.0)
    parser.add_argument("--max-interval", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0, help="the killer's choice of node and times")
    parser.add_argument("--json", help="write the report here")
    args = parser.parse_args()
    if args.address and not args.kill_command:
        parser.error("--address needs --kill-command (how to kill a worker node of your cluster)")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    report = chaos(args)
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
