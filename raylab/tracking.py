"""Optional metric sinks for experiment trackers (`--log tensorboard|wandb|mlflow`): the run folder's
records stay the source of truth; these only mirror `ctx.report` calls.

Credentials and destinations come from each tool's usual environment variables and are never
written to records: W&B reads WANDB_API_KEY / WANDB_PROJECT / WANDB_MODE (offline, into the run
folder, when no key is set); MLflow reads MLFLOW_TRACKING_URI (a local file store in the run
folder when unset). W&B and MLflow are optional extras: `pip install -e ".[trackers]"`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

from raylab import RaylabError

TRACKERS = ("tensorboard", "wandb", "mlflow")
WandbMode = Literal["online", "offline", "disabled", "shared"]  # wandb.init's `mode` annotation
TENSORBOARD_DIR = "tensorboard"
MLFLOW_DIR = "mlruns"
_MLFLOW_BAD_CHARS = re.compile(r"[^\w./\- :]")  # MLflow keys: alphanumerics, _ . - / space and colon


def _numeric(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _flat(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config -> {"a.b": value} (tracker params are flat)."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


class TensorBoardSink:
    """Writes every numeric metric as a scalar to `<run folder>/tensorboard/` (tensorboardX, which
    Ray Tune also uses); rows without a step are written at the last step seen."""

    def __init__(self, out_dir: Path, run_name: str, config: dict[str, Any]):
        from tensorboardX import SummaryWriter

        self.writer, self.step = SummaryWriter(str(out_dir / TENSORBOARD_DIR)), 0

    def __call__(self, metrics: dict[str, Any], step: int | None) -> None:
        self.step = self.step if step is None else step
        for name, value in _numeric(metrics).items():
            self.writer.add_scalar(name, value, self.step)

    def close(self) -> None:
        self.writer.close()


class WandbSink:
    """One W&B run per raylab run, with the config as its config. Offline (files under
    `<run folder>/wandb/`, `wandb sync` uploads them) unless WANDB_API_KEY or WANDB_MODE says otherwise."""

    def __init__(self, out_dir: Path, run_name: str, config: dict[str, Any]):
        import wandb

        mode = os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "raylab"),
            name=run_name,
            dir=str(out_dir),
            config=config,
            # WANDB_MODE goes to W&B as given: it validates it, and takes "dryrun" / "run" too, which
            # wandb.init's annotation leaves out
            mode=cast(WandbMode, mode),
            reinit="create_new",
        )
        self.step = 0

    def __call__(self, metrics: dict[str, Any], step: int | None) -> None:
        self.step = self.step if step is None else max(step, self.step)  # W&B steps never go back
        self.run.log(_numeric(metrics), step=self.step)

    def close(self) -> None:
        self.run.finish()


class MLflowSink:
    """One MLflow run per raylab run (experiment = the raylab experiment name), the flattened config
    as params. MLFLOW_TRACKING_URI names a server; unset, a file store in `<run folder>/mlruns`."""

    def __init__(self, out_dir: Path, run_name: str, config: dict[str, Any]):
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if not uri:
            uri = (out_dir / MLFLOW_DIR).resolve().as_uri()
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 gates its file store
        self.client = MlflowClient(uri)
        experiment_name = run_name.split(":")[0]
        found = self.client.get_experiment_by_name(experiment_name)
        experiment_id = found.experiment_id if found else self.client.create_experiment(experiment_name)
        self.run_id = self.client.create_run(experiment_id, run_name=run_name).info.run_id
        params = [Param(k, str(v)[:500]) for k, v in _flat(config).items()]
        for start in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(self.run_id, params=params[start : start + 100])
        self.step = 0

    def __call__(self, metrics: dict[str, Any], step: int | None) -> None:
        from mlflow.entities import Metric

        self.step = self.step if step is None else step
        now = int(time.time() * 1000)
        rows = [
            Metric(_MLFLOW_BAD_CHARS.sub("_", k), v, now, self.step) for k, v in _numeric(metrics).items()
        ]
        for start in range(0, len(rows), 1000):
            self.client.log_batch(self.run_id, metrics=rows[start : start + 1000])

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


Tracker = TensorBoardSink | WandbSink | MLflowSink
SINKS: dict[str, type[Tracker]] = {"tensorboard": TensorBoardSink, "wandb": WandbSink, "mlflow": MLflowSink}


def tracker_sinks(
    kinds: Sequence[str], out_dir: str | Path, run_name: str = "raylab", config: dict[str, Any] | None = None
) -> list[Tracker]:
    """The sinks for `--log` values (each once). An unknown tracker, or one whose package is not
    installed, is an error naming the fix."""
    unknown = [k for k in kinds if k not in TRACKERS]
    if unknown:
        raise RaylabError(f"--log {unknown[0]}: unknown tracker (known: {', '.join(TRACKERS)})")
    sinks: list[Tracker] = []
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for kind in dict.fromkeys(kinds):
        try:
            sinks.append(SINKS[kind](Path(out_dir), run_name, config or {}))
        except ImportError as exc:
            raise RaylabError(
                f"--log {kind}: {(exc.name or kind).split('.')[0]} is not installed "
                '(pip install -e ".[trackers]")'
            ) from None
    return sinks
