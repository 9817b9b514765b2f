"""Ray's costs as raylab pays them, on a local cluster:

1. per-task and per-actor-call overhead (empty items through RayMapper, tasks and actors backends);
2. a map of uneven items (one long, many short) on the actor pool: the measured wall time against the
   round-robin schedule's makespan (computed from the same run's per-item durations) and the ideal;
3. the parallel efficiency of a Tune sweep of 1-second trials on 1 node vs 2 nodes of a local
   `ray.cluster_utils.Cluster` (efficiency = trials x 1 s / (wall x CPUs)).

    python benchmarks/ray_overhead.py [--items 400] [--trials 8]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray  # noqa: E402
from ray import tune  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from raylab.runtime.parallel import RayMapper  # noqa: E402

LONG_S, SHORT_S = 1.0, 0.05


def empty(item):
    return item


def timed_item(item):
    start = time.perf_counter()
    time.sleep(LONG_S if item % 16 == 0 else SHORT_S)
    return time.perf_counter() - start


def overheads(items: int) -> None:
    for backend in ("tasks", "actors"):
        mapper = RayMapper(backend=backend, num_actors=2, progress=False)
        mapper.map(empty, list(range(8)), name="warm")  # actors started, functions shipped
        start = time.perf_counter()
        mapper.map(empty, list(range(items)), name="empty")
        per_item = (time.perf_counter() - start) / items
        print(f"{backend:>6}: {1e3 * per_item:.2f} ms per empty item ({items} items, 2 CPUs)")
        mapper.close()


def uneven_map(items: int) -> None:
    mapper = RayMapper(backend="actors", num_actors=2, progress=False)
    mapper.map(empty, list(range(4)), name="warm")
    start = time.perf_counter()
    durations = mapper.map(timed_item, list(range(items)), name="uneven")
    wall = time.perf_counter() - start
    round_robin = max(sum(durations[k::2]) for k in range(2))
    print(
        f"uneven map ({items} items, every 16th {LONG_S:g} s, the rest {SHORT_S:g} s, 2 actors): "
        f"next-idle {wall:.2f} s | round-robin makespan {round_robin:.2f} s | "
        f"ideal {sum(durations) / 2:.2f} s"
    )
    mapper.close()


def one_second_trial(config):
    time.sleep(1.0)
    tune.report({"score": config["x"]})


def sweep_efficiency(trials: int) -> None:
    for nodes in (1, 2):
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, log_to_driver=False)
        start = time.perf_counter()
        tuner = tune.Tuner(
            tune.with_resources(one_second_trial, {"cpu": 1}),
            param_space={"x": tune.grid_search(list(range(trials)))},
            tune_config=tune.TuneConfig(max_concurrent_trials=nodes),
            run_config=tune.RunConfig(verbose=0, storage_path=f"/tmp/raylab-bench-{os.getpid()}"),
        )
        tuner.fit()
        wall = time.perf_counter() - start
        print(f"sweep of {trials} 1-second trials on {nodes} node(s) x 1 CPU: {wall:.1f} s, "
              f"efficiency {trials / (wall * nodes):.2f}")  # fmt: skip
        ray.shutdown()
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--trials", type=int, default=8)
    args = parser.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=256 * 2**20, log_to_driver=False)
    overheads(args.items)
    uneven_map(64)
    ray.shutdown()
    sweep_efficiency(args.trials)


if __name__ == "__main__":
    main()
