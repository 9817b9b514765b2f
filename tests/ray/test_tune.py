"""A real Tune sweep (2 trials, ASHA) over the SpecGD trajectory experiment."""

import json

import pytest
import yaml

from raylab.config import from_dict
from raylab.records import read_record
from raylab.registry import configs_dir, get_spec
from raylab.runner import load_run_config
from raylab.runtime.tune import load_sweep, run_sweep

pytestmark = pytest.mark.ray


def test_smoke_sweep_writes_records_and_the_best_config(ray_cluster, tmp_path):
    spec = get_spec("specgd/trajectory")
    cfg = load_run_config(spec, smoke=True)
    sweep = load_sweep(configs_dir() / "specgd/sweeps/lr.yaml", smoke=True)
    summary = run_sweep(spec.name, cfg, sweep, tmp_path, smoke=True)

    assert summary["num_trials"] == 2 and summary["num_errors"] == 0
    metrics = [t["metric"] for t in summary["trials"]]
    assert summary["best_value"] == min(metrics)
    # Metrics streamed while the trial ran: 120 steps reported every 10 (13 rows) plus the final one.
    assert [t["iterations"] for t in summary["trials"]] == [14, 14]
    assert json.loads((tmp_path / "tune_summary.json").read_text())["best_values"] == summary["best_values"]
    best = from_dict(spec.load_config_cls(), yaml.safe_load((tmp_path / "best_config.yaml").read_text()),
                     "best_config.yaml")
    assert best.optimisers == summary["best_values"]["optimisers"]
    records = [read_record(t["path"]) for t in summary["trials"]]
    assert all(r.status == "ok" and r.experiment == spec.name for r in records)
