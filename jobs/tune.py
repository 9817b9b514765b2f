"""Entry point for `ray job submit --working-dir . -- python jobs/tune.py EXP --sweep F [tune options]`
(what `raylab submit EXP --sweep F` sends)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the uploaded working dir

from raylab.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["tune", *sys.argv[1:]]))
