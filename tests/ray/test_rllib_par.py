"""PAR as a plug-in for RLlib's IQL (custom TorchLearner): trains on a small local parquet dataset,
replaces actions on the actor loss, and keeps its state through a checkpoint round trip."""

import numpy as np
import pytest
import torch

pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]


def test_iql_with_par_trains_and_checkpoints_its_state(ray_cluster, tmp_path):
    import gymnasium as gym
    from ray.rllib.algorithms.iql import IQLConfig

    from raylab.methods.par.config import IQLConfig as OurIQL, PARSettings
    from raylab.methods.par.pendulum import build
    from raylab.methods.par.rllib import PAR_STATE, par_iql_config, write_parquet

    data, _ = build("weak", 10, seed=0)
    write_parquet(data, tmp_path / "data", episode_length=200)
    env = gym.make("Pendulum-v1")
    ours = OurIQL()
    par = PARSettings(enabled=True, start=0.0, p_max=0.5, gate="off")
    config = par_iql_config(ours, par, 4, env.observation_space, env.action_space, [str(tmp_path / "data")])
    config = config.offline_data(dataset_num_iters_per_learner=2).training(train_batch_size_per_learner=128)
    # issue #18 item 2: the standalone learner's hyperparameters, not RLlib's defaults (0.1 / 0.8 / 1.0)
    assert isinstance(config, IQLConfig)
    assert (config.expectile, config.tau, config.gamma) == (0.7, 0.005, 0.99)
    assert config.target_network_update_freq == 0 and config.actor_lr == config.value_lr == ours.lr
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(2)]
        learner = algo.learner_group._learner
        assert float(learner.temperature["default_policy"]) == 3.0 and learner.ema_tau == 0.005
        assert float(learner.expectile["default_policy"]) == pytest.approx(0.7)
        module_stats = results[-1]["learners"]["default_policy"]
        assert module_stats["par_gate_open"] == 1.0 and module_stats["par_replaced"] > 0
        assert np.isfinite(module_stats["policy_loss"])
        # PAR's synthetic actions are the EMA actor's squashed mean, inside the bounds (issue #18: the
        # plug-in used to propose the raw pre-tanh mean)
        module = learner._module["default_policy"].unwrapped()
        ema = learner.ema_actors["default_policy"]
        obs = torch.as_tensor(data.observations[:256], dtype=torch.float32)
        proposed = learner.propose(module, ema, obs)
        dist = learner._dist(module, ema["encoder"], ema["head"], obs)
        low, high = dist.low, dist.high
        torch.testing.assert_close(proposed, low + (torch.tanh(dist.loc) + 1) / 2 * (high - low))
        assert float(proposed.min()) >= low and float(proposed.max()) <= high
        state = learner.get_state()
        replacer = state[PAR_STATE]["replacers"]["default_policy"]
        assert state[PAR_STATE]["step"] == 4 and len(replacer["pool_states"]) > 0
        algo.save_to_path(tmp_path / "ckpt")
        learner.par_step, learner.replacers["default_policy"].pool_states = 0, None
        # (Algorithm.restore_from_path needs env runners, which an offline IQL without evaluation lacks.)
        algo.learner_group.restore_from_path(tmp_path / "ckpt" / "learner_group")
        assert learner.par_step == 4 and learner.replacers["default_policy"].pool_states is not None
    finally:
        algo.stop()
