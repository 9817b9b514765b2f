"""The offline loop: a run resumed from its checkpoint ends exactly where an uninterrupted run does;
PAR-off runs report no gate and p = 0; IQL runs with PAR."""

import pytest

from raylab.context import SerialMapper
from raylab.methods.par.config import DatasetConfig, OfflineConfig, PARSettings
from raylab.methods.par.config import TD3BCConfig
from raylab.registry import get_spec
from raylab.runner import run_experiment


def small(**overrides) -> OfflineConfig:
    base = {
        "dataset": DatasetConfig(episodes=3),
        "steps": 400,
        "eval_every": 200,
        "eval_episodes": 1,
        "checkpoint_every": 200,
        "td3bc": TD3BCConfig(hidden=32),
        "par": PARSettings(enabled=True, start=0.25, gate="off"),
    }
    return OfflineConfig(**{**base, **overrides})


def run(cfg, out):
    return run_experiment(get_spec("par/pendulum_medium"), cfg, out, mapper=SerialMapper(progress=False))


def test_resuming_from_the_checkpoint_reproduces_the_uninterrupted_run(tmp_path):
    straight = run(small(), tmp_path / "straight")
    resumed_dir = tmp_path / "resumed"
    first = run(small(), resumed_dir)  # leaves a checkpoint at step 200
    assert (resumed_dir / "checkpoints" / "step_00000200" / "state.pkl").exists()
    (resumed_dir / "result.json").unlink()
    again = run(small(), resumed_dir)  # resumes from step 200
    assert straight.status == first.status == again.status == "ok"
    assert again.metrics == straight.metrics
    assert straight.metrics["train/gate_open_frac"] == 1.0


@pytest.mark.parametrize("algo", ["td3bc", "iql"])
def test_par_off_reports_no_gate_and_no_ratio(tmp_path, algo):
    record = run(small(algo=algo, par=PARSettings(enabled=False)), tmp_path)
    assert record.status == "ok", record.error
    assert record.metrics["train/gate_open_frac"] == 0.0 and record.metrics["train/p_final"] == 0.0
    assert all(c.passed for c in record.claims)


def test_iql_with_par_replaces_actions(tmp_path):
    record = run(small(algo="iql"), tmp_path)
    assert record.status == "ok", record.error
    assert record.metrics["train/gate_open_frac"] == 1.0
    assert record.metrics["train/p_final"] == pytest.approx(0.5, abs=0.5 / 300 + 1e-12)
