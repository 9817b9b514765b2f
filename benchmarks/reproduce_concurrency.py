"""Sequential against concurrent `raylab reproduce`: the smoke reproduction of three cheap methods
run with `--max-concurrent 1` and with every experiment at once (`--max-concurrent 99`), in one
run, with the ideal: the longest experiment's wall time in the sequential run.

    python benchmarks/reproduce_concurrency.py            # a local head (2 CPUs) + a worker (1 CPU)
    python benchmarks/reproduce_concurrency.py --private  # this machine's private Ray instead
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from raylab.records import read_record  # noqa: E402
from raylab.runtime.local_nodes import LocalCluster  # noqa: E402

METHODS = "specgd,faa,label_noise"


def reproduce(out: Path, only: str, address: str | None, *extra: str) -> float:
    """Wall seconds of one `raylab reproduce --smoke` (which must succeed)."""
    where = ["--address", address] if address else []
    start = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "raylab",
            "reproduce",
            "--smoke",
            "--only",
            only,
            "--out",
            str(out),
            *where,
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"reproduce failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=METHODS, help=f"methods or experiments (default {METHODS})")
    parser.add_argument("--private", action="store_true", help="a private Ray on this machine, not two nodes")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    out = Path(tempfile.mkdtemp(prefix="raylab-concurrency-"))
    cluster = None if args.private else LocalCluster(out / "logs", head_cpus=2)
    try:
        if cluster:
            cluster.add_worker(cpus=1)
        address = cluster.address if cluster else None
        sequential = reproduce(out / "sequential", args.only, address, "--max-concurrent", "1")
        concurrent = reproduce(out / "concurrent", args.only, address, "--max-concurrent", "99")
    finally:
        if cluster:
            cluster.stop()
    walls = {r.experiment: r.wall_s for r in map(read_record, (out / "sequential").glob("*/*/result.json"))}
    longest = max(walls, key=walls.__getitem__)
    where = "a private Ray on this machine" if args.private else "a head (2 CPUs) + a worker node (1 CPU)"
    print(f"smoke reproduction of {args.only} ({len(walls)} experiments) on {where}, {os.cpu_count()} cores:")
    print(f"  sequential  {sequential:6.1f} s")
    print(f"  concurrent  {concurrent:6.1f} s   ({sequential / concurrent:.2f}x)")
    print(
        f"  ideal       {walls[longest]:6.1f} s   (the longest experiment, {longest}, in the sequential run)"
    )


if __name__ == "__main__":
    main()
