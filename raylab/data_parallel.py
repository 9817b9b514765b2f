"""Data-parallel training loops that run unchanged in this process or on Ray Train workers.

A method writes `loop(config, session)`: it builds its model, passes it through
`session.prepare_model` (DDP on Ray Train with several workers), resumes from `session.latest()`,
and calls `session.report(metrics, state)` once per epoch (`session.all_sum` totals a worker's counts over
all workers, for metrics that cover the whole epoch). `RunContext.data_parallel` runs it here
(one worker, `LocalSession`) or through Ray Train (`raylab.runtime.train`, `RaySession`) and returns
the last state reported. The loop must be a module-level function (it is pickled to the workers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from raylab import RaylabError


class TrainSession(Protocol):
    rank: int  # this worker's rank, 0..world_size-1
    world_size: int  # data-parallel workers
    device: Any  # torch.device the model and batches go to

    def prepare_model(self, model: Any) -> Any: ...

    def latest(self) -> dict[str, Any] | None: ...

    def report(self, metrics: dict[str, Any], state: dict[str, Any]) -> None: ...

    def all_sum(self, values: list[float]) -> list[float]: ...


TrainLoop = Callable[[Any, TrainSession], None]
EpochSink = Callable[[dict[str, Any], int], None]  # (metrics, epoch)


class StateStore(Protocol):
    """Where the serial path checkpoints a loop's states (`raylab.context.Checkpointer`)."""

    def save(self, state: dict[str, Any], step: int) -> object: ...

    def load_latest(self) -> tuple[int, dict[str, Any]] | None: ...


class LocalSession:
    """One worker in this process: checkpoints through the run's Checkpointer (if any), metrics to
    `sink(metrics, epoch)`."""

    rank, world_size = 0, 1

    def __init__(self, device: Any, checkpointer: StateStore | None = None, sink: EpochSink | None = None):
        self.device, self.checkpointer, self.sink = device, checkpointer, sink
        self.last_state: dict[str, Any] | None = None
        self.reports = 0

    def prepare_model(self, model: Any) -> Any:
        return model.to(self.device)

    def latest(self) -> dict[str, Any] | None:
        found = self.checkpointer.load_latest() if self.checkpointer else None
        if found is not None:
            self.reports, self.last_state = found
        return self.last_state

    def all_sum(self, values: list[float]) -> list[float]:
        """Sums over the workers (one worker: the values themselves)."""
        return list(values)

    def report(self, metrics: dict[str, Any], state: dict[str, Any]) -> None:
        self.reports += 1
        self.last_state = state
        if self.checkpointer is not None:
            self.checkpointer.save(state, self.reports)
        if self.sink is not None:
            self.sink(metrics, self.reports)


def run_local(
    loop: TrainLoop,
    config: Any,
    *,
    workers: int,
    device: Any,
    checkpointer: StateStore | None = None,
    sink: EpochSink | None = None,
) -> dict[str, Any]:
    """The serial path: one worker here. More workers need Ray (a clear error, not a silent change)."""
    if workers != 1:
        raise RaylabError(
            f"{workers} data-parallel workers need Ray Train, which `raylab run` uses on Ray; this loop "
            "runs in one process (--serial, or a Tune trial): set train.workers=1"
        )
    session = LocalSession(device, checkpointer, sink)
    loop(config, session)
    if session.last_state is None:
        raise RaylabError("the training loop reported no state")
    return session.last_state


def shard(indices: Any, rank: int, world_size: int) -> Any:
    """This worker's share of one global batch: every world_size-th item from `rank` (equal shares
    when the batch size divides by the workers, which the configs check)."""
    return indices[rank::world_size]
