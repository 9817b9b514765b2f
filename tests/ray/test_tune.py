"""Real Tune sweeps over the SpecGD trajectory experiment (2 trials, ASHA; 3 trials, Optuna's TPE) and
a counting experiment (retries, end-of-run metrics)."""

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from raylab.config import ConfigError, from_dict
from raylab.records import read_record
from raylab.registry import ExperimentSpec, configs_dir, get_spec
from raylab.runner import load_run_config
from raylab.runtime.tune import SweepSpec, load_sweep, run_sweep

pytestmark = pytest.mark.ray


def test_smoke_sweep_writes_records_and_the_best_config(ray_cluster, tmp_path):
    spec = get_spec("specgd/trajectory")
    cfg = load_run_config(spec, smoke=True)
    sweep = load_sweep(configs_dir() / "specgd/sweeps/lr.yaml", smoke=True)
    summary = run_sweep(spec, cfg, sweep, tmp_path)

    assert summary["num_trials"] == 2 and summary["num_errors"] == 0
    metrics = [t["metric"] for t in summary["trials"]]
    assert summary["best_value"] == min(metrics)
    # Metrics streamed while the trial ran: 120 steps reported every 10 (13 rows) plus the final one.
    assert [t["iterations"] for t in summary["trials"]] == [14, 14]
    assert (tmp_path / "sweep.png").stat().st_size > 0 and summary["plot"] == str(tmp_path / "sweep.png")
    assert json.loads((tmp_path / "tune_summary.json").read_text())["best_values"] == summary["best_values"]
    best = from_dict(
        spec.load_config_cls(),
        yaml.safe_load((tmp_path / "best_config.yaml").read_text()),
        "best_config.yaml",
    )
    assert best.optimisers == summary["best_values"]["optimisers"]
    records = [read_record(t["record"]) for t in summary["trials"]]
    assert all(r.status == "ok" and r.experiment == spec.name for r in records)
    for trial in summary["trials"]:  # Tune's own per-trial result.json (JSON lines) is left intact
        tune_rows = (Path(trial["record"]).parent / "result.json").read_text().splitlines()
        assert len(tune_rows) == trial["iterations"] and json.loads(tune_rows[-1])["claims_passed"] == 1.0


def test_a_sweep_on_a_storage_uri_writes_its_summary_and_trial_records_there(ray_cluster, tmp_path):
    """file:// goes through the same pyarrow filesystem layer as s3:// or gs://."""
    spec = get_spec("specgd/trajectory")
    sweep = load_sweep(configs_dir() / "specgd/sweeps/lr.yaml", smoke=True)
    summary = run_sweep(spec, load_run_config(spec, smoke=True), sweep, f"file://{tmp_path}/sweep")
    assert summary["num_trials"] == 2 and summary["num_errors"] == 0
    saved = json.loads((tmp_path / "sweep" / "tune_summary.json").read_text())
    assert (
        saved["best_values"] == summary["best_values"] and (tmp_path / "sweep" / "best_config.yaml").exists()
    )
    for trial in summary["trials"]:
        assert trial["record"].startswith(f"file://{tmp_path}/sweep/tune/")
        assert read_record(trial["record"].removeprefix("file://")).status == "ok"


def test_an_optuna_sweep_runs_its_trials_inside_the_space(ray_cluster, tmp_path):
    pytest.importorskip("optuna")
    spec = get_spec("specgd/trajectory")
    sweep = load_sweep(configs_dir() / "specgd/sweeps/lr_optuna.yaml", smoke=True)
    assert (sweep.search, sweep.num_samples, sweep.scheduler) == ("optuna", 3, {"type": "fifo"})
    summary = run_sweep(spec, load_run_config(spec, smoke=True), sweep, tmp_path)

    assert summary["num_trials"] == 3 and summary["num_errors"] == 0
    lrs = [t["config"]["lr.specgd"] for t in summary["trials"]]
    assert len(set(lrs)) == 3 and all(0.001 <= lr <= 0.3 for lr in lrs)
    best = min(summary["trials"], key=lambda t: t["metric"])
    assert summary["best_value"] == best["metric"] and summary["best_values"] == best["config"]
    assert (
        yaml.safe_load((tmp_path / "best_config.yaml").read_text())["lr"]["specgd"]
        == best["config"]["lr.specgd"]
    )


@dataclasses.dataclass
class CountConfig:
    seed: int = 0
    steps: int = 6
    crash_at: int = 3


