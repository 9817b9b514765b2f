"""Shared fixtures. Ray starts at most once per pytest session, small, private and without auth."""

import os
import shutil
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # no ~/.ray/auth_token, no auth warning
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
os.environ.pop("RAY_ADDRESS", None)  # never attach to a stray cluster

import pytest  # noqa: E402

FAKE_GPUS = 2


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray per pytest worker for its Ray tests: 2 CPUs, 2 fake GPUs (placement tests), 256 MB
    object store, in a temp dir of its own (a folder per xdist worker under $RAYLAB_TEST_RAY_TMP in CI,
    which cleans it up: two session Rays must not share one)."""
    import ray

    from raylab.runtime import reaper
    from raylab.runtime.cluster import local_init_kwargs

    # As `raylab run` does for its embedded Ray: a pytest worker killed mid-run (CI timeout, Ctrl-C
    # twice) must not leave this Ray's agents behind, adopted by init and deaf to SIGTERM.
    os.environ[reaper.TAG_ENV] = f"pytest-{uuid.uuid4().hex}"
    reaper.start(os.environ[reaper.TAG_ENV])

    own_dir = not os.environ.get("RAYLAB_TEST_RAY_TMP")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    temp_dir = (
        tempfile.mkdtemp(prefix="raylab-ray-")
        if own_dir
        else os.path.join(os.environ["RAYLAB_TEST_RAY_TMP"], worker)
    )
    ray.init(
        **local_init_kwargs(num_cpus=2, num_gpus=FAKE_GPUS, object_store_mb=256),
        _temp_dir=temp_dir,
        log_to_driver=False,
    )
    yield ray
    ray.shutdown()
    if own_dir:
        shutil.rmtree(temp_dir, ignore_errors=True)


# Modules whose tests share a module-scoped cluster fixture: under `-n 2` each is one unit of work on
# one xdist worker, so its fixture starts once (not once per worker) and its tests run in file order.
SHARED_CLUSTER_MODULES = ("tests/ray/test_jobs.py",)


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup`, working: xdist groups a test by rewriting `item._nodeid`, which pytest 9 no
    longer reads (its node ids are derived from `item._id`), so `xdist_group` marks have no effect.
    This scheduler groups by module instead, for the modules named above; every other test is its own
    unit, as in plain load scheduling."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedClusterScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in SHARED_CLUSTER_MODULES else nodeid

    return SharedClusterScheduling(config, log)


CLUSTER_TESTS = Path(__file__).parent / "ray"


def pytest_collection_modifyitems(config, items):
    """Every test of the cluster group (tests/ray: a real Ray, seconds to a minute each) is `slow`, so
    `pytest -m "not slow"` is the quick tier; slow tests run first. `@pytest.mark.gpu` tests need
    CUDA; without it they are skipped (benchmarks/gpu_suite.sh runs them on a GPU machine)."""
    for item in items:
        if CLUSTER_TESTS in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
    # slow tests first, each group in collection order: under xdist the last minutes are then short
    # unit tests that both workers share, not one long test on one worker while the other is idle
    items.sort(key=lambda item: "slow" not in item.keywords)
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA (run benchmarks/gpu_suite.sh on a GPU machine)")
    for item in gpu_items:
        item.add_marker(skip)
