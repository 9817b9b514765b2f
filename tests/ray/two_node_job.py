"""Run as a Ray job on the two-node test cluster (head: 2 CPUs; worker: 1 CPU + 1 fake GPU).

Prints one `PLACEMENT {...}` line that tests/ray/test_jobs.py reads from the job logs.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import ray  # noqa: E402

from raylab.runtime.cluster import ray_session  # noqa: E402
from raylab.runtime.placement import PlacementError, in_bundle, reserved  # noqa: E402


@ray.remote
def where():
    return ray.get_runtime_context().get_node_id(), os.environ.get("CUDA_VISIBLE_DEVICES")


def main():
    with ray_session():
        with reserved([{"CPU": 1}, {"CPU": 1, "GPU": 1}], "STRICT_SPREAD", timeout_s=60) as group:
            cpu = where.options(num_cpus=1, **in_bundle(group, 0)).remote()
            gpu = where.options(num_cpus=1, num_gpus=1, **in_bundle(group, 1)).remote()
            placed = ray.get([cpu, gpu])
        try:
            with reserved([{"CPU": 0.5}] * 3, "STRICT_SPREAD", timeout_s=3, name="three-nodes"):
                too_many = "placed"
        except PlacementError as exc:
            too_many = str(exc)
        print(
            "PLACEMENT "
            + json.dumps(
                {"placed": placed, "too_many": too_many, "nodes": len([n for n in ray.nodes() if n["Alive"]])}
            )
        )


if __name__ == "__main__":
    main()
