"""Ray Train for `raylab.data_parallel` loops: a TorchTrainer with one worker per bundle
({GPU: 1, CPU: n} on GPU clusters, {CPU: n} otherwise), PACK on one node, SPREAD over several, a
checkpoint per epoch in `storage`, and automatic resumption from it when the same run folder is run
again (Ray Train restores the run named `name` under `storage`)."""

from __future__ import annotations

import logging
import pickle
import tempfile
from pathlib import Path
from typing import Any

import ray
import ray.train
import ray.train.torch
import torch
import torch.distributed
from ray.train import Checkpoint, RunConfig, ScalingConfig
from ray.train.torch import TorchTrainer

from raylab import RaylabError
from raylab.context import read_state, restore_state
from raylab.data_parallel import EpochSink, TrainLoop
from raylab.storage import is_uri

log = logging.getLogger("raylab")
STATE_FILE = "state.pkl"


class RaySession:
    """The TrainSession of one Ray Train worker."""

    def __init__(self) -> None:
        context = ray.train.get_context()
        self.rank, self.world_size = context.get_world_rank(), context.get_world_size()
        self.device = ray.train.torch.get_device()

    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module:
        return ray.train.torch.prepare_model(model)  # moves to the device; DDP when world_size > 1

    def latest(self) -> dict[str, Any] | None:
        checkpoint = ray.train.get_checkpoint()
        state: dict[str, Any] | None = restore_state(checkpoint, STATE_FILE) if checkpoint else None
        return state  # None: a fresh start (a damaged checkpoint is named in a warning)

    def all_sum(self, values: list[float]) -> list[float]:
        """Sums over the workers (torch.distributed's all-reduce on the process group Ray Train set up)."""
        if self.world_size == 1:
            return list(values)
        totals = torch.tensor(values, dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(totals)
        return totals.tolist()

    def report(self, metrics: dict[str, Any], state: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            checkpoint = None
            if self.rank == 0:
                Path(folder, STATE_FILE).write_bytes(pickle.dumps(state))
                checkpoint = Checkpoint.from_directory(folder)
            ray.train.report(metrics, checkpoint=checkpoint)


def _worker(payload: dict[str, Any]) -> None:
    payload["loop"](payload["config"], RaySession())


def placement_for(choice: str) -> str:
    """auto: PACK on a one-node cluster (shared memory, no network), SPREAD over several nodes."""
    if choice != "auto":
        return choice
    alive = [node for node in ray.nodes() if node.get("Alive")]
    return "PACK" if len(alive) <= 1 else "SPREAD"


def fit(
    loop: TrainLoop,
    config: Any,
    *,
    workers: int,
    cpus_per_worker: float,
    gpus_per_worker: float,
    storage: Path,
    name: str,
    placement: str = "auto",
    sink: EpochSink | None = None,
) -> dict[str, Any]:
    """Train with Ray Train and return the last state the loop reported (rank 0's checkpoint). The
    per-epoch metrics the state carries under "history" are replayed to `sink` (workers cannot reach
    the driver's reporter)."""
    resources = {"CPU": float(cpus_per_worker)} | ({"GPU": float(gpus_per_worker)} if gpus_per_worker else {})
    strategy = placement_for(placement)
    log.info("Ray Train: %d worker(s) x %s, %s, checkpoints in %s", workers, resources, strategy, storage)
    trainer = TorchTrainer(
        _worker,
        train_loop_config={"loop": loop, "config": config},
        scaling_config=ScalingConfig(
            num_workers=workers,
            use_gpu=bool(gpus_per_worker),
            resources_per_worker=resources,
            placement_strategy=strategy,
        ),
        run_config=RunConfig(
            name=name, storage_path=str(storage) if is_uri(str(storage)) else str(Path(storage).resolve())
        ),
    )
    result = trainer.fit()
    if result.checkpoint is None:
        raise RaylabError(f"Ray Train run '{name}' ended without a checkpoint (see its logs in {storage})")
    with result.checkpoint.as_directory() as folder:
        state: dict[str, Any] = read_state(Path(folder, STATE_FILE))
    for epoch, row in enumerate(state.get("history", []), start=1):
        if sink is not None:
            sink(row, epoch)
    return state
