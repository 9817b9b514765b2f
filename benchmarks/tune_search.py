"""Model-based against random search at equal trials: the SpecGD step-size sweep
(`configs/specgd/sweeps/lr_optuna.yaml`, specgd/trajectory at its smoke size, FIFO) run with
`search: random` and `search: optuna` (TPE) for the same searcher seeds, on a local Ray of 2 CPUs.
Prints the best train/error each search found per seed and the mean over the seeds (lower is better).

    python benchmarks/tune_search.py [--num-samples 16] [--seeds 0 1]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import tempfile
import time

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import numpy as np  # noqa: E402
import ray  # noqa: E402

from raylab.registry import configs_dir, get_spec  # noqa: E402
from raylab.runner import load_run_config  # noqa: E402
from raylab.runtime.cluster import local_init_kwargs  # noqa: E402
from raylab.runtime.tune import SweepSpec, load_sweep, run_sweep  # noqa: E402

SWEEP = configs_dir() / "specgd/sweeps/lr_optuna.yaml"
SEARCHES = ("random", "optuna")


def best_found(sweep: SweepSpec, out_dir: str) -> tuple[float, float]:
    """(best metric, wall seconds) of one sweep; Tune's console table is dropped."""
    spec = get_spec("specgd/trajectory")
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        summary = run_sweep(spec, load_run_config(spec, smoke=True), sweep, out_dir)
    return float(summary["best_value"]), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--num-samples", type=int, default=None, help="trials per sweep (default: the YAML's)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    start = time.perf_counter()
    base = load_sweep(SWEEP, num_samples=args.num_samples)
    ray.init(**local_init_kwargs(num_cpus=2), log_to_driver=False)
    best: dict[str, list[float]] = {search: [] for search in SEARCHES}
    with tempfile.TemporaryDirectory(prefix="raylab-tune-search-") as tmp:
        for seed in args.seeds:
            for search in SEARCHES:
                sweep = dataclasses.replace(base, search=search, seed=seed)
                value, wall = best_found(sweep, f"{tmp}/{search}-{seed}")
                best[search].append(value)
                print(f"seed {seed} {search:>6}: best {base.metric} {value:.4g} ({wall:.0f} s)", flush=True)
    ray.shutdown()
    space = ", ".join(f"{path} {domain}" for path, domain in base.space.items())
    print(
        f"{base.num_samples} trials per sweep over {space}; mean best {base.metric} over seeds {args.seeds}:"
    )
    for search in SEARCHES:
        print(f"  {search:>6}: {np.mean(best[search]):.4g}")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
