"""A driver for tests/ray/test_jobs.py's node-loss tests, run against the test cluster (RAY_ADDRESS):
a map of slow items over the cluster's CPUs, as tasks or (argv `actors N SURVIVORS`) on a pool of N
one-CPU actors. It prints `STARTED` when the map starts (the test then kills a worker node), waits
for the node count to drop to SURVIVORS, and prints `RESULT {...}`: the map's results and how many
nodes are still alive."""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import ray  # noqa: E402

from raylab.runtime.cluster import ray_session  # noqa: E402
from raylab.runtime.parallel import RayMapper  # noqa: E402


def slow_item(item: int) -> dict:
    time.sleep(1.5)
    return {"item": item, "value": item * item + 7, "node": ray.get_runtime_context().get_node_id()}


def main():
    with ray_session():
        backend, actors, survivors = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        mapper = RayMapper(
            backend=backend, num_actors=actors if backend == "actors" else None, progress=False
        )
        print(f"STARTED with {sum(1 for node in ray.nodes() if node.get('Alive'))} nodes", flush=True)
        results = mapper.map(slow_item, list(range(12)), name="node-loss")
        deadline = time.time() + 90  # the GCS marks a killed node dead after its health checks fail
        while (
            alive := sum(1 for node in ray.nodes() if node.get("Alive"))
        ) > survivors and time.time() < deadline:
            time.sleep(1)
        for result in results:  # all on the head: items the dead node had finished were lost with its
            result.pop("node")  # object store and re-executed there (lineage reconstruction)
        print("RESULT " + json.dumps({"results": results, "alive": alive}), flush=True)


if __name__ == "__main__":
    main()
