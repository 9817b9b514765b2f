"""The TSP sampler on Ray actors (compiled heuristic kept warm, coordinates shared once through the
object store) gives exactly the serial results. Actor loss and restart is covered generically in
test_parallel.py::test_killed_actor_is_restarted_and_its_items_rerun."""

import numpy as np
import pytest

from raylab.context import SerialMapper
from raylab.methods.tsp_mdf.sampling import best_of_k, random_shift_model
from raylab.runtime.parallel import RayMapper

pytestmark = pytest.mark.ray


def test_ray_actor_sampling_equals_serial(ray_cluster):
    coords = np.random.default_rng(0).random((4, 120, 2))
    models = [random_shift_model(120, 0.003) for _ in coords]
    serial = best_of_k(lambda fn, items, shared: SerialMapper(progress=False).map(fn, items, name="tsp", shared=shared),
                       coords, models, 24, "farthest", seed=1, chunk=6)
    actors = RayMapper(backend="actors", num_actors=2, progress=False)
    parallel = best_of_k(lambda fn, items, shared: actors.map(fn, items, name="tsp-sampler", shared=shared),
                         coords, models, 24, "farthest", seed=1, chunk=6)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a["lengths"], b["lengths"])
        np.testing.assert_array_equal(a["tour"], b["tour"])
