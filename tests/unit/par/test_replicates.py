"""Replicates as a batch dimension: replicate r of a vectorised TD3+BC trains as it would alone.

Each replicate's arithmetic is the same in a batch as alone; only a batched matmul may sum in another
order, float32 rounding (~1e-7 relative per op), which a few dozen Adam steps of size 3e-4 keep far
below the 1e-5 the comparisons allow. Coupling between replicates (a normaliser, a generator or a
member shared across them) moves a replicate by at least one step size, 3e-4, and fails them.
"""

import dataclasses

import numpy as np
import pytest
import torch

from raylab.methods.par.bandit import BanditRun, train_bandit
from raylab.methods.par.config import BanditConfig, DatasetConfig, OfflineConfig, PARSettings, TD3BCConfig
from raylab.methods.par.offline import train_offline, train_replicates
from raylab.methods.par.replacer import ProximalActionReplacer
from raylab.methods.par.td3bc import TD3BC

TOL = {"rtol": 1e-5, "atol": 1e-5}
# (init seed, actor loss, PAR on, alpha): every way in which a batch's replicates may differ
REPLICATES = [(11, "mse", False, 2.5), (12, "mse", True, 0.5), (13, "kl", True, 1.0), (14, "mle", False, 1.0)]


def learner(replicates, hidden: int = 16) -> TD3BC:
    return TD3BC(
        3, 2, 2.0, TD3BCConfig(hidden=hidden),
        [seed for seed, *_ in replicates],
        [torch.Generator().manual_seed(seed) for seed, *_ in replicates],
        [ProximalActionReplacer(0, 40, 0.5, 0.5, gate="off") if par else None for _, _, par, _ in replicates],
        alphas=[alpha for *_, alpha in replicates],
        actor_losses=[loss for _, loss, _, _ in replicates],
    )  # fmt: skip


def train(model: TD3BC, data: dict, steps: int = 30) -> TD3BC:
    for step in range(steps):
        rows = [torch.randint(len(data["actions"]), (32,), generator=g) for g in model.generators]
        model.update({key: torch.stack([value[r] for r in rows]) for key, value in data.items()}, step)
    return model


@pytest.fixture(scope="module")
def data() -> dict:
    g = torch.Generator().manual_seed(0)
    return {
        "observations": torch.randn(500, 3, generator=g),
        "actions": torch.rand(500, 2, generator=g) * 4 - 2,
        "rewards": torch.randn(500, generator=g),
        "next_observations": torch.randn(500, 3, generator=g),
        "terminals": (torch.rand(500, generator=g) < 0.1).float(),
    }


def test_each_replicate_of_a_mixed_batch_trains_as_it_would_alone(data):
    batched = train(learner(REPLICATES), data)
    obs = torch.randn(len(REPLICATES), 8, 3, generator=torch.Generator().manual_seed(1))
    for r, replicate in enumerate(REPLICATES):
        alone = train(learner([replicate]), data)
        torch.testing.assert_close(batched.act(obs)[r], alone.act(obs[r : r + 1])[0], **TOL)
        q_batched, q_alone = (
            batched.first_q(obs, batched.act(obs))[r],
            alone.first_q(obs[r : r + 1], alone.act(obs[r : r + 1]))[0],
        )
        torch.testing.assert_close(q_batched, q_alone, **TOL)


def test_a_replicate_moves_when_its_neighbour_changes_only_through_its_own_seed(data):
    """The test above can fail: the same replicate beside a different neighbour ends where it did,
    while a replicate trained from another seed does not."""
    a = train(learner([REPLICATES[0], REPLICATES[1]]), data)
    b = train(learner([REPLICATES[0], REPLICATES[2]]), data)
    other = train(learner([(99, *REPLICATES[0][1:])]), data)
    obs = torch.randn(1, 8, 3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a.act(obs.expand(2, 8, 3))[0], b.act(obs.expand(2, 8, 3))[0], **TOL)
    assert (a.act(obs.expand(2, 8, 3))[0] - other.act(obs)[0]).abs().max() > 1e-3


def test_offline_runs_in_one_batch_equal_their_runs_alone():
    base = OfflineConfig(
        dataset=DatasetConfig("pendulum:weak", episodes=2),
        steps=40, batch=32, eval_every=20, eval_episodes=1, checkpoint_every=40,
        td3bc=TD3BCConfig(hidden=16), par=PARSettings(enabled=True, start=0.25, gate="off"),
    )  # fmt: skip
    cfgs = [
        dataclasses.replace(base, seed=3),
        dataclasses.replace(base, seed=3, par=dataclasses.replace(base.par, enabled=False)),
        dataclasses.replace(base, seed=4, td3bc=dataclasses.replace(base.td3bc, alpha=0.5)),
    ]
    for (batched, batched_evals), cfg in zip(train_replicates(cfgs), cfgs, strict=True):
        alone, alone_evals = train_offline(cfg)
        assert batched == pytest.approx(alone, rel=1e-4, nan_ok=True)
        assert batched_evals == pytest.approx(alone_evals, rel=1e-4)


def test_a_replicate_batch_refuses_runs_that_differ_in_more_than_seed_par_and_alpha():
    base = OfflineConfig(steps=10)
    with pytest.raises(ValueError, match="may differ only in seed, par.enabled and td3bc.alpha"):
        train_replicates([base, dataclasses.replace(base, steps=20)])


def test_a_replicate_batch_refuses_an_unknown_actor_loss():
    with pytest.raises(ValueError, match=r"unknown actor losses \['l1'\]"):
        learner([(1, "l1", False, 1.0)])


def test_bandit_runs_in_one_batch_equal_their_runs_alone():
    cfg = BanditConfig(replicates=1, steps=60, hidden=8, dataset_size=300, batch=16)
    runs = [BanditRun(cfg, loss, 7, par) for loss in cfg.losses for par in (False, True)]
    for batched, run in zip(train_bandit(tuple(runs)), runs, strict=True):
        (alone,) = train_bandit((run,))
        np.testing.assert_allclose(batched["action"], alone["action"], **TOL)
        assert batched["gate_open_frac"] == alone["gate_open_frac"]
