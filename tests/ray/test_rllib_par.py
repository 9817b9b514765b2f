"""PAR as a plug-in for RLlib's IQL (custom TorchLearner): trains on a small local parquet dataset,
replaces actions on the actor loss, and keeps its state through a checkpoint round trip."""

import numpy as np
import pytest
import torch

pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]


def test_iql_with_par_trains_and_checkpoints_its_state(ray_cluster, tmp_path):
    import gymnasium as gym
    from ray.rllib.algorithms.iql import IQLConfig

    from raylab.methods.par.config import IQLConfig as OurIQL
    from raylab.methods.par.config import PARSettings
    from raylab.methods.par.pendulum import build
    from raylab.methods.par.rllib import PAR_STATE, par_iql_config, write_parquet

    data, _ = build("weak", 10, seed=0)
    env = gym.make("Pendulum-v1")
    write_parquet(data, tmp_path / "data", episode_length=200, action_space=env.action_space)
    ours = OurIQL()
    par = PARSettings(enabled=True, start=0.0, p_max=0.5, gate="off")
    config = par_iql_config(ours, par, 4, env.observation_space, env.action_space, [str(tmp_path / "data")])
    config = config.offline_data(dataset_num_iters_per_learner=2).training(train_batch_size_per_learner=128)
    # the standalone learner's hyperparameters, not RLlib's defaults (0.1 / 0.8 / 1.0)
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
        # PAR's synthetic actions are the EMA actor's squashed mean, inside the bounds (the
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


class _Wrapped:
    """A callable standing in for one of the standalone learner's networks, with no parameters of its
    own (so the standalone's optimisers and Polyak updates leave RLlib's module alone)."""

    def __init__(self, forward, log_prob=None):
        self.forward, self.log_prob = forward, log_prob

    def __call__(self, *args):
        return self.forward(*args)

    def parameters(self):
        return []


def test_plugin_and_standalone_compute_the_same_par_iql_step(ray_cluster, tmp_path):
    """One fixed batch through the plug-in (RLlib's IQL learner + PAR) and through the
    standalone IQL + PAR, both computing with the same networks (RLlib's module, wrapped for the
    standalone; actions in Pendulum units there, in [-1, 1] in RLlib), keeps the same rows, draws the
    same pool rows and computes the same value, critic and actor (AWR-weighted) losses."""
    import gymnasium as gym
    from ray.rllib.algorithms.dqn.dqn_learner import QF_LOSS_KEY
    from ray.rllib.algorithms.iql.iql_learner import VF_LOSS
    from ray.rllib.algorithms.sac.sac_learner import QF_TWIN_LOSS_KEY
    from ray.rllib.core.columns import Columns
    from ray.rllib.core.learner.learner import POLICY_LOSS_KEY

    from raylab.methods.par.config import IQLConfig as OurIQL
    from raylab.methods.par.config import PARSettings
    from raylab.methods.par.iql import IQL
    from raylab.methods.par.pendulum import build
    from raylab.methods.par.rllib import par_iql_config, write_parquet

    data, _ = build("weak", 10, seed=0)
    env = gym.make("Pendulum-v1")
    write_parquet(data, tmp_path / "data", episode_length=200, action_space=env.action_space)
    par = PARSettings(enabled=True, start=0.0, p_min=0.5, p_max=0.5, gate="off")  # k = 64 of 128
    config = par_iql_config(
        OurIQL(), par, 4, env.observation_space, env.action_space, [str(tmp_path / "data")]
    )
    algo = config.build_algo()
    try:
        learner, mid = algo.learner_group._learner, "default_policy"
        module = learner._module[mid].unwrapped()
        ema = learner._ema_actor(mid, module)
        rows = slice(0, 128)
        obs, env_actions = torch.as_tensor(data.observations[rows]), torch.as_tensor(data.actions[rows])
        batch = {
            Columns.OBS: obs,
            Columns.ACTIONS: env_actions / 2.0,
            Columns.REWARDS: torch.as_tensor(data.rewards[rows]).reshape(-1),
            Columns.NEXT_OBS: torch.as_tensor(data.next_observations[rows]),
            Columns.TERMINATEDS: torch.as_tensor(data.terminals[rows]).reshape(-1).bool(),
        }
        mixed = {}

        def recording(name, mix):
            def wrapper(*args, **kwargs):
                mixed[name] = mix(*args, **kwargs)
                return mixed[name]

            return wrapper

        learner.replacers[mid].mix = recording("plugin", learner.replacers[mid].mix)
        fwd_out = module.forward_train(batch)
        torch.manual_seed(0)  # the pool draws (torch's global generator on both sides)
        learner.compute_loss_for_module(
            module_id=mid, config=learner.config.get_config_for_module(mid), batch=batch, fwd_out=fwd_out
        )
        plugin = {key: value.item() for (_, key), value in learner._temp_losses.items()}
        learner._temp_losses.clear()

        def q_pair(encoders, obs, actions):
            unit = {Columns.OBS: obs, Columns.ACTIONS: actions / 2.0}
            return tuple(module._qf_forward_train_helper(unit, encoder=e, head=h) for e, h in encoders)

        online = ((module.qf_encoder, module.qf), (module.qf_twin_encoder, module.qf_twin))
        target = (
            (module.target_qf_encoder, module.target_qf),
            (module.target_qf_twin_encoder, module.target_qf_twin),
        )
        standalone = IQL(3, 1, 2.0, OurIQL(), par.build(4))
        standalone.value = _Wrapped(lambda o: module.compute_values({Columns.OBS: o}))
        standalone.critic = _Wrapped(lambda o, a: q_pair(online, o, a))
        standalone.critic_target = _Wrapped(lambda o, a: q_pair(target, o, a))
        standalone.actor = _Wrapped(
            None, log_prob=lambda o, a: learner._dist(module, module.pi_encoder, module.pi, o).logp(a / 2.0)
        )
        standalone.actor_target = _Wrapped(lambda o: 2.0 * learner.propose(module, ema, o))
        standalone.actor_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)
        standalone.replacer.mix = recording("standalone", standalone.replacer.mix)
        torch.manual_seed(0)
        ours = standalone.update(
            {
                "observations": obs,
                "actions": env_actions,
                "rewards": batch[Columns.REWARDS],
                "next_observations": batch[Columns.NEXT_OBS],
                "terminals": batch[Columns.TERMINATEDS].float(),
            },
            step=0,
        )
        (plugin_obs, plugin_actions, plugin_info), (our_obs, our_actions, our_info) = (
            mixed["plugin"],
            mixed["standalone"],
        )
        assert plugin_info.k == our_info.k == 64
        torch.testing.assert_close(our_obs, plugin_obs, rtol=0, atol=0)  # kept rows and pool draws
        torch.testing.assert_close(our_actions, 2.0 * plugin_actions, rtol=1e-6, atol=1e-6)
        assert ours["value_loss"] == pytest.approx(plugin[VF_LOSS], rel=1e-5)
        # RLlib halves each twin critic's MSE; the standalone sums them (as CORL and the PAR code do)
        assert ours["critic_loss"] == pytest.approx(
            2 * (plugin[QF_LOSS_KEY] + plugin[QF_TWIN_LOSS_KEY]), rel=1e-5
        )
        assert ours["actor_loss"] == pytest.approx(plugin[POLICY_LOSS_KEY], rel=1e-5)
    finally:
        algo.stop()
