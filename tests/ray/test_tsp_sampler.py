"""The TSP sampler on Ray actors (compiled heuristic kept warm, coordinates shared once through the
object store) gives exactly the serial results, also when an actor is killed mid-run (its chunks are
resubmitted to the surviving actor)."""

import threading
import time

import numpy as np
import pytest

from raylab.methods.tsp_mdf.sampling import best_of_k, random_shift_model
from raylab.runtime.parallel import RayMapper
from tests.unit.tsp_mdf import serial_map

pytestmark = pytest.mark.ray


def test_ray_actor_sampling_equals_serial(ray_cluster):
    coords = np.random.default_rng(0).random((4, 120, 2))
    models = [random_shift_model(120, 0.003) for _ in coords]
    serial = best_of_k(serial_map, coords, models, 24, "farthest", seed=1, chunk=6)
    actors = RayMapper(backend="actors", num_actors=2, progress=False)
    parallel = best_of_k(
        lambda fn, items, shared: actors.map(fn, items, name="tsp-sampler", shared=shared),
        coords,
        models,
        24,
        "farthest",
        seed=1,
        chunk=6,
    )
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a["lengths"], b["lengths"])
        np.testing.assert_array_equal(a["tour"], b["tour"])


def test_killing_a_sampler_actor_mid_run_does_not_change_the_result(ray_cluster):
    import ray

    coords = np.random.default_rng(2).random((8, 1000, 2))
    models = [random_shift_model(1000, 0.0005) for _ in coords]
    serial = best_of_k(serial_map, coords, models, 64, "farthest", seed=3, chunk=8)
    actors = RayMapper(backend="actors", num_actors=2, progress=False)
    result = {}
    runner = threading.Thread(
        target=lambda: result.update(
            out=best_of_k(
                lambda fn, items, shared: actors.map(fn, items, name="tsp-kill", shared=shared),
                coords,
                models,
                64,
                "farthest",
                seed=3,
                chunk=8,
            )
        )
    )
    runner.start()
    deadline, victims = time.time() + 60, []
    while not victims and time.time() < deadline:
        victims = [n for n in ray.util.list_named_actors() if n.startswith("tsp-kill-worker-0-")]
        time.sleep(0.1)
    time.sleep(1.5)  # compile, then build some chunks first
    assert runner.is_alive(), "sampling finished before the actor could be killed"
    ray.kill(ray.get_actor(victims[0]), no_restart=False)
    runner.join(timeout=300)
    for a, b in zip(serial, result["out"], strict=True):
        np.testing.assert_array_equal(a["lengths"], b["lengths"])
        np.testing.assert_array_equal(a["tour"], b["tour"])
    actors.close()
