"""Run one experiment into one folder: seed, context, the method's loop, and a result record that
is written even when the loop raises."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from raylab import RaylabError
from raylab.config import config_hash, resolve_config, to_dict
from raylab.context import Checkpointer, Mapper, MetricSink, RunContext, limit_threads
from raylab.records import (
    RESULT_FILE,
    ResultRecord,
    WriteFailed,
    code_version,
    machine_info,
    package_versions,
    read_record,
    write_record,
)
from raylab.registry import ExperimentSpec
from raylab.seeding import seed_everything
from raylab.storage import is_uri, readable, staged

log = logging.getLogger("raylab")
TRACEBACK_FILE = "traceback.txt"
STOP_REASON_FILE = ".stop_reason"
SOURCE = Path(__file__).resolve().parent  # the code whose git commit each record carries


class Terminated(KeyboardInterrupt):
    """SIGTERM (`ray job stop`, Kubernetes, batch schedulers) during a run: handled like Ctrl-C."""


_sigterm = threading.Event()


def sigterm_received() -> bool:
    """Whether the interrupt being handled came from SIGTERM: Ray's `get` / `wait` re-raise any
    interrupt as a plain KeyboardInterrupt, so the type alone cannot tell."""
    return _sigterm.is_set()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises `Terminated` in the main thread, so the run's record is written
    with status "stopped" (Ray's driver handler would exit without one); the previous handler is
    restored after. Off the main thread (a Tune trial) signals cannot be handled: nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> NoReturn:
        _sigterm.set()  # Ray's blocking calls turn any interrupt into a plain KeyboardInterrupt
        raise Terminated("SIGTERM")

    _sigterm.clear()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def load_run_config(
    spec: ExperimentSpec,
    config_file: str | Path | None = None,
    overrides: Sequence[str] = (),
    smoke: bool = False,
    seed: int | None = None,
) -> Any:
    """The experiment's dataclass config from its YAML (or `config_file`), smoke block, overrides."""
    return resolve_config(
        spec.load_config_cls(), config_file or spec.config_path, overrides, smoke=smoke, seed=seed
    )


def new_run_id(cfg: Any) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    return f"{stamp}-{config_hash(cfg).split(':')[1][:8]}"


def default_out_dir(spec: ExperimentSpec, run_id: str, root: str | Path = "runs") -> Path:
    return Path(root) / spec.name / run_id


def run_experiment(
    spec: ExperimentSpec,
    cfg: Any,
    out_dir: str | Path,
    *,
    mapper: Mapper | None = None,
    sinks: Iterable[MetricSink] = (),
    run_id: str | None = None,
    checkpointer: Checkpointer | None = None,
    cache: str | Path | None = None,
) -> ResultRecord:
    """Run `spec`'s entry on `cfg`, writing `out_dir/result.json` whatever happens (`out_dir` may be
    a storage URI: see `raylab.storage`).

    A failing loop gives a record with status "failed" and the error (full traceback in
    traceback.txt), Ctrl-C one with status "interrupted" and SIGTERM (`raylab jobs stop`, `ray job stop`,
    schedulers) one with status "stopped" (then re-raised); the metrics reported so
    far stay in metrics.jsonl and the record. The loop runs with as many BLAS/torch threads as the
    experiment's registered CPUs, restored afterwards (`limit_threads`). `cache`: the user's shared
    cache store (`--cache`), else caches stay in the run folder.
    """
    if is_uri(out_dir):  # written locally on this node, uploaded when the run ends
        with staged(out_dir) as stage:
            return run_experiment(
                spec,
                cfg,
                stage,
                mapper=mapper,
                sinks=sinks,
                run_id=run_id,
                checkpointer=checkpointer,
                cache=cache,
            )
    run_id = run_id or new_run_id(cfg)
    Path(out_dir, STOP_REASON_FILE).unlink(missing_ok=True)  # left by a cancel before this run began
    ctx = RunContext.create(
        spec.name, cfg.seed, out_dir, mapper=mapper, sinks=sinks, checkpointer=checkpointer
    )
    ctx.run_id, ctx.config, ctx.config_hash = run_id, to_dict(cfg), config_hash(cfg)
    ctx.shared_cache = Path(cache) if cache else None
    size, code = run_size(spec, cfg), code_version(SOURCE)  # the code that starts, not the one at the end
    seed_everything(cfg.seed)
    start = time.perf_counter()
    try:
        with limit_threads(spec.threads), sigterm_as_interrupt():
            record = spec.load_entry()(cfg, ctx)
    except KeyboardInterrupt as exc:
        reason = _take_stop_reason(Path(out_dir))  # a driver that cancelled this loop says why
        stopped = isinstance(exc, Terminated) or reason is not None
        _finish(
            _failed_record(
                spec,
                ctx,
                "stopped" if stopped else "interrupted",
                reason or f"{type(exc).__name__}: {exc}".rstrip(": "),
            ),
            start,
            out_dir,
            size,
            code,
        )
        raise
    except Exception as exc:  # noqa: BLE001 - the record carries it; the caller decides what follows
        with contextlib.suppress(OSError):  # a full disk: the record (or its write error) says why
            Path(out_dir, TRACEBACK_FILE).write_text(traceback.format_exc())
        log.error("%s failed: %s (traceback in %s)", spec.name, exc, Path(out_dir, TRACEBACK_FILE))
        record = _failed_record(spec, ctx, "failed", f"{type(exc).__name__}: {exc}")
    finally:
        ctx.reporter.close()
    return _finish(record, start, out_dir, size, code)


