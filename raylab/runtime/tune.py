"""Ray Tune for any registered experiment: a sweep YAML -> Tuner -> per-trial records + best config.

Sweep YAML keys: metric, mode, num_samples, space (config path -> {grid|choice|uniform|loguniform|
randint: ...}), scheduler ({type: asha|fifo, max_t, grace_period, reduction_factor, time_attr}),
resources_per_trial ({cpu, gpu}; default: the experiment's registered resources),
max_concurrent_trials, max_failures, summary_metrics, and an optional `smoke:` block of overrides.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path
from typing import Any, Sequence

import yaml
from ray import tune
from ray.tune import Checkpoint
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

from raylab.config import ConfigError, apply_values, from_dict, load_yaml, to_dict
from raylab.context import Checkpointer, SerialMapper
from raylab.records import METRICS_FILE, write_json_atomic
from raylab.runtime.metrics import DashboardMetrics
from raylab.runtime.placement import cluster_resources, fit_to_cluster
from raylab.registry import ExperimentSpec
from raylab.reporting.sweep import plot_sweep
from raylab.runner import finished_record, run_experiment
from raylab.tracking import tracker_sinks

SUMMARY_FILE = "tune_summary.json"
RUN_SUBDIR = "run"  # each trial's raylab run folder inside Tune's trial folder
DOMAINS = {
    "grid": tune.grid_search,
    "choice": tune.choice,
    "uniform": lambda bounds: tune.uniform(*bounds),
    "loguniform": lambda bounds: tune.loguniform(*(float(b) for b in bounds)),
    "randint": lambda bounds: tune.randint(*bounds),
}


@dataclasses.dataclass
class SweepSpec:
    metric: str
    mode: str = "min"
    num_samples: int = 1
    space: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    scheduler: dict[str, Any] = dataclasses.field(default_factory=lambda: {"type": "fifo"})
    resources_per_trial: dict[str, float] = dataclasses.field(default_factory=dict)  # {}: the spec's
    max_concurrent_trials: int = 0  # 0: as many as resources allow
    max_failures: int = 0  # retries of a failed trial, resumed from its last checkpoint
    summary_metrics: list[str] = dataclasses.field(default_factory=list)  # extra columns per trial

    def __post_init__(self):
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {self.mode!r}")
        for path, domain in self.space.items():
            if not isinstance(domain, dict) or len(domain) != 1 or next(iter(domain)) not in DOMAINS:
                raise ValueError(f"space.{path} must be one of {{{', '.join(DOMAINS)}: ...}}")


def load_sweep(path: str | Path, smoke: bool = False, num_samples: int | None = None) -> SweepSpec:
    data = load_yaml(path)
    smoke_block = data.pop("smoke", {}) or {}
    if smoke:  # top-level keys replace: a smoke `space` must not keep the full-size dimensions
        data = {**data, **smoke_block}
    if num_samples is not None:
        data["num_samples"] = num_samples
    return from_dict(SweepSpec, data, str(path))


def check_space(sweep: SweepSpec, base_cfg: Any) -> None:
    """Fail before any trial starts if a swept key is unknown or a value does not fit its field
    (checked on each domain's first value / lower bound)."""
    cls = type(base_cfg)
    for path, domain in sweep.space.items():
        kind, value = next(iter(domain.items()))
        if not isinstance(value, (list, tuple)) or not value:
            raise ConfigError(f"sweep space.{path}: {kind} needs a non-empty list")
        if kind in ("grid", "choice"):
            samples = list(value)
        else:
            samples = [int(value[0]) if kind == "randint" else float(value[0])]
        for candidate in samples:
            from_dict(
                cls, apply_values(to_dict(base_cfg), {path: candidate}, cls, "sweep space"), "sweep space"
            )


def param_space(sweep: SweepSpec) -> dict:
    return {
        path: DOMAINS[kind](value) for path, domain in sweep.space.items() for kind, value in domain.items()
    }


def scheduler(sweep: SweepSpec):
    options = dict(sweep.scheduler)
    kind = options.pop("type", "fifo")
    if kind == "fifo":
        return FIFOScheduler()
    if kind == "asha":
        try:
            return ASHAScheduler(**options)
        except TypeError as exc:
            raise ConfigError(f"scheduler: {exc}") from None
    raise ConfigError(f"scheduler.type must be 'asha' or 'fifo', not {kind!r}")


class TuneCheckpointer(Checkpointer):
    """Local checkpoints that also go to Tune with the next report (`Checkpoint.from_directory`);
    a retried trial starts from `tune.get_checkpoint()`."""

    def __init__(self, out_dir: Path):
        super().__init__(out_dir)
        self.pending: Path | None = None
        restored = tune.get_checkpoint()
        if restored is not None:
            with restored.as_directory() as folder:
                saved = pickle.loads((Path(folder) / "state.pkl").read_bytes())
            super().save(saved["state"], saved["step"])

    def save(self, state: dict, step: int) -> Path:
        self.pending = super().save(state, step)
        return self.pending

    def report(self, metrics: dict) -> None:
        checkpoint = Checkpoint.from_directory(str(self.pending)) if self.pending else None
        self.pending = None
        tune.report(metrics, checkpoint=checkpoint)


def run_folder(experiment: Path, trial_id: str, trial_dir: Path) -> Path:
    """A trial's raylab run folder, in the sweep's storage (Tune owns <trial>/result.json). Written
    there directly: on another node `get_trial_dir()` is node-local staging, and the record would stay
    on that node (multi-node sweeps need `--out` on storage every node mounts; see the README). Tune
    gives a trial restarted after a lost driver or node a new folder; its run stays in the first one."""
    earlier = sorted(path for path in experiment.glob(f"*_{trial_id}_*/{RUN_SUBDIR}") if path.is_dir())
    return earlier[0] if earlier else trial_dir / RUN_SUBDIR


def _trial(
    values: dict, spec: ExperimentSpec, base_data: dict, trackers: tuple[str, ...], cache: str | None
) -> None:
    """One Tune trial: the base config + this trial's values, run with metrics streamed to Tune;
    `cache`: the user's `--cache` store, shared by every trial (else each keeps its own)."""
    cls = spec.load_config_cls()
    cfg = from_dict(cls, apply_values(base_data, values, cls, "sweep"), "sweep trial")
    context = tune.get_context()
    storage = context.get_storage()
    out_dir = run_folder(
        Path(storage.experiment_fs_path), context.get_trial_id(), Path(storage.trial_fs_path)
    )
    checkpointer = TuneCheckpointer(out_dir)
    done = finished_record(out_dir, cfg)
    if done is not None:  # a restored sweep whose driver died after this trial's record was written
        streamed = {}
        for line in (out_dir / METRICS_FILE).read_text().splitlines():
            streamed.update(json.loads(line))
        checkpointer.report({**streamed, **done.metrics, "claims_passed": float(done.claims_passed)})
        return
    latest: dict = {"step": 0}

    def to_tune(metrics: dict, step: int | None) -> None:
        latest.update(metrics)
        if step is not None:
            latest["step"] = step
            checkpointer.report(dict(latest))

    record = run_experiment(
        spec,
        cfg,
        out_dir,
        mapper=SerialMapper(progress=False),
        sinks=[
            to_tune,
            DashboardMetrics(spec.name, out_dir.parent.name),
            *tracker_sinks(trackers, out_dir, f"{spec.name}:{out_dir.parent.name}", to_dict(cfg)),
        ],
        checkpointer=checkpointer,
        cache=cache,
    )
    if record.status != "ok":
        raise RuntimeError(f"trial failed: {record.error}")
    checkpointer.report({**latest, **record.metrics, "claims_passed": float(record.claims_passed)})


class SummaryAsTrialsEnd(tune.Callback):
    """Rewrites `tune_summary.json` (status "running") whenever a trial ends, so the results of a long
    sweep can be read, and reported, before it finishes; `run_sweep` writes the final one."""

    def __init__(self, spec: ExperimentSpec, sweep: SweepSpec, out_dir: Path):
        self.head = {"experiment": spec.name, "metric": sweep.metric, "mode": sweep.mode, "status": "running"}
        self.path = out_dir / SUMMARY_FILE

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._write(trials)

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._write(trials)

    def _write(self, trials) -> None:
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


def run_sweep(
    spec: ExperimentSpec,
    base_cfg: Any,
    sweep: SweepSpec,
    out_dir: str | Path,
    trackers: Sequence[str] = (),
    resume: bool = False,
    cache: str | Path | None = None,
) -> dict:
    """Run the sweep (Tune's trial table on the console); write `tune_summary.json` as trials end and,
    at the end, with the best trial, plus `best_config.yaml`; return the summary. `trackers` are the
    `--log` sinks each trial's run mirrors its metrics to; `cache` is the `--cache` store. `resume`:
    continue the sweep saved in out_dir (its driver was killed): finished trials are kept, unfinished
    and errored ones restart from their last checkpoint."""
    out_dir = Path(out_dir).resolve()
    check_space(sweep, base_cfg)
    trainable = tune.with_resources(
        tune.with_parameters(
            _trial,
            spec=spec,
            base_data=to_dict(base_cfg),
            trackers=tuple(trackers),
            cache=str(Path(cache).resolve()) if cache else None,
        ),
        sweep.resources_per_trial or fit_to_cluster(spec.resources, cluster_resources()),
    )
    if resume:
        saved = out_dir / "tune"
        if not tune.Tuner.can_restore(str(saved)):
            raise ConfigError(f"--resume {out_dir}: no Tune sweep to continue there (no {saved})")
        tuner = tune.Tuner.restore(str(saved), trainable, resume_unfinished=True, resume_errored=True)
        return summarise(tuner.fit(), spec, base_cfg, sweep, out_dir)
    tuner = tune.Tuner(
        trainable,
        param_space=param_space(sweep),
        tune_config=tune.TuneConfig(
            metric=sweep.metric,
            mode=sweep.mode,
            num_samples=sweep.num_samples,
            scheduler=scheduler(sweep),
            max_concurrent_trials=sweep.max_concurrent_trials or None,
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str(out_dir),
            verbose=1,
            callbacks=[SummaryAsTrialsEnd(spec, sweep, out_dir)],
            failure_config=tune.FailureConfig(max_failures=sweep.max_failures),
        ),
    )
    return summarise(tuner.fit(), spec, base_cfg, sweep, out_dir)


def summarise(results, spec: ExperimentSpec, base_cfg: Any, sweep: SweepSpec, out_dir: Path) -> dict:
    """`tune_summary.json` (every trial, the best one), `sweep.png` and `best_config.yaml`."""
    trials = [
        {
            "config": r.config,
            "metric": (r.metrics or {}).get(sweep.metric),
            "iterations": (r.metrics or {}).get("training_iteration"),
            "summary": {key: (r.metrics or {}).get(key) for key in sweep.summary_metrics},
            "error": str(r.error).splitlines()[0] if r.error else None,
            "record": str(
                run_folder(Path(r.path).parent, (r.metrics or {}).get("trial_id", ""), Path(r.path))
            ),
        }
        for r in results
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
