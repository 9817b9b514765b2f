"""Entry point for `ray job submit --working-dir . -- python jobs/run.py EXP [raylab run options]`.

Inside a job Ray sets RAY_ADDRESS, so the run joins the cluster the job was submitted to.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the uploaded working dir

from raylab.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
