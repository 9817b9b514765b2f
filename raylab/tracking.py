"""Optional metric sinks for experiment trackers (`--log tensorboard`): the run folder's records stay
the source of truth; these only mirror `ctx.report` calls."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from raylab import RaylabError

TRACKERS = ("tensorboard",)
TENSORBOARD_DIR = "tensorboard"


class TensorBoardSink:
    """Writes every numeric metric as a scalar to `<run folder>/tensorboard/` (tensorboardX, which
    Ray Tune also uses); rows without a step are written at the last step seen."""

    def __init__(self, log_dir: str | Path):
        from tensorboardX import SummaryWriter

        self.writer, self.step = SummaryWriter(str(log_dir)), 0

    def __call__(self, metrics: dict, step: int | None) -> None:
        self.step = self.step if step is None else step
        for name, value in metrics.items():
            if isinstance(value, (int, float)):
                self.writer.add_scalar(name, value, self.step)

    def close(self) -> None:
        self.writer.close()


def tracker_sinks(kinds: Sequence[str], out_dir: str | Path) -> list:
    """The sinks for `--log` values; an unknown tracker is an error naming the known ones."""
    unknown = [k for k in kinds if k not in TRACKERS]
    if unknown:
        raise RaylabError(f"--log {unknown[0]}: unknown tracker (known: {', '.join(TRACKERS)})")
    return [TensorBoardSink(Path(out_dir) / TENSORBOARD_DIR) for kind in dict.fromkeys(kinds)]
