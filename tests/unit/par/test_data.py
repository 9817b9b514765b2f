"""Offline data: Pendulum datasets built on the fly and through the local minari store give the same
transitions; terminations bootstrap, truncations do not; clear errors for unusable datasets."""

import numpy as np
import pytest

from raylab import DataMissing
from raylab.methods.par import pendulum
from raylab.methods.par.data import DatasetError, Transitions, load_dataset


def test_pendulum_episodes_are_truncated_never_terminated_and_returns_match_rewards():
    data, returns = pendulum.build("weak", 2, seed=0)
    assert len(data) == 400 and not data.terminals.any()
    np.testing.assert_allclose(returns.sum(), data.rewards.sum(), rtol=1e-5)
    np.testing.assert_array_equal(data.next_observations[:199], data.observations[1:200])
    assert np.all(np.abs(data.actions) <= 2.0)


def test_the_expert_controller_swings_up_and_weak_data_sits_in_between():
    _, expert = pendulum.build("expert", 5, seed=1)
    _, weak = pendulum.build("weak", 5, seed=1)
    _, random = pendulum.build("random", 5, seed=1)
    # expected returns: expert about -139 (normalised 100), weak about -660 (51), random about -1195 (0)
    assert (
        pendulum.normalised(expert).mean()
        > 85
        > pendulum.normalised(weak).mean()
        > 25
        > pendulum.normalised(random).mean()
    )


def test_minari_round_trip_equals_the_on_the_fly_dataset(tmp_path, monkeypatch):
    pytest.importorskip("minari")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    pendulum.write_minari("weak", 3, 0, "test/pendulum/weak-v0")
    stored = load_dataset("minari:test/pendulum/weak-v0", 0, 0)
    fresh = load_dataset("pendulum:weak", 3, 0)
    for field in ("observations", "actions", "rewards", "next_observations", "terminals"):
        np.testing.assert_array_equal(
            getattr(stored.transitions, field).reshape(getattr(fresh.transitions, field).shape),
            getattr(fresh.transitions, field),
        )
    assert stored.env_id == "Pendulum-v1" and (stored.ref_min, stored.ref_max) == (
        pendulum.REF_MIN,
        pendulum.REF_MAX,
    )
    with pytest.raises(DataMissing, match="'nope/x-v0' is not in the local store.*test/pendulum/weak-v0"):
        load_dataset("minari:nope/x-v0", 0, 0)


def test_unusable_data_is_named():
    good = pendulum.build("random", 1, seed=2)[0]
    bad = Transitions(
        **{
            f: getattr(good, f).copy()
            for f in ("observations", "actions", "rewards", "next_observations", "terminals")
        }
    )
    bad.rewards[5] = np.nan
    with pytest.raises(
        DatasetError, match="rewards has non-finite values in 1 transitions \\(first at index 5\\)"
    ):
        bad.check("my-data")
    short = Transitions(
        good.observations, good.actions[:-1], good.rewards, good.next_observations, good.terminals
    )
    with pytest.raises(DatasetError, match="different or zero lengths"):
        short.check("my-data")
    with pytest.raises(DatasetError, match="must be minari:<id> or pendulum:"):
        load_dataset("d4rl:hopper", 0, 0)
