"""Write the Pendulum-v1 offline datasets (random / weak / medium-mix / expert, 100 episodes each)
into the local minari store ($MINARI_DATASETS_PATH, default ~/.minari/datasets), no download:

    python jobs/build_pendulum_datasets.py [--episodes 100] [--seed 0] [--namespace raylab]
    ray job submit --working-dir . -- python jobs/build_pendulum_datasets.py

Then e.g. `raylab run par/pendulum_medium --set dataset.id=minari:raylab/pendulum/weak-v0`.
(MuJoCo datasets need behaviour policies trained first: see raylab/methods/par/README.md.)
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the uploaded working dir

from raylab.methods.par.pendulum import KINDS, write_minari  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--namespace", default="raylab")
    args = parser.parse_args()
    for kind in KINDS:
        print(write_minari(kind, args.episodes, args.seed, f"{args.namespace}/pendulum/{kind}-v0"))
