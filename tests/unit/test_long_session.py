"""Hundreds of runs in one process (a notebook, a long Tune driver): resident memory, open files and
threads do not grow. The measurement is itself tested: it flags a planted leak."""

import os
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from raylab.context import SerialMapper
from raylab.records import Claim
from raylab.registry import ExperimentSpec
from raylab.reporting.plots import new_figure, save_figure
from raylab.runner import run_experiment
from tests.unit.test_records import TinyConfig

RSS_GROWTH_LIMIT_MB = 50
LEAKED: list = []


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def usage() -> tuple[int, int]:
    return len(os.listdir("/proc/self/fd")), threading.active_count()


def small_run(cfg, ctx):
    """What a run does at the platform's edges: metrics, a checkpoint, a figure, a record."""
    weights = np.random.default_rng(cfg.seed).normal(size=(64, 64))
    for step in range(3):
        ctx.report({"train/loss": float(np.abs(weights).mean()) / (step + 1)}, step=step)
    ctx.checkpointer.save({"weights": weights}, step=3)
    fig, axes = new_figure()
    axes[0][0].plot(weights[0])
    save_figure(fig, ctx.artifact("curve.png"))
    return ctx.result({"train/loss": 0.1}, [Claim.check("c", "loss <= 1", 0.1, "<=", 1.0)])


def leaky_run(cfg, ctx):
    """The same run, leaking 1 MB and an open file each time."""
    LEAKED.append((np.ones(1 << 17), open(ctx.out_dir / "held.txt", "w")))  # noqa: SIM115
    return small_run(cfg, ctx)


def spec_for(entry: str) -> ExperimentSpec:
    return ExperimentSpec(
        "m/session", "", "tests.unit.test_records:TinyConfig", f"tests.unit.test_long_session:{entry}"
    )


def growth(entry: str, runs: int, root: Path, warm_up: int = 20) -> tuple[float, int, int]:
    """(MB of memory, open files, threads) gained over `runs` runs after `warm_up` runs."""
    spec = spec_for(entry)

    def run(i: int) -> None:
        record = run_experiment(
            spec, TinyConfig(seed=i), root / f"run{i}", mapper=SerialMapper(progress=False)
        )
        assert record.status == "ok", record.error

    for i in range(warm_up):
        run(i)
    tracemalloc.start()
    try:
        before_rss, before = resident_mb(), usage()
        for i in range(warm_up, warm_up + runs):
            run(i)
        after_rss, after = resident_mb(), usage()
        traced_mb = tracemalloc.get_traced_memory()[0] / 2**20  # allocated since start, not freed
    finally:
        tracemalloc.stop()
    # a long-lived process reuses pages it freed earlier, so a leak can grow the traced heap well
    # before it grows RSS: the growth is the larger of the two
    return max(after_rss - before_rss, traced_mb), after[0] - before[0], after[1] - before[1]


@pytest.mark.slow
def test_three_hundred_runs_in_one_process_leak_no_memory_files_or_threads(tmp_path):
    rss_mb, files, threads = growth("small_run", 300, tmp_path)
    print(f"300 runs: memory {rss_mb:+.1f} MB, open files {files:+d}, threads {threads:+d}")
    assert rss_mb < RSS_GROWTH_LIMIT_MB, f"memory grew {rss_mb:.1f} MB over 300 runs"
    assert files <= 0 and threads <= 0, f"{files} open files and {threads} threads more after 300 runs"


@pytest.mark.slow
def test_the_measurement_flags_a_planted_leak(tmp_path):
    try:
        rss_mb, files, _ = growth("leaky_run", 60, tmp_path)
    finally:
        for _, handle in LEAKED:
            handle.close()
        LEAKED.clear()
    assert rss_mb >= RSS_GROWTH_LIMIT_MB  # 60 MB planted
    assert files == 60
