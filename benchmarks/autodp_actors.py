"""autodp: K = 4 candidate evaluations on 1 vs 2 Ray actors, against the serial
in-process path in the same run.

    python benchmarks/autodp_actors.py [--copies 2]

Each candidate is a four-team strategy evaluated without the cache on the full fact-QA set with its
30 % noise (every operator runs; `--copies` repeats the rows to make each evaluation longer:
>= 2 s each keeps Ray's per-item overhead small). Prints seconds per map, the speed-up
of 2 actors over 1 (target >= 1.6x on 2 cores) and whether the scores are identical to serial.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

from raylab.context import RunContext, SerialMapper
from raylab.methods.autodp.config import AutoDPConfig
from raylab.methods.autodp.data import fact_qa
from raylab.methods.autodp.evaluate import Setup
from raylab.methods.autodp.noise import inject
from raylab.methods.autodp.search import evaluate_all

CANDIDATES = [
    ("cleaning", "selection", "optimization", "generation"),
    ("optimization", "generation", "cleaning", "selection"),
    ("selection", "cleaning", "generation", "optimization"),
    ("generation", "optimization", "selection", "cleaning"),
]


def timed(mapper, setup: Setup, folder: str) -> tuple[float, list[float]]:
    ctx = RunContext.create("autodp/fact_qa", 0, folder, mapper=mapper)
    started = time.perf_counter()
    results = evaluate_all(ctx, CANDIDATES, setup, "bench")
    return time.perf_counter() - started, [e.accuracy for e in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="repeat the training rows this many times")
    args = parser.parse_args()
    cfg = AutoDPConfig()
    data = inject(fact_qa(0, seed=0), cfg.data.noise, seed=1)
    copies = tuple(dataclasses.replace(s, id=f"{s.id}c{c}") for c in range(args.copies) for s in data.train)
    setup = Setup(cfg, dataclasses.replace(data, train=copies), seed=0)  # no cache: every operator runs
    from raylab.runtime.cluster import ray_session
    from raylab.runtime.parallel import RayMapper

    with tempfile.TemporaryDirectory() as folder:
        serial_s, serial = timed(SerialMapper(progress=False), setup, f"{folder}/serial")
        print(
            f"serial, in process: {serial_s:.1f} s for {len(CANDIDATES)} candidates ({len(copies)} rows each)"
        )
        with ray_session(None, num_cpus=2):
            seconds = {}
            for actors in (1, 2):
                mapper = RayMapper(backend="actors", num_actors=actors, progress=False)
                timed(mapper, setup, f"{folder}/warm{actors}")  # actor start-up and imports
                seconds[actors], scores = timed(mapper, setup, f"{folder}/ray{actors}")
                mapper.close()
                print(f"{actors} actor(s): {seconds[actors]:.1f} s, scores equal serial: {scores == serial}")
        print(f"speed-up of 2 actors over 1: {seconds[1] / seconds[2]:.2f}x (target >= 1.6x)")


if __name__ == "__main__":
    main()
