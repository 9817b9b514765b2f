"""A driver for tests/ray/test_jobs.py's node-loss test, run against the two-node test cluster
(RAY_ADDRESS): a map of slow items over the 3 CPUs of both nodes, as tasks or (`actors` argument) on a
pool of 3 one-CPU actors. It prints `STARTED` when the map starts (the test then kills the worker
node), and at the end `RESULT {...}`: the map's results and how many nodes are still alive."""

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
        backend = sys.argv[1] if len(sys.argv) > 1 else "tasks"
        mapper = RayMapper(backend=backend, num_actors=3 if backend == "actors" else None, progress=False)
        print(f"STARTED with {sum(1 for node in ray.nodes() if node.get('Alive'))} nodes", flush=True)
        results = mapper.map(slow_item, list(range(12)), name="node-loss")
        deadline = time.time() + 90  # the GCS marks a killed node dead after its health checks fail
        while (alive := sum(1 for node in ray.nodes() if node.get("Alive"))) > 1 and time.time() < deadline:
            time.sleep(1)
        for result in results:  # all on the head: items the dead node had finished were lost with its
            result.pop("node")  # object store and re-executed there (lineage reconstruction)
        print("RESULT " + json.dumps({"results": results, "alive": alive}), flush=True)


if __name__ == "__main__":
    main()
