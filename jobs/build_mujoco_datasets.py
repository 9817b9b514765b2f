"""Build D4RL-style offline datasets (random / medium / expert) for a MuJoCo v5 task, no download:
train SAC with RLlib (checkpoint + evaluation every --every iterations), then roll out a uniform
policy, the first checkpoint reaching 1/3 of the expert's return (medium) and the last one (expert),
and write `<name>/<kind>-v0` minari datasets with D4RL's reference scores. Hours per task on a core:

    ray job submit --working-dir . -- python jobs/build_mujoco_datasets.py --env Hopper-v5 \\
        --name mujoco/hopper --iterations 3000 --every 100 --transitions 200000

Needs `pip install 'raylab[par,mujoco]'`. Then: raylab run par/hopper_medium
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the uploaded working dir

from raylab.methods.par.data import D4RL_REFS  # noqa: E402
from raylab.runtime.cluster import ray_session  # noqa: E402
from raylab.methods.par.rllib import build_datasets, train_sac  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--name", default="mujoco/hopper")
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--transitions", type=int, default=200_000)
    parser.add_argument("--checkpoints", default="runs/sac_checkpoints")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    task = args.env.split("-")[0].lower()
    if task not in D4RL_REFS:
        sys.exit(f"no D4RL reference scores for {args.env}; known: {', '.join(D4RL_REFS)}")
    with ray_session(None):
        saved = train_sac(
            args.env, args.iterations, args.every, Path(args.checkpoints) / args.name, seed=args.seed
        )
        for checkpoint in saved:
            print(f"iteration {checkpoint.iteration}: return {checkpoint.eval_return:.1f}")
        print(
            "\n".join(
                build_datasets(args.env, args.name, saved, args.transitions, *D4RL_REFS[task], seed=args.seed)
            )
        )
