"""Console progress for long runs: step / total, the latest key metrics and an ETA. On a terminal one
line is redrawn in place; elsewhere (Ray job logs, CI) a full line is printed at most every
`every_s` seconds, so logs show progress without flooding."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

TERMINAL_REDRAW_S = 0.2  # redraw period on a terminal
LOG_EVERY_S = 10.0  # line period without a terminal
KEY_METRICS = 3  # metrics shown per line (eval/ first)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds // 60 % 60:02d}m"
        if seconds >= 3600
        else f"{seconds // 60}m{seconds % 60:02d}s"
    )


class ConsoleProgress:
    """Called with every reported (metrics, step); prints a throttled progress line."""

    def __init__(
        self,
        label: str,
        stream: TextIO | None = None,
        every_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label, self._stream, self.clock, self._every_s = label, stream, clock, every_s
        self.total: int | None = None
        self.started = self.clock()
        self.last_print = -float("inf")
        self.latest: dict[str, float] = {}

    @property
    def stream(self) -> TextIO:
        """The given stream, else this process's stderr (looked up late: the sink may travel to a Ray
        worker)."""
        return self._stream or sys.stderr

    @property
    def terminal(self) -> bool:
        return self.stream.isatty()

    @property
    def every_s(self) -> float:
        if self._every_s is not None:
            return self._every_s
        return TERMINAL_REDRAW_S if self.terminal else LOG_EVERY_S

    def expect_steps(self, total: int) -> None:
        self.total = total

    def __call__(self, metrics: dict[str, Any], step: int | None) -> None:
        self.latest.update({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
        if step is None:
            return
        now = self.clock()
        final = self.total is not None and step >= self.total
        if now - self.last_print < self.every_s and not final:
            return
        self.last_print = now
        end = "\r" if self.terminal and not final else "\n"
        self.stream.write(self.line(step, now) + end)
        self.stream.flush()

    def line(self, step: int, now: float) -> str:
        elapsed = now - self.started
        text = f"{self.label}: step {step}"
        if self.total:
            text += f"/{self.total} ({step / self.total:.0%})"
            if 0 < step < self.total:
                text += f", eta {_duration(elapsed * (self.total - step) / step)}"
        text += f", {_duration(elapsed)} elapsed"
        keys = sorted(self.latest, key=lambda k: (not k.startswith("eval/"), k))[:KEY_METRICS]
        return text + "".join(f" | {k}={self.latest[k]:.4g}" for k in keys)
