"""The MuJoCo dataset builder's code path, at toy size on Pendulum: SAC trains (RLlib), checkpoints
evaluate, and random / medium / expert minari datasets load back through the PAR data loader."""

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]


def test_sac_checkpoints_become_minari_datasets(ray_cluster, tmp_path, monkeypatch):
    pytest.importorskip("minari")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    from raylab.methods.par.collect import build_datasets
    from raylab.methods.par.data import dataset_statistics, load_dataset
    from raylab.methods.par.rllib import sac_policy, train_sac

    saved = train_sac("Pendulum-v1", iterations=2, every=1, out_dir=tmp_path / "sac", eval_episodes=1)
    assert [c.iteration for c in saved] == [1, 2] and all(c.eval_return < 0 for c in saved)
    ids = build_datasets(
        "Pendulum-v1", "test/pendulum", saved, sac_policy, transitions=300, ref_min=-1195.0, ref_max=-139.0
    )
    assert ids == ["test/pendulum/random-v0", "test/pendulum/medium-v0", "test/pendulum/expert-v0"]
    stats = dataset_statistics(ids)
    assert [round(row["normalised_local"], 9) for row in (stats[0], stats[-1])] == [0.0, 100.0]
    for row in stats:
        data = load_dataset(f"minari:{row['dataset']}", 0, 0)
        assert row["transitions"] == len(data.transitions) and row["episodes"] == len(data.behaviour_returns)
        expected = 100 * (row["return_mean"] + 1195.0) / (-139.0 + 1195.0)
        assert abs(row["normalised_d4rl"] - expected) < 1e-6 * max(1.0, abs(expected))
    for dataset_id in ids:
        data = load_dataset(f"minari:{dataset_id}", 0, 0)
        assert len(data.transitions) >= 300 and data.env_id == "Pendulum-v1"
        assert abs(data.transitions.actions).max() <= 2.0
        # SAC's actions live in [-1, 1] (normalised) and must be rescaled to Pendulum's [-2, 2]: an
        # untrained policy's tanh(N(mu, 1)) samples pass 1 in magnitude about half the time
        assert abs(data.transitions.actions).max() > 1.0
