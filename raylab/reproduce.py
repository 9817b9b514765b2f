"""`raylab reproduce`: the reproduction set, one experiment after another or several at once (each
loop a Ray task with the experiment's resources), each record written as its run ends, `--resume`
keeping runs already done."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from raylab.records import ResultRecord
from raylab.registry import ExperimentSpec
from raylab.runner import finished_record, load_run_config
from raylab.storage import join

# execute(spec, cfg, out_dir, remote) -> the run's record; remote: its loop runs as a Ray task
Execute = Callable[[ExperimentSpec, Any, str | Path, bool], ResultRecord]
Report = Callable[[ResultRecord, str | Path], None]
Cancel = Callable[[BaseException], None]  # cancels the loop tasks in flight on Ctrl-C / SIGTERM


def concurrency(requested: int | None, serial: bool, on_cluster: bool, experiments: int) -> int:
    """How many experiments run at once: 1 with --serial; else --max-concurrent, by default every
    experiment on a cluster (Ray queues what does not fit) and one on a private Ray, whose fan-outs
    already keep this machine's cores busy (measured: no gain on 2 cores, see the README)."""
    if serial:
        return 1
    if requested is not None:
        return max(1, requested)
    return max(1, experiments) if on_cluster else 1


def reproduce(
    specs: Sequence[ExperimentSpec],
    out_root: str | Path,
    *,
    smoke: bool,
    resume: bool,
    at_once: int,
    on_cluster: bool,
    execute: Execute,
    report: Report,
    cancel: Cancel,
) -> list[ResultRecord]:
    """Every experiment's record, in `specs` order; `report(record, folder)` is called as each ends."""
    pending, records = [], {}
    for spec in specs:
        cfg = load_run_config(spec, smoke=smoke)
        kept = finished_record(join(out_root, spec.name), cfg) if resume else None
        if kept is not None:
            print(f"{spec.name}: kept (--resume: its record is ok for this config)", flush=True)
            report(kept, join(out_root, spec.name))
            records[spec.name] = kept
        else:
            pending.append((spec, cfg))
    if at_once == 1:
        for spec, cfg in pending:
            records[spec.name] = execute(spec, cfg, join(out_root, spec.name), on_cluster)
            report(records[spec.name], join(out_root, spec.name))
    elif pending:
        print(f"reproduce: {len(pending)} experiments, up to {at_once} at once", flush=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=at_once) as pool:
            running = {pool.submit(execute, s, cfg, join(out_root, s.name), True): s for s, cfg in pending}
            try:
                for done in concurrent.futures.as_completed(running):
                    spec = running[done]
                    records[spec.name] = done.result()
                    report(records[spec.name], join(out_root, spec.name))
            except KeyboardInterrupt as exc:  # the running loops record where they stopped
                for future in running:
                    future.cancel()
                cancel(exc)
                raise
    return [records[spec.name] for spec in specs]
