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

    def __init__(self, spec: ExperimentSpec, sweep: SweepSpec, out_dir: Path):
        self.head = {"experiment": spec.name, "metric": sweep.metric, "mode": sweep.mode, "status": "running"}
        self.path = out_dir / SUMMARY_FILE

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
        write_json_atomic(self.path, {**self.head, "trials": rows})


def error_line(error: BaseException) -> str:
    """A failed trial's error in one line: the exception's own last line (a Ray task error starts with
    the actor's name and pid, in colour)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    return next((line for line in reversed(lines) if line), type(error).__name__)


def summarise(
    results: ResultGrid, spec: ExperimentSpec, base_cfg: Any, sweep: SweepSpec, out_dir: Path
) -> dict[str, Any]:
    """`tune_summary.json` (every trial, the best one), `sweep.png` and `best_config.yaml`."""
    trials = [
        {
            "config": r.config,
            "metric": (r.metrics or {}).get(sweep.metric),
            "iterations": (r.metrics or {}).get("training_iteration"),
            "summary": {key: (r.metrics or {}).get(key) for key in sweep.summary_metrics},
            "error": error_line(r.error) if r.error else None,
            "record": str(
                run_folder(Path(r.path).parent, (r.metrics or {}).get("trial_id", ""), Path(r.path))
            ),
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
    plot = plot_sweep(trials, sweep.metric, out_dir / "sweep.png")
    summary["plot"] = str(plot) if plot else None
    write_json_atomic(out_dir / SUMMARY_FILE, summary)
    (out_dir / "best_config.yaml").write_text(yaml.safe_dump(best_cfg, sort_keys=False))
    return summary
