"""Build D4RL-style offline datasets (random / medium / expert) for a MuJoCo v5 task, no download:
train SAC (checkpoint + deterministic evaluation every --every steps), then roll out a uniform policy,
the first checkpoint reaching 1/3 of the way to the expert's return (medium) and the last one
(expert), and write `<name>/<kind>-v0` minari datasets with D4RL's reference scores.

    # D4RL's size (1M SAC steps, 1M transitions per dataset): hours on a core
    ray job submit --working-dir . -- python jobs/build_mujoco_datasets.py --env Hopper-v5 \\
        --name mujoco/hopper --steps 1000000 --every 20000 --transitions 1000000

--trainer raylab (default) is our single-process SAC (`raylab/methods/par/sac.py`, ~200 environment
steps a second on one core); --trainer rllib uses RLlib's SAC (--steps then counts RLlib training
iterations; ~9 environment steps a second on a 2-core box, for clusters with env runners).
Needs `pip install 'raylab[par,mujoco]'`. Then: raylab run par/hopper_medium
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the uploaded working dir

from raylab.methods.par.collect import build_datasets  # noqa: E402
from raylab.methods.par.data import D4RL_REFS, dataset_statistics  # noqa: E402


def train(args) -> tuple[list, object]:
    """(checkpoints, policy_for) of the chosen trainer."""
    out = Path(args.checkpoints) / args.name
    if args.trainer == "raylab":
        from raylab.methods.par import sac

        return sac.train_sac(args.env, args.steps, args.every, out, seed=args.seed), sac.sac_policy
    from raylab.methods.par import rllib
    from raylab.runtime.cluster import ray_session

    with ray_session(None):
        return rllib.train_sac(args.env, args.steps, args.every, out, seed=args.seed), rllib.sac_policy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--name", default="mujoco/hopper")
    parser.add_argument("--trainer", choices=("raylab", "rllib"), default="raylab")
    parser.add_argument("--steps", type=int, default=1_000_000, help="SAC env steps (rllib: iterations)")
    parser.add_argument("--every", type=int, default=20_000, help="checkpoint interval, same unit")
    parser.add_argument("--transitions", type=int, default=1_000_000, help="per dataset")
    parser.add_argument("--checkpoints", default="runs/sac_checkpoints")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    task = args.env.split("-")[0].lower()
    if task not in D4RL_REFS:
        sys.exit(f"no D4RL reference scores for {args.env}; known: {', '.join(D4RL_REFS)}")
    saved, policy_for = train(args)
    for checkpoint in saved:
        print(f"{args.trainer} SAC {checkpoint.iteration}: return {checkpoint.eval_return:.1f}", flush=True)
    trainer = f"{args.trainer} SAC"
    written = build_datasets(
        args.env,
        args.name,
        saved,
        policy_for,
        args.transitions,
        *D4RL_REFS[task],
        seed=args.seed,
        trainer=trainer,
    )
    for row in dataset_statistics(written):
        print(
            f"{row['dataset']}: {row['episodes']} episodes, {row['transitions']} transitions, return "
            f"{row['return_mean']:.1f} +- {row['return_std']:.1f}, normalised {row['normalised_d4rl']:.1f} "
            f"(D4RL refs) / {row['normalised_local']:.1f} (random = 0, expert = 100)"
        )
