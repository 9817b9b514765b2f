"""The offline loop: a run resumed from its checkpoint ends exactly where an uninterrupted run does;
PAR-off runs report no gate and p = 0; IQL runs with PAR."""

import pytest

from raylab.context import SerialMapper
from raylab.methods.par.config import DatasetConfig, OfflineConfig, PARSettings, TD3BCConfig
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


def test_smoothing_noise_is_in_action_units_whatever_max_action():
    """Smoothing noise 0.2, clipped at 0.5, in action units (unscaled, as in the official PAR code).
    With a zero target actor and a critic that returns its first action coordinate,
    y = clip(N(0, 0.2^2), +-0.5): a standard normal clipped at +-2.5 has sd
    sqrt(int_{-2.5}^{2.5} x^2 phi + 2 x 2.5^2 P(X > 2.5)) = 0.98872, so 0.19774; 20,000 draws put its
    estimate within 4 x 0.2 / sqrt(40,000) = 0.004 (CORL's scaling by max_action 10 would give ~1.9)."""
    import torch

    from raylab.methods.par.td3bc import TD3BC

    learner = TD3BC(3, 2, 10.0, TD3BCConfig(gamma=1.0), [0], [torch.Generator().manual_seed(0)])
    learner.actor_target = lambda obs: torch.zeros(*obs.shape[:2], 2)  # tanh(0) = 0: no action
    learner.critic_target = lambda x: x[..., 3:4]  # Q'(s, a) = a_0, Q1' and Q2' alike
    n = 20_000
    y = learner.bellman_target(torch.zeros(1, n), torch.zeros(1, n, 3), torch.zeros(1, n))
    assert y.abs().max() <= 0.5 + 1e-6
    assert abs(float(y.std()) - 0.2 * 0.98872) <= 0.004


def test_last10_and_best_are_the_official_codes_figures(tmp_path):
    from raylab.methods.par.offline import train_offline

    result, evals = train_offline(small(steps=300, eval_every=50, checkpoint_every=300))
    assert len(evals) == 6
    assert result["eval/norm_return_best"] == max(evals)
    assert result["eval/norm_return_last10"] == pytest.approx(sum(evals) / 6)
    assert result["eval/norm_return"] == evals[-1]


def test_states_are_standardised_only_when_asked(monkeypatch):
    """normalize_states off (the official code): the learner's batches hold the raw states."""
    import torch

    from raylab.methods.par import offline

    seen = {}
    original = offline.make_learner

    def spy(cfgs, data, generators):
        learner = original(cfgs, data, generators)
        update = learner.update

        def recording_update(batch, step):
            seen.setdefault(cfgs[0].normalize_states, batch["observations"][0])
            return update(batch, step)

        learner.update = recording_update
        return learner

    monkeypatch.setattr(offline, "make_learner", spy)
    for flag in (False, True):
        offline.train_offline(small(steps=2, eval_every=2, normalize_states=flag))
    raw, standardised = seen[False], seen[True]
    assert float(raw[:, :2].abs().max()) <= 1.0 + 1e-6  # Pendulum: cos and sin of the angle
    assert float(standardised[:, :2].abs().max()) > 1.0  # standardised: unit variance, so beyond 1
    assert not torch.allclose(raw, standardised)
