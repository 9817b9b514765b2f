"""RayMapper on the shared local cluster: same ordered results as the serial path, named failures."""

import threading
import time

import numpy as np
import pytest

from raylab.context import ItemError, SerialMapper
from raylab.methods.specgd.experiment import Cell, run_cell
from raylab.runtime.parallel import RayMapper
from raylab.seeding import derive_seed

pytestmark = pytest.mark.ray


def noisy_square(item, shared):
    """Items carry their own seeds: (value, seed)."""
    value, seed = item
    return value * value + shared + np.random.default_rng(seed).random()


def seeded(values, name: str) -> list[tuple[int, int]]:
    return [(v, derive_seed(4, name, i)) for i, v in enumerate(values)]


def fail_on_two(item):
    if item == 2:
        raise ZeroDivisionError("item two")
    return item


@pytest.mark.parametrize("backend", ["tasks", "actors"])
def test_ray_map_equals_serial_map(ray_cluster, backend):
    items = seeded(range(7), "sq")
    serial = SerialMapper(progress=False).map(noisy_square, items, name="sq", shared=100)
    ray_out = RayMapper(backend=backend, progress=False).map(noisy_square, items, name="sq", shared=100)
    assert ray_out == serial


@pytest.mark.parametrize("backend", ["tasks", "actors"])
def test_failing_item_is_named(ray_cluster, backend):
    with pytest.raises(ItemError, match=r"pick: item 2 2 failed: ZeroDivisionError: item two"):
        RayMapper(backend=backend, progress=False).map(fail_on_two, [0, 1, 2, 3], name="pick")


def test_specgd_cells_identical_through_ray(ray_cluster):
    cells = [
        Cell(derive_seed(0, "problem", s), 20, lam, 0, 1e-3, opt, 0.01, 60)
        for lam in (1.0, 20.0)
        for opt in ("gd", "specgd")
        for s in range(2)
    ]
    serial = SerialMapper(progress=False).map(run_cell, cells, name="cell")
    parallel = RayMapper(progress=False).map(run_cell, cells, name="cell")
    for a, b in zip(serial, parallel, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def slow_square(item):
    time.sleep(0.3)
    value, seed = item
    return value * value + seed


def test_a_killed_actors_items_rerun_on_the_survivors(ray_cluster):
    import ray

    items = seeded(range(12), "kill-test")
    expected = SerialMapper(progress=False).map(slow_square, items, name="kill-test")
    result = {}
    mapper = RayMapper(backend="actors", num_actors=2, progress=False)
    runner = threading.Thread(
        target=lambda: result.update(out=mapper.map(slow_square, items, name="kill-test"))
    )
    runner.start()
    deadline = time.time() + 30
    victims = []
    while not victims and time.time() < deadline:
        victims = [n for n in ray.util.list_named_actors() if n.startswith("kill-test-worker-0-")]
        time.sleep(0.1)
    time.sleep(0.8)  # let it take some items first
    assert runner.is_alive(), "the map finished before the actor could be killed"
    victim = ray.get_actor(victims[0])
    ray.kill(victim, no_restart=False)
    runner.join(timeout=120)
    assert result["out"] == expected
    names = {actor._ray_actor_id for actor in mapper._actors}
    assert victim._ray_actor_id not in names, "the dead actor left the pool"
    # its replacement (the killed actor's CPU is free again) joins the pool for the next map
    replacements = list(mapper._starting)
    ray.wait(replacements, num_returns=len(replacements), timeout=60)
    assert mapper.map(slow_square, items[:3], name="kill-test") == expected[:3]
    assert len(mapper._actors) == 2 and not mapper._starting
    mapper.close()


def add_shared(item, shared):
    return item + shared


@pytest.mark.timeout(180)
def test_one_actor_pool_serves_every_function_without_waiting_for_cpus(ray_cluster):
    """A pool sized to the free CPUs must not block a second function's map (it reuses the pool)."""
    mapper = RayMapper(backend="actors", progress=False)
    items = seeded([1, 2, 3], "pool-a")
    expected = SerialMapper(progress=False).map(noisy_square, items, name="pool-a", shared=1.0)
    assert mapper.map(noisy_square, items, name="pool-a", shared=1.0) == expected
    assert mapper.map(add_shared, [1, 2], name="pool-b", shared=10) == [11, 12]
    assert mapper.map(fail_on_two, [0, 1], name="pool-c") == [0, 1]
    mapper.close()


def uneven(item):
    import os

    time.sleep(2.0 if item == 0 else 0.05)
    return item, os.getpid()


def test_actors_take_the_next_item_when_free_not_round_robin(ray_cluster):
    """#19 scale: one long item (2 s) and eleven short ones on two actors. Round-robin would queue
    six items behind the long one; next-idle leaves it at most the one queued beside it."""
    out = RayMapper(backend="actors", num_actors=2, progress=False).map(
        uneven, list(range(12)), name="uneven"
    )
    assert [item for item, _ in out] == list(range(12))  # ordered as the items
    slow_pid = out[0][1]
    assert sum(pid == slow_pid for _, pid in out) <= 2


def test_replicate_batches_fill_the_cluster_and_give_the_serial_numbers(ray_cluster):
    """One replicate batch per CPU on Ray, one on the serial path: the same numbers either way."""
    from raylab.methods.par.bandit import BanditRun, train_bandit
    from raylab.methods.par.config import BanditConfig
    from raylab.replicates import replicate_batches

    cfg = BanditConfig(replicates=1, steps=40, hidden=8, dataset_size=300, batch=16, losses=["mse", "kl"])
    runs = [BanditRun(cfg, loss, 7, par) for loss in cfg.losses for par in (False, True)]
    mapper = RayMapper(progress=False)
    assert mapper.slots() == 2  # the shared cluster's CPUs
    (serial,) = SerialMapper(progress=False).map(train_bandit, [tuple(runs)], name="bandit")
    groups = mapper.map(train_bandit, replicate_batches(runs, mapper.slots()), name="bandit")
    assert [len(group) for group in groups] == [2, 2]
    for a, b in zip(serial, [run for group in groups for run in group], strict=True):
        np.testing.assert_allclose(a["action"], b["action"], rtol=1e-5, atol=1e-5)