def _failed_record(spec: ExperimentSpec, ctx: RunContext, status: str, error: str) -> ResultRecord:
    """What a run that did not finish leaves: its config, the metrics reported so far, the error."""
    return ResultRecord(
        experiment=spec.name,
        run_id=ctx.run_id,
        status=status,
        seed=ctx.seed,
        config=ctx.config,
        config_hash=ctx.config_hash,
        metrics=dict(ctx.reporter.latest),
        artifacts=list(ctx.artifacts),
        error=error,
    )


def _finish(
    record: ResultRecord, start: float, out_dir: str | Path, size: str, code: dict[str, Any]
) -> ResultRecord:
    record.wall_s = round(time.perf_counter() - start, 3)
    record.versions = package_versions()
    record.size, record.code, record.machine = size, code, machine_info()
    try:
        write_record(record, out_dir)
    except WriteFailed as exc:  # the previous record, if any, is still whole: say so, and what ended
        ended = f"; the run itself ended {record.status}" + (f" ({record.error})" if record.error else "")
        raise WriteFailed(f"{exc} (a record already there is unchanged){ended}") from exc
    return record


def write_stop_reason(out_dir: str | Path, reason: str) -> None:
    """Before a driver cancels a loop that runs as a Ray task (which Ray interrupts with a plain
    KeyboardInterrupt), it leaves the reason (e.g. "Terminated: SIGTERM") in the run folder, so the
    loop records "stopped" as it would have in the driver. Not for storage URIs (staged elsewhere)."""
    if not is_uri(out_dir):
        with contextlib.suppress(OSError):
            Path(out_dir, STOP_REASON_FILE).write_text(reason)


def _take_stop_reason(out_dir: Path) -> str | None:
    path = out_dir / STOP_REASON_FILE
    try:
        reason = path.read_text().strip()
    except OSError:
        return None
    path.unlink(missing_ok=True)
    return reason or None


def run_size(spec: ExperimentSpec, cfg: Any) -> str:
    """ "full" when `cfg` is the experiment's registered config, "smoke" when it is its smoke config
    (any seed: the seed picks a replicate, not a size), else "custom"."""
    seeded = to_dict(cfg)
    for size, smoke in (("full", False), ("smoke", True)):
        try:
            registered = load_run_config(spec, smoke=smoke, seed=cfg.seed)
        except Exception:  # noqa: BLE001 - no registered config (a probe, a test spec): not a size
            return "custom"
        if to_dict(registered) == seeded:
            return size
    return "custom"


def finished_record(out_dir: str | Path, cfg: Any) -> ResultRecord | None:
    """The run's record when it finished ok with this exact config (same hash); else None (run it).
    `raylab reproduce --resume` and a restored Tune trial keep such a run instead of repeating it."""
    if is_uri(out_dir):
        with readable(out_dir) as local:
            return finished_record(local, cfg)
    if not (Path(out_dir) / RESULT_FILE).exists():
        return None
    try:
        record = read_record(out_dir)
    except RaylabError as exc:
        log.warning("%s: rerunning, its record is unreadable (%s)", out_dir, exc)
        return None
    return record if record.status == "ok" and record.config_hash == config_hash(cfg) else None
