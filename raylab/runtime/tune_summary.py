"""What a sweep leaves on disk: each trial's raylab run folder, `tune_summary.json` (rewritten as trials
end, final when the sweep ends), `sweep.png` and `best_config.yaml`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from ray import tune

from raylab.config import ConfigError, apply_values, to_dict
from raylab.records import write_json_atomic
from raylab.registry import ExperimentSpec
from raylab.reporting.sweep import plot_sweep
from raylab.storage import is_uri, join, staged

if TYPE_CHECKING:
    from ray.tune import ResultGrid
    from ray.tune.experiment import Trial

    from raylab.runtime.tune import SweepSpec

SUMMARY_FILE = "tune_summary.json"
RUN_SUBDIR = "run"  # each trial's raylab run folder inside Tune's trial folder


def run_folder(experiment: Path, trial_id: str, trial_dir: Path) -> Path:
    """A trial's raylab run folder, in the sweep's storage (Tune owns <trial>/result.json). Written
    there directly: on another node `get_trial_dir()` is node-local staging, and the record would stay
    on that node (multi-node sweeps need `--out` on storage every node mounts; see the README). Tune
    gives a trial restarted after a lost driver or node a new folder; its run stays in the first one."""
    earlier = sorted(path for path in experiment.glob(f"*_{trial_id}_*/{RUN_SUBDIR}") if path.is_dir())
    return earlier[0] if earlier else trial_dir / RUN_SUBDIR


class SummaryAsTrialsEnd(tune.Callback):
    """Rewrites `tune_summary.json` (status "running") whenever a trial ends, so the results of a long
    sweep can be read, and reported, before it finishes; `run_sweep` writes the final one."""

    def __init__(self, spec: ExperimentSpec, sweep: SweepSpec, out_dir: str | Path):
        self.head = {"experiment": spec.name, "metric": sweep.metric, "mode": sweep.mode, "status": "running"}
        self.out_dir = out_dir

    def on_trial_complete(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any) -> None:
        self._write(trials)

    def on_trial_error(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any) -> None:
        self._write(trials)

    def _write(self, trials: list[Trial]) -> None:
        rows = [
            {
                "config": t.config,
                "metric": (t.last_result or {}).get(self.head["metric"]),
                "status": t.status,
                "error": "trial failed" if t.status == "ERROR" else None,
            }
            for t in trials
        ]
        with staged(self.out_dir, fetch=False) as folder:
            write_json_atomic(folder / SUMMARY_FILE, {**self.head, "trials": rows})


def error_line(error: BaseException) -> str:
    """A failed trial's error in one line: the exception's own last line (a Ray task error starts with
    the actor's name and pid, in colour)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    return next((line for line in reversed(lines) if line), type(error).__name__)


def _record_location(result: Any, out_dir: str | Path) -> str:
    """Where a trial's run folder is: beside Tune's trial folder, or, for a sweep on a storage URI,
    under the same trial name there."""
    if is_uri(out_dir):
        return str(join(out_dir, "tune", Path(result.path).name, RUN_SUBDIR))
    return str(
        run_folder(Path(result.path).parent, (result.metrics or {}).get("trial_id", ""), Path(result.path))
    )


def summarise(
    results: ResultGrid, spec: ExperimentSpec, base_cfg: Any, sweep: SweepSpec, out_dir: str | Path
) -> dict[str, Any]:
    """`tune_summary.json` (every trial, the best one), `sweep.png` and `best_config.yaml`."""
    trials = [
        {
            "config": r.config,
            "metric": (r.metrics or {}).get(sweep.metric),
            "iterations": (r.metrics or {}).get("training_iteration"),
            "summary": {key: (r.metrics or {}).get(key) for key in sweep.summary_metrics},
            "error": error_line(r.error) if r.error else None,
            "record": _record_location(r, out_dir),
        }
        # ResultGrid iterates through __getitem__ (the sequence protocol), which mypy does not model
        for r in results  # type: ignore[attr-defined]
    ]
    ok = [t for t in trials if t["metric"] is not None and t["error"] is None]
    if not ok:
        raise ConfigError(
            f"no trial of {spec.name} reported '{sweep.metric}' "
            f"(errors: {[t['error'] for t in trials if t['error']]})"
        )
    best = (min if sweep.mode == "min" else max)(ok, key=lambda t: t["metric"])
    best_cfg = apply_values(to_dict(base_cfg), best["config"], type(base_cfg), "best trial")
    summary = {
        "experiment": spec.name,
        "metric": sweep.metric,
        "mode": sweep.mode,
        "status": "done",
        "best_value": best["metric"],
        "best_values": best["config"],
        "best_record": best["record"],
        "num_trials": len(trials),
        "num_errors": sum(t["error"] is not None for t in trials),
        "trials": trials,
    }
    with staged(out_dir, fetch=False) as folder:
        plot = plot_sweep(trials, sweep.metric, folder / "sweep.png")
        summary["plot"] = str(join(out_dir, "sweep.png")) if plot else None
        write_json_atomic(folder / SUMMARY_FILE, summary)
        (folder / "best_config.yaml").write_text(yaml.safe_dump(best_cfg, sort_keys=False))
    return summary
