"""The PAR seeds x alpha x PAR sweep at smoke size: every trial reports the final return, the
gate-open fraction and the final p (0 and 0 for PAR-off trials)."""

import pytest

from raylab.registry import configs_dir, get_spec
from raylab.runner import load_run_config
from raylab.runtime.tune import load_sweep, run_sweep

pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]


def test_par_smoke_sweep_reports_return_gate_and_ratio(ray_cluster, tmp_path):
    spec = get_spec("par/pendulum_medium")
    sweep = load_sweep(configs_dir() / "par/sweeps/seeds_alpha_par.yaml", smoke=True)
    summary = run_sweep(spec, load_run_config(spec, smoke=True), sweep, tmp_path)
    assert summary["num_trials"] == 2 and summary["num_errors"] == 0
    for trial in summary["trials"]:
        values, numbers = trial["config"], trial["summary"]
        assert set(numbers) == {"eval/norm_return", "train/gate_open_frac", "train/p_final"}
        if values["par.enabled"]:
            assert numbers["train/gate_open_frac"] == 1.0 and numbers["train/p_final"] == pytest.approx(
                0.5, abs=1e-3
            )
        else:
            assert numbers["train/gate_open_frac"] == 0.0 and numbers["train/p_final"] == 0.0