def counting_entry(cfg, ctx):
    """Counts steps with a checkpoint per step; the first attempt crashes at `crash_at`."""
    restored = ctx.checkpointer.load_latest()
    start = restored[0] + 1 if restored else 0
    ctx.cache_dir().mkdir(parents=True, exist_ok=True)
    (ctx.cache_dir() / f"attempt-from-{start}").touch()
    for step in range(start, cfg.steps):
        ctx.checkpointer.save({"count": step}, step)
        ctx.report({"train/count": float(step)}, step=step)
        if step == cfg.crash_at and restored is None:
            raise RuntimeError("simulated worker crash")
    return ctx.result({"final/resumed_from": float(start)}, [])


COUNT_SPEC = ExperimentSpec(
    "test/count",
    "counts",
    config_cls="tests.ray.test_tune:CountConfig",
    entry="tests.ray.test_tune:counting_entry",
)


def test_failed_trial_resumes_from_its_last_checkpoint(ray_cluster, tmp_path):
    sweep = SweepSpec(metric="train/count", mode="max", space={"steps": {"grid": [6]}}, max_failures=1)
    summary = run_sweep(COUNT_SPEC, CountConfig(), sweep, tmp_path / "sweep", cache=tmp_path / "store")
    trial = summary["trials"][0]
    # both attempts used the user's --cache store, not the trial's folder
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["attempt-from-0", "attempt-from-4"]
    assert trial["error"] is None and trial["metric"] == 5.0
    record = read_record(trial["record"])
    assert record.status == "ok" and record.metrics["final/resumed_from"] == 4.0
    steps = [
        json.loads(line)["step"]
        for line in (Path(trial["record"]) / "metrics.jsonl").read_text().splitlines()
    ]
    assert steps == [0, 1, 2, 3, 4, 5]  # steps 0-3 from the crashed attempt, 4-5 after the resume


def test_a_fifo_sweep_ranks_by_a_metric_known_only_at_the_end(ray_cluster, tmp_path):
    """`final/resumed_from` is in the record, never streamed: Tune's per-report metric check used to
    stop the sweep at the first report."""
    space = {"steps": {"grid": [2, 3]}, "crash_at": {"grid": [99]}}
    sweep = SweepSpec(metric="final/resumed_from", mode="max", space=space)
    summary = run_sweep(COUNT_SPEC, CountConfig(), sweep, tmp_path)
    assert summary["num_errors"] == 0 and [t["metric"] for t in summary["trials"]] == [0.0, 0.0]


def test_an_optuna_sweep_ranks_by_a_metric_known_only_at_the_end(ray_cluster, tmp_path):
    """Optuna's searcher reads the metric from every report: reports without it are not passed on."""
    pytest.importorskip("optuna")
    space = {"steps": {"choice": [2, 3]}, "crash_at": {"choice": [99]}}
    sweep = SweepSpec(metric="final/resumed_from", mode="max", space=space, num_samples=2, search="optuna")
    summary = run_sweep(COUNT_SPEC, CountConfig(), sweep, tmp_path)
    assert summary["num_errors"] == 0 and [t["metric"] for t in summary["trials"]] == [0.0, 0.0]


@pytest.mark.parametrize(
    "metric, scheduler, message",
    [
        (
            "final/resumd_from",
            {"type": "fifo"},
            r"sweep metric 'final/resumd_from' is not a metric of test/count; its metrics: "
            r".*final/resumed_from",
        ),
        ("final/resumed_from", {"type": "asha", "max_t": 3}, r"the ASHA scheduler needs it in every report"),
    ],
)
def test_a_metric_the_trials_do_not_report_is_named(ray_cluster, tmp_path, metric, scheduler, message):
    sweep = SweepSpec(
        metric=metric, space={"steps": {"grid": [2]}, "crash_at": {"grid": [99]}}, scheduler=scheduler
    )
    with pytest.raises(ConfigError, match=message):
        run_sweep(COUNT_SPEC, CountConfig(), sweep, tmp_path)


@pytest.mark.parametrize(
    "space, message",
    [
        ({"lr.gdd": {"grid": [0.1]}}, "unknown key 'lr.gdd'"),
        ({"steps": {"choice": [10, "many"]}}, "expected int"),
        ({"optimisers": {"grid": [["adam"]]}}, "not one of"),
    ],
)
def test_bad_sweep_space_fails_before_any_trial(space, message, tmp_path):
    spec = get_spec("specgd/trajectory")
    sweep = SweepSpec(metric="train/error", space=space)
    with pytest.raises(ConfigError, match=message):
        run_sweep(spec, load_run_config(spec, smoke=True), sweep, tmp_path)
    assert not (tmp_path / "tune").exists()
