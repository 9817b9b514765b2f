"""Ray Tune for any registered experiment: a sweep YAML -> Tuner -> per-trial records + best config.

Sweep YAML keys: metric, mode, num_samples, space (config path -> {grid|choice|uniform|loguniform|
randint: ...}), search (random: Tune's random/grid variants; optuna: TPE, no grid axes, needs
`raylab[tune]`), seed (the searcher's), scheduler ({type: asha|fifo, max_t, grace_period,
reduction_factor, time_attr}), resources_per_trial ({cpu, gpu}; default: the experiment's registered
resources), max_concurrent_trials, max_failures, summary_metrics, and an optional `smoke:` block of
overrides.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ray import tune
from ray.tune import Checkpoint
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, TrialScheduler
from ray.tune.search import BasicVariantGenerator, ConcurrencyLimiter, SearchAlgorithm, Searcher

from raylab.config import ConfigError, apply_values, from_dict, load_yaml, to_dict
from raylab.context import Checkpointer, SerialMapper, restore_state
from raylab.records import METRICS_FILE
from raylab.registry import ExperimentSpec
from raylab.runner import finished_record, run_experiment
from raylab.runtime.metrics import DashboardMetrics
from raylab.runtime.placement import cluster_resources, fit_to_cluster
from raylab.runtime.tune_summary import RUN_SUBDIR, SummaryAsTrialsEnd, run_folder, summarise
from raylab.storage import is_uri, join, staged
from raylab.tracking import tracker_sinks

log = logging.getLogger(__name__)
DOMAINS: dict[str, Callable[[Any], Any]] = {
    "grid": tune.grid_search,
    "choice": tune.choice,
    "uniform": lambda bounds: tune.uniform(*bounds),
    "loguniform": lambda bounds: tune.loguniform(*(float(b) for b in bounds)),
    "randint": lambda bounds: tune.randint(*bounds),
}
SEARCHES = ("random", "optuna")
OPTUNA_EXTRA = "pip install 'raylab[tune]'"


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
    search: str = "random"  # random: Tune's variants (grid included); optuna: TPE (Optuna)
    seed: int | None = None  # the searcher's seed: the same seed suggests the same values

    def __post_init__(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {self.mode!r}")
        for path, domain in self.space.items():
            if not isinstance(domain, dict) or len(domain) != 1 or next(iter(domain)) not in DOMAINS:
                raise ValueError(f"space.{path} must be one of {{{', '.join(DOMAINS)}: ...}}")
        if self.search not in SEARCHES:
            raise ValueError(f"search must be one of {', '.join(SEARCHES)}, not {self.search!r}")
        if self.search == "optuna":
            _check_optuna(self.space)


def _check_optuna(space: dict[str, dict[str, Any]]) -> None:
    """`search: optuna` needs Optuna installed and a space without grid axes."""
    grid = [path for path, domain in space.items() if "grid" in domain]
    if grid:
        raise ValueError(f"search: optuna cannot take grid axes: space.{grid[0]} (use choice)")
    if importlib.util.find_spec("optuna") is None:
        raise ValueError(f"search: optuna needs the optional package optuna: {OPTUNA_EXTRA}")


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


def param_space(sweep: SweepSpec) -> dict[str, Any]:
    return {
        path: DOMAINS[kind](value) for path, domain in sweep.space.items() for kind, value in domain.items()
    }


def search_algorithm(sweep: SweepSpec) -> SearchAlgorithm | Searcher:
    """Tune's searcher for `sweep.search`, seeded with `sweep.seed`, at most `max_concurrent_trials`
    trials at once (0: no limit)."""
    if sweep.search == "random":
        return BasicVariantGenerator(max_concurrent=sweep.max_concurrent_trials, random_state=sweep.seed)
    searcher = _optuna_search(sweep)
    if sweep.max_concurrent_trials:
        return ConcurrencyLimiter(searcher, max_concurrent=sweep.max_concurrent_trials)
    return searcher


def _optuna_search(sweep: SweepSpec) -> Searcher:
    """Tune's OptunaSearch (a TPE sampler) on the sweep's metric and mode."""
    from ray.tune.search.optuna import OptunaSearch

    class EndOfRunOptuna(OptunaSearch):
        """Skips reports without the metric: a FIFO sweep may rank by an end-of-run one."""

        def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
            if self.metric in result:
                super().on_trial_result(trial_id, result)

    return EndOfRunOptuna(metric=sweep.metric, mode=sweep.mode, seed=sweep.seed)


def scheduler(sweep: SweepSpec) -> TrialScheduler:
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
        saved = restore_state(restored) if restored is not None else None
        if saved is not None:  # else the trial's own newest readable checkpoint, or a fresh start
            super().save(saved["state"], saved["step"])

    def save(self, state: dict[str, Any], step: int) -> Path:
        self.pending = super().save(state, step)
        return self.pending

    def report(self, metrics: dict[str, Any]) -> None:
        checkpoint = Checkpoint.from_directory(str(self.pending)) if self.pending else None
        self.pending = None
        tune.report(metrics, checkpoint=checkpoint)


def _trial(
    values: dict[str, Any],
    spec: ExperimentSpec,
    base_data: dict[str, Any],
    trackers: tuple[str, ...],
    cache: str | None,
    metric: str,
    sweep_uri: str | None = None,
) -> None:
    """One Tune trial: the base config + this trial's values, run with metrics streamed to Tune;
    `cache`: the user's `--cache` store, shared by every trial (else each keeps its own). Its last
    report carries every metric of its record; a sweep `metric` found in none of them fails it.
    A sweep on a storage URI (`sweep_uri`) stages the trial's run folder here and uploads it."""
    cls = spec.load_config_cls()
    cfg = from_dict(cls, apply_values(base_data, values, cls, "sweep"), "sweep trial")
    context = tune.get_context()
    storage = context.get_storage()
    if sweep_uri:
        with staged(join(sweep_uri, "tune", storage.trial_dir_name, RUN_SUBDIR)) as out_dir:
            _run_trial(spec, cfg, out_dir, trackers, cache, metric)
        return
    out_dir = run_folder(
        Path(storage.experiment_fs_path), context.get_trial_id(), Path(storage.trial_fs_path)
    )
    _run_trial(spec, cfg, out_dir, trackers, cache, metric)


