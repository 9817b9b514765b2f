"""`raylab` command line: list | show | run | tune | submit | reproduce | report.

Exit code 0 on success; non-zero with a one-line `raylab: error: ...` on failure. Ray is imported
only by the verbs that need it (through raylab.runtime).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raylab import RaylabError
from raylab.cli_args import build_parser, completion_script
from raylab.config import commented_yaml, config_hash, to_dict
from raylab.context import Mapper, MetricSink, SerialMapper
from raylab.folder_lock import hold_folder
from raylab.progress import ConsoleProgress
from raylab.records import RESULT_FILE, ResultRecord
from raylab.registry import ExperimentSpec, all_specs, get_spec
from raylab.runner import (
    Terminated,
    default_out_dir,
    load_run_config,
    new_run_id,
    run_experiment,
    sigterm_as_interrupt,
    sigterm_received,
)
from raylab.storage import is_uri, join
from raylab.tracking import tracker_sinks

if TYPE_CHECKING:
    from raylab.runtime.parallel import RayMapper


def _config(args: argparse.Namespace) -> tuple[ExperimentSpec, Any]:
    spec = get_spec(args.experiment)
    return spec, load_run_config(spec, args.config, args.set or (), smoke=args.smoke, seed=args.seed)


def _location(out: str | Path) -> str | Path:
    """--out as given: a storage URI stays a string (see raylab.storage), a path becomes a Path."""
    return str(out) if is_uri(str(out)) else Path(out)


def _canonical(out: str | Path) -> str:
    """--out as one string to compare: a URI as given, a path resolved."""
    location = _location(out)
    return str(location) if is_uri(location) else str(Path(location).resolve())


def _summary(record: ResultRecord, out_dir: str | Path) -> str:
    from raylab.reporting.report import NOT_JUDGED, SIZE_DEPENDENT, claim_status

    status = {c.id: claim_status(record, c) for c in record.claims}
    claims = [c for c in record.claims if c.kind != "invariant"]

    def named(label: str) -> list[str]:
        return [i for i, s in status.items() if s == label]

    text = (
        f"{record.experiment}: {record.status} in {record.wall_s:.1f} s, claims "
        f"{len(named('yes'))}/{len(claims)} passed"
        + (f" (failed: {', '.join(named('**NO**'))})" if named("**NO**") else "")
        + (f" (open, not met at full size: {', '.join(named('open'))})" if named("open") else "")
        + (
            f" (size-dependent, judged at full size: {', '.join(named(SIZE_DEPENDENT))})"
            if named(SIZE_DEPENDENT)
            else ""
        )
        + (f"; invariants broken: {', '.join(named('**BROKEN**'))}" if named("**BROKEN**") else "")
        + "".join(f"; {i}: {s}" for i, s in status.items() if s.startswith(NOT_JUDGED))
    )
    if record.error:
        text += f"\n  error: {record.error}"
    return text + f"\n  record: {join(out_dir, RESULT_FILE)}"


Pools = dict[tuple[tuple[str, Any], ...], "RayMapper"]  # mapper options -> its warm actor pool


def _mapper(
    args: argparse.Namespace, spec: ExperimentSpec, pools: Pools | None = None, share: bool = False
) -> Mapper:
    """The run's mapper. `pools` (a reproduction's): with `share` (the loop runs in this process), a
    run takes the actor pool that the previous run with the same options left warm. Any other pool is
    closed first: idle actors hold CPUs that this run's tasks would wait for."""
    if args.serial:
        return SerialMapper()
    from raylab.runtime.parallel import RayMapper

    options = spec.mapper_options
    if pools is None:
        return RayMapper(**options)
    key = tuple(sorted(options.items())) if share and options.get("backend") == "actors" else None
    for other in [k for k in pools if k != key]:
        pools.pop(other).close()
    if key is None:
        return RayMapper(**options)
    if key not in pools:
        pools[key] = RayMapper(**options)
    return pools[key]


def _session(args: argparse.Namespace) -> AbstractContextManager[object]:
    if args.serial:
        from contextlib import nullcontext

        return nullcontext()
    from raylab.runtime.cluster import ray_session

    return ray_session(args.address, dashboard=args.dashboard)


def _on_cluster(session: object) -> bool:
    """Whether the session joined a cluster (an address), not a private Ray or none (--serial)."""
    return session not in (None, "local", "existing")


