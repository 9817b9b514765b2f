"""autodp on Ray: a round's candidates evaluated by an actor pool score exactly as serially, and the
filesystem cache the actors share hits for a later serial run (no key depends on the worker or on
Ray being used)."""

import pytest

from raylab.context import RunContext, SerialMapper
from raylab.methods.autodp.config import AutoDPConfig, DataConfig
from raylab.methods.autodp.data import fact_qa
from raylab.methods.autodp.evaluate import Setup
from raylab.methods.autodp.noise import inject
from raylab.methods.autodp.search import evaluate_all
from raylab.runtime.parallel import RayMapper

pytestmark = pytest.mark.ray

CANDIDATES = [
    ("cleaning",),
    ("optimization", "cleaning"),
    ("selection", "generation"),
    ("cleaning", "selection"),
]


def context(tmp_path, mapper, name):
    return RunContext.create("autodp/fact_qa", 0, tmp_path / name, mapper=mapper)


def test_actor_pool_scores_equal_serial_and_share_the_cache(ray_cluster, tmp_path):
    cfg = AutoDPConfig(data=DataConfig(max_items=80))
    data = inject(fact_qa(80, seed=0), cfg.data.noise, seed=1)
    shared = Setup(cfg, data, seed=0, cache_dir=str(tmp_path / "cache"))
    actors = RayMapper(backend="actors", num_actors=2, progress=False)
    try:
        on_ray = evaluate_all(context(tmp_path, actors, "ray"), CANDIDATES, shared, "test")
    finally:
        actors.close()
    serial = evaluate_all(
        context(tmp_path, SerialMapper(progress=False), "serial"),
        CANDIDATES,
        Setup(cfg, data, seed=0),
        "test",
    )
    assert [e.accuracy for e in on_ray] == [e.accuracy for e in serial]
    assert [e.rows_fp for e in on_ray] == [e.rows_fp for e in serial]
    assert sum(e.counters.op_runs for e in on_ray) > 0
    again = evaluate_all(context(tmp_path, SerialMapper(progress=False), "again"), CANDIDATES, shared, "test")
    assert sum(e.counters.op_runs + e.counters.llm_calls for e in again) == 0
    assert [e.accuracy for e in again] == [e.accuracy for e in serial]