def _run_trial(
    spec: ExperimentSpec, cfg: Any, out_dir: Path, trackers: tuple[str, ...], cache: str | None, metric: str
) -> None:
    """The trial's run in `out_dir`, its metrics streamed to Tune, its last report the record's."""
    checkpointer = TuneCheckpointer(out_dir)
    done = finished_record(out_dir, cfg)
    if done is not None:  # a restored sweep whose driver died after this trial's record was written
        streamed = {}
        for line in (out_dir / METRICS_FILE).read_text().splitlines():
            streamed.update(json.loads(line))
        final = {**streamed, **done.metrics, "claims_passed": float(done.claims_passed)}
        checkpointer.report(_with_metric(final, metric, spec))
        return
    latest: dict[str, Any] = {"step": 0}
    warned: list[int] = []

    def to_tune(metrics: dict[str, Any], step: int | None) -> None:
        latest.update(metrics)
        if step is not None:
            latest["step"] = step
            if metric not in latest and not warned:  # once: an end-of-run metric, or a misspelt one
                warned.append(step)
                log.warning("%s does not stream '%s': trials are ranked by their records", spec.name, metric)
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
    final = {**latest, **record.metrics, "claims_passed": float(record.claims_passed)}
    checkpointer.report(_with_metric(final, metric, spec))


def _with_metric(final: dict[str, Any], metric: str, spec: ExperimentSpec) -> dict[str, Any]:
    """A trial's last report, which must hold the sweep metric (a misspelt one fails the trial)."""
    if metric not in final:
        names = ", ".join(sorted(k for k in final if "/" in k))
        raise ConfigError(f"sweep metric '{metric}' is not a metric of {spec.name}; its metrics: {names}")
    return final


def run_sweep(
    spec: ExperimentSpec,
    base_cfg: Any,
    sweep: SweepSpec,
    out_dir: str | Path,
    trackers: Sequence[str] = (),
    resume: bool = False,
    cache: str | Path | None = None,
) -> dict[str, Any]:
    """Run the sweep (Tune's trial table on the console); write `tune_summary.json` as trials end and,
    at the end, with the best trial, plus `best_config.yaml`; return the summary. `trackers` are the
    `--log` sinks each trial's run mirrors its metrics to; `cache` is the `--cache` store. `resume`:
    continue the sweep saved in out_dir (its driver was killed): finished trials are kept, unfinished
    and errored ones restart from their last checkpoint."""
    out_dir = out_dir if is_uri(out_dir) else Path(out_dir).resolve()
    check_space(sweep, base_cfg)
    trainable = tune.with_resources(
        tune.with_parameters(
            _trial,
            spec=spec,
            base_data=to_dict(base_cfg),
            trackers=tuple(trackers),
            cache=str(Path(cache).resolve()) if cache else None,
            metric=sweep.metric,
            sweep_uri=str(out_dir) if is_uri(out_dir) else None,
        ),
        sweep.resources_per_trial or fit_to_cluster(spec.resources, cluster_resources()),
    )
    if resume:
        saved = join(out_dir, "tune")
        if not tune.Tuner.can_restore(str(saved)):
            raise ConfigError(f"--resume {out_dir}: no Tune sweep to continue there (no {saved})")
        tuner = tune.Tuner.restore(str(saved), trainable, resume_unfinished=True, resume_errored=True)
        return summarise(_fit(tuner, sweep, spec), spec, base_cfg, sweep, out_dir)
    tuner = tune.Tuner(
        trainable,
        param_space=param_space(sweep),
        tune_config=tune.TuneConfig(
            metric=sweep.metric,
            mode=sweep.mode,
            num_samples=sweep.num_samples,
            search_alg=search_algorithm(sweep),
            scheduler=scheduler(sweep),
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str(out_dir),
            verbose=1,
            callbacks=[SummaryAsTrialsEnd(spec, sweep, out_dir)],
            failure_config=tune.FailureConfig(max_failures=sweep.max_failures),
        ),
    )
    return summarise(_fit(tuner, sweep, spec), spec, base_cfg, sweep, out_dir)


def _fit(tuner: tune.Tuner, sweep: SweepSpec, spec: ExperimentSpec) -> tune.ResultGrid:
    """`tuner.fit()`. Tune requires the sweep metric in every report unless told otherwise: ASHA needs
    it there (it stops trials on the way), FIFO does not, so a FIFO sweep may rank by an end-of-run
    metric (each trial's last report carries its record's metrics)."""
    asha = sweep.scheduler.get("type", "fifo") == "asha"
    with _env("TUNE_DISABLE_STRICT_METRIC_CHECKING", None if asha else "1"):
        try:
            return tuner.fit()
        except Exception as exc:  # a ValueError, or Tune's TuneError around it
            if "did not include the specified metric" not in str(exc):
                raise
            raise ConfigError(
                f"sweep metric '{sweep.metric}': the ASHA scheduler needs it in every report and "
                f"{spec.name} does not stream it (a FIFO sweep can rank by an end-of-run metric)"
            ) from None


@contextlib.contextmanager
def _env(name: str, value: str | None) -> Iterator[None]:
    """Set an environment variable of this process for the block (None: leave it as it is)."""
    before = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