def cmd_list(args: argparse.Namespace) -> int:
    for spec in all_specs():
        resources = ", ".join(f"{k}={v:g}" for k, v in spec.resources.items())
        mark = "*" if spec.reproduce else " "
        print(f"{mark} {spec.name:<28} [{resources}] {spec.summary}")
    print("\n* = in the reproduction set (`raylab reproduce`). Papers:")
    for method, paper in sorted({(s.method, s.paper) for s in all_specs()}):
        print(f"  {method}: {paper}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    _, cfg = _config(args)
    print(commented_yaml(cfg), end="")
    return 0


def _execute(
    args: argparse.Namespace,
    spec: ExperimentSpec,
    cfg: Any,
    out_dir: str | Path,
    run_id: str | None = None,
    remote: bool = False,
    pools: Pools | None = None,
) -> ResultRecord:
    """Run the loop here, or as a Ray task: one that needs a GPU placed in a bundle of its registered
    resources (the driver's node may have no GPU; a loop that dispatches its work, `spec.dispatches`,
    runs here and its workers / items take the GPUs), and, with `remote` (on a cluster, or several
    experiments at once), every other loop as a task holding its CPUs, so the driver needs one CPU.
    The record lands in out_dir on the node that ran it: on a multi-node cluster pass an --out on
    shared storage. `pools`: actor pools shared by the loops that run here (see `_mapper`)."""
    if not args.serial:  # a GPU experiment on a cluster without GPUs runs on CPUs (same code)
        from raylab.runtime.placement import cluster_resources, fit_to_cluster

        spec = dataclasses.replace(spec, resources=fit_to_cluster(spec.resources, cluster_resources()))
    if args.log and is_uri(out_dir):
        raise RaylabError(f"--log writes tracker files into the run folder: use a local --out, not {out_dir}")
    trackers = (
        tracker_sinks(args.log, Path(out_dir), f"{spec.name}:{Path(out_dir).name}", to_dict(cfg))
        if args.log
        else []
    )
    placed = bool(spec.resources.get("gpu")) and not spec.dispatches
    here = args.serial or not (placed or remote)
    sinks: list[MetricSink]
    mapper, sinks = _mapper(args, spec, pools, share=here), [ConsoleProgress(spec.name), *trackers]
    if not args.serial:  # live metrics in the dashboard / Prometheus (raylab/runtime/metrics.py)
        from raylab.runtime.metrics import DashboardMetrics

        sinks.append(DashboardMetrics(spec.name, run_id or Path(out_dir).name))
    print(f"{spec.name}: run folder {out_dir}\n", end="", flush=True)  # one write: runs may print at once
    if here:
        return run_experiment(spec, cfg, out_dir, mapper=mapper, sinks=sinks, run_id=run_id, cache=args.cache)
    from raylab.runtime.placement import run_as_task, run_placed

    target = out_dir if is_uri(out_dir) else Path(out_dir).resolve()
    options = {"mapper": mapper, "sinks": sinks, "run_id": run_id, "cache": args.cache}
    name = f"{spec.name}-run"
    if not placed:
        cpus = spec.resources.get("cpu", 1)
        return run_as_task(
            run_experiment, spec, cfg, target, num_cpus=cpus, name=name, folder=target, **options
        )
    return run_placed(
        run_experiment, spec, cfg, target, resources=spec.resources, name=name, folder=target, **options
    )


def cmd_run(args: argparse.Namespace) -> int:
    spec, cfg = _config(args)
    run_id = new_run_id(cfg)
    out_dir = _location(args.out) if args.out else default_out_dir(spec, run_id)
    with hold_folder(out_dir), _session(args) as where, sigterm_as_interrupt():
        record = _execute(args, spec, cfg, out_dir, run_id, remote=_on_cluster(where))
    print(_summary(record, out_dir))
    return 0 if record.status == "ok" else 1


def cmd_tune(args: argparse.Namespace) -> int:
    spec, cfg = _config(args)
    from raylab.runtime.cluster import ray_session
    from raylab.runtime.tune import load_sweep, run_sweep

    sweep = load_sweep(args.sweep, smoke=args.smoke, num_samples=args.num_samples)
    if args.resume and args.out and _canonical(args.out) != _canonical(args.resume):
        raise RaylabError("--resume DIR continues the sweep in DIR: leave out --out or pass the same folder")
    out_dir = _location(args.resume or args.out or Path("runs") / spec.name / f"tune-{new_run_id(cfg)}")
    with hold_folder(out_dir), ray_session(args.address, dashboard=args.dashboard):
        summary = run_sweep(
            spec, cfg, sweep, out_dir, trackers=args.log, resume=bool(args.resume), cache=args.cache
        )
    print(_trials_table(summary))
    print(
        f"{spec.name}: {summary['num_trials']} trials ({summary['num_errors']} errors); best "
        f"{summary['metric']} = {summary['best_value']:.6g} with {summary['best_values']}\n"
        f"  summary: {join(out_dir, 'tune_summary.json')}\n  best config: {join(out_dir, 'best_config.yaml')}"
    )
    return 0


def _trials_table(summary: dict[str, Any]) -> str:
    """One row per trial: its swept values, the sweep metric and the sweep's summary metrics."""
    trials = summary["trials"]
    keys = list(trials[0]["config"]) if trials else []
    extra = list(trials[0]["summary"]) if trials else []
    header = keys + [summary["metric"]] + extra
    rows = [[*(t["config"][k] for k in keys), t["metric"], *(t["summary"][k] for k in extra)] for t in trials]
    fmt: Callable[[Any], str] = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    widths = [max(len(h), *(len(fmt(r[i])) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(fmt(v).ljust(w) for v, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def _reproduce_specs(only: str | None, smoke: bool = False) -> list[ExperimentSpec]:
    """The reproduction set, narrowed by --only (methods or experiments)."""
    chosen = {x.strip() for x in only.split(",")} if only else None
    specs = [
        s for s in all_specs() if s.reproduce and (chosen is None or s.method in chosen or s.name in chosen)
    ]
    if not specs:
        raise RaylabError(f"--only {only} matches no experiment in the reproduction set")
    return specs


def _submitted_command(args: argparse.Namespace) -> tuple[str, list[str], Path, dict[str, str]]:
    """Validate what `raylab submit` sends here, before anything is uploaded; returns (entry script,
    its arguments, the output folder on the cluster, job metadata)."""
    smoke = ["--smoke"] if args.smoke else []
    if args.experiment == "reproduce":
        _reproduce_specs(args.only)
        out = (
            Path(args.out) if args.out else Path.cwd() / f"reproduce_out/{'smoke' if args.smoke else 'full'}"
        )
        only = ["--only", args.only] if args.only else []
        meta = {"verb": "reproduce", "run_id": datetime.now(UTC).strftime("%Y%m%d-%H%M%S")}
        return "jobs/reproduce.py", ["--out", str(out), *smoke, *only], out, meta
    spec, cfg = _config(args)
    run_id = new_run_id(cfg)
    forwarded = [spec.name, *smoke, *(f"--set={s}" for s in args.set or ())]
    forwarded += (["--seed", str(args.seed)] if args.seed is not None else []) + (
        ["--config", str(args.config)] if args.config else []
    )
    meta = {"experiment": spec.name, "seed": str(cfg.seed), "config_hash": config_hash(cfg), "run_id": run_id}
    if not args.sweep:
        out = Path(args.out) if args.out else Path.cwd() / default_out_dir(spec, run_id)
        return "jobs/run.py", [*forwarded, "--out", str(out)], out, {"verb": "run", **meta}
    from raylab.runtime.tune import check_space, load_sweep

    check_space(load_sweep(args.sweep, smoke=args.smoke, num_samples=args.num_samples), cfg)
    sweep = Path(args.sweep).resolve()
    if not sweep.is_relative_to(Path(args.working_dir).resolve()):
        raise RaylabError(
            f"--sweep {args.sweep}: must be inside --working-dir {args.working_dir} (it is uploaded)"
        )
    out = Path(args.out) if args.out else Path.cwd() / "runs" / spec.name / f"tune-{run_id}"
    forwarded += ["--sweep", str(sweep.relative_to(Path(args.working_dir).resolve())), "--out", str(out)]
    forwarded += ["--num-samples", str(args.num_samples)] if args.num_samples else []
    return "jobs/tune.py", forwarded, out, {"verb": "tune", **meta}


def _entrypoint_resources(args: argparse.Namespace) -> dict[str, float]:
    """--entrypoint-num-cpus / --entrypoint-resources NAME=AMOUNT as one resource dict."""
    resources: dict[str, float] = {}
    if args.entrypoint_num_cpus is not None:
        resources["CPU"] = args.entrypoint_num_cpus
    for item in args.entrypoint_resources or ():
        name, _, amount = item.partition("=")
        try:
            resources[name.strip()] = float(amount)
        except ValueError:
            raise RaylabError(f"--entrypoint-resources {item}: expected NAME=AMOUNT, e.g. GPU=1") from None
    return resources


def cmd_submit(args: argparse.Namespace) -> int:
    entry, forwarded, out_dir, metadata = _submitted_command(args)
    from raylab.runtime import jobs

    excludes = args.exclude or []
    runtime_env = jobs.job_runtime_env(
        args.working_dir, args.pip or [], args.env or [], args.runtime_env, excludes
    )
    client = jobs.connect(args.address)  # an unreachable cluster fails before the folder is walked
    warning = jobs.upload_warning(args.working_dir, excludes)
    if warning:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    label = metadata.get("experiment", "all").replace("/", "-")
    submission_id = f"raylab-{metadata['verb']}-{label}-{metadata['run_id']}"
    job_id = jobs.submit(
        client,
        forwarded,
        runtime_env,
        entry_script=entry,
        submission_id=submission_id,
        metadata=metadata,
        entrypoint_resources=_entrypoint_resources(args),
    )
    what = "report" if metadata["verb"] == "reproduce" else "record"
    print(
        f"submitted {metadata['verb']} {metadata.get('experiment', '')} as job {job_id}\n"
        f"  dashboard: {jobs.job_url(client, job_id)}\n  {what}s (on the cluster's filesystem): {out_dir}"
    )
    if not args.follow:
        return 0
    status = jobs.follow(client, job_id)
    print(f"job {job_id}: {status.value}")
    return 0 if status.value == "SUCCEEDED" else 1


def cmd_reproduce(args: argparse.Namespace) -> int:
    from raylab.reporting.report import build_report_at, user_data_command
    from raylab.reproduce import concurrency, reproduce

    specs = _reproduce_specs(args.only)
    out_root = _location(args.out or ("reproduce_out/smoke" if args.smoke else "reproduce_out/full"))

    pools: Pools = {}  # actor pools of the loops that run in this process, warm across experiments

    def execute(spec: ExperimentSpec, cfg: Any, out_dir: str | Path, remote: bool) -> ResultRecord:
        return _execute(args, spec, cfg, out_dir, remote=remote, pools=pools)

    def cancel(exc: BaseException) -> None:
        from raylab.runtime.placement import cancel_loops, stop_reason

        cancel_loops(stop_reason(exc))

    with hold_folder(out_root), _session(args) as where, sigterm_as_interrupt():
        records = reproduce(
            specs,
            out_root,
            smoke=args.smoke,
            resume=args.resume,
            at_once=concurrency(args.max_concurrent, args.serial, _on_cluster(where), len(specs)),
            on_cluster=_on_cluster(where),
            execute=execute,
            report=lambda record, folder: print(_summary(record, folder), flush=True),
            cancel=cancel,
        )
        for pool in pools.values():
            pool.close()
    report = build_report_at(out_root, title=f"raylab reproduction ({'smoke' if args.smoke else 'full'})")
    print(f"report: {report}")
    needs_data = {r.experiment: user_data_command(r) for r in records if user_data_command(r)}
    for experiment, command in needs_data.items():
        print(f"{experiment}: needs your data, not counted as a failure; supply it with: {command}")
    failed = [r.experiment for r in records if r.status != "ok" and r.experiment not in needs_data]
    if failed:
        print(f"failed runs: {', '.join(failed)}")
    return 1 if failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    if args.readmes:
        from raylab.reporting.readme_tables import METHODS_DIR, update_readmes

        changed = update_readmes(args.dir, METHODS_DIR)
        print("\n".join(f"updated: {p}" for p in changed) or "every README's results tables are up to date")
    else:
        from raylab.reporting.report import build_report

        print(f"report: {build_report(args.dir, args.out)}")
    if args.check:
        from raylab.reporting.evidence import check

        check(args.dir)
        print(f"{args.dir}: every reproduction-set experiment has a full-size record of today's config")
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    """`raylab jobs list | logs ID [--follow] | stop ID` over the Jobs API (address and auth as `submit`)."""
    from raylab.runtime import jobs

    if args.action != "list" and not args.job_id:
        raise RaylabError(f"`raylab jobs {args.action}` needs a job id (see `raylab jobs list`)")
    client = jobs.connect(args.address)
    if args.action == "list":
        print(jobs.job_table(client.list_jobs()))
        return 0
    if args.action == "logs":
        if args.follow:
            status = jobs.follow(client, args.job_id)
            print(f"job {args.job_id}: {status.value}")
            return 0
        print(jobs.logs(client, args.job_id), end="")
        return 0
    status = jobs.stop(client, args.job_id)
    print(
        f"job {args.job_id}: {status.value} (a raylab run ends on SIGTERM with a record of status "
        '"stopped" and the metrics so far)'
    )
    return 0 if status.value == "STOPPED" else 1


def cmd_completion(args: argparse.Namespace) -> int:
    print(completion_script(args.shell, [s.name for s in all_specs()]), end="")
    return 0


HANDLERS = {
    "list": cmd_list,
    "show": cmd_show,
    "run": cmd_run,
    "tune": cmd_tune,
    "submit": cmd_submit,
    "reproduce": cmd_reproduce,
    "report": cmd_report,
    "jobs": cmd_jobs,
    "completion": cmd_completion,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser(HANDLERS).parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except RaylabError as exc:
        print(f"raylab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        if isinstance(exc, Terminated) or sigterm_received():
            print("raylab: terminated (SIGTERM); the run's record says where it stopped", file=sys.stderr)
            return 143
        print("raylab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
