"""RunContext: everything an experiment gets from the outside (seed, folder, metrics, fan-out).

Experiments never import Ray, read the environment or pick paths: the CLI, Tune and tests build a
RunContext, choosing a serial or a Ray mapper and the metric sinks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from raylab import RaylabError
from raylab.data_parallel import TrainLoop, run_local
from raylab.progress import ConsoleProgress
from raylab.records import METRICS_FILE, Claim, ResultRecord, append_jsonl, writing
from raylab.replicates import replicate_batches

log = logging.getLogger("raylab")

MetricSink = Callable[[dict[str, Any], "int | None"], None]
DATA_ENV = "RAYLAB_DATA"


T = TypeVar("T")


def default_data_roots() -> tuple[Path, ...]:
    """Folders holding each method's data (`<root>/tsp`, `<root>/mri`), searched in order: the entries
    of $RAYLAB_DATA (separated like PATH), then the repository's `data/` beside the package (a source
    checkout or an editable install), then `./data` (a `ray job submit --working-dir .` upload). Read
    here, at the edge, so that methods never read the environment."""
    listed = [Path(p).expanduser() for p in os.environ.get(DATA_ENV, "").split(os.pathsep) if p]
    beside = Path(__file__).resolve().parents[1] / "data"
    return tuple(dict.fromkeys((*listed, beside, Path.cwd() / "data")))


class ItemError(RaylabError):
    """One item of a parallel map failed; the message names the item."""


def item_label(item: Any, limit: int = 80) -> str:
    text = repr(item)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextlib.contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    """Cap BLAS/OpenMP pools (and torch's, if imported) to `threads` inside the block.

    Fan-out items run with one thread each on every path: Ray gives a 1-CPU task
    OMP_NUM_THREADS=1, and the serial path must match it, both for bitwise-identical results (BLAS
    reductions change order with the thread count) and because numpy's and torch's thread pools
    spinning against each other on a small machine can cost several times the work itself.
    """
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(torch_threads)


def call_item(
    fn: Callable[..., Any], item: Any, index: int, name: str, shared: Any = None, threads: int = 1
) -> Any:
    """Run `fn` on one item exactly as every mapper does: `fn(item[, shared=])`, `threads` BLAS/torch
    threads. Items carry their own seeds (derived from the run seed by name, see `raylab.seeding`),
    so serial and Ray results match bit for bit.
    """
    kwargs = {"shared": shared} if shared is not None else {}
    try:
        with limit_threads(threads):
            return fn(item, **kwargs)
    except Exception as exc:
        raise ItemError(
            f"{name}: item {index} {item_label(item)} failed: {type(exc).__name__}: {exc}"
        ) from exc


@contextlib.contextmanager
def item_progress(name: str, total: int, enabled: bool = True) -> Iterator[Callable[[], object]]:
    """Progress over a map's items: a tqdm bar on a terminal, throttled log lines otherwise."""
    if not enabled:
        yield lambda: None
        return
    if sys.stderr.isatty():
        with tqdm(total=total, desc=name, leave=False) as bar:
            yield lambda: bar.update(1)
        return
    lines, done = ConsoleProgress(f"{name} items"), [0]
    lines.expect_steps(total)

    def advance() -> None:
        done[0] += 1
        lines({}, done[0])

    yield advance


class Mapper(Protocol):
    def map(
        self, fn: Callable[..., Any], items: Sequence[Any], *, name: str, shared: Any = None
    ) -> list[Any]: ...

    def slots(self) -> int:
        """How many items run at once."""
        ...

    # what `RunContext.data_parallel` passes: the serial path uses the local options (device,
    # checkpointer), Ray Train the rest; each mapper takes the others as **options and ignores them
    def data_parallel(
        self,
        loop: TrainLoop,
        config: Any,
        *,
        workers: int,
        device: Any,
        checkpointer: Checkpointer | None,
        sink: MetricSink | None,
        storage: Path,
        name: str,
        placement: str,
    ) -> dict[str, Any]: ...


class SerialMapper:
    """The reference path: items one after another in this process (`threads` BLAS/torch threads
    each, like a `threads`-CPU Ray task), with a progress bar."""

    def __init__(self, progress: bool = True, threads: int = 1):
        self.progress, self.threads = progress, threads

    def map(
        self, fn: Callable[..., Any], items: Sequence[Any], *, name: str, shared: Any = None
    ) -> list[Any]:
        results = []
        with item_progress(name, len(items), self.progress) as advance:
            for i, item in enumerate(items):
                results.append(call_item(fn, item, i, name, shared, self.threads))
                advance()
        return results

    def slots(self) -> int:
        return 1

    def data_parallel(
        self,
        loop: TrainLoop,
        config: Any,
        *,
        workers: int,
        device: Any,
        checkpointer: Checkpointer | None = None,
        sink: MetricSink | None = None,
        **ray_options: Any,
    ) -> dict[str, Any]:
        """A `raylab.data_parallel` loop as one worker in this process (Ray options are not used)."""
        return run_local(loop, config, workers=workers, device=device, checkpointer=checkpointer, sink=sink)


class Reporter:
    """Routes `report(metrics, step)` to metrics.jsonl and any extra sinks (console progress, Tune,
    TensorBoard). A sink is a callable `(metrics, step)`; one that also has `expect_steps(total)` is
    told the run's length when the experiment knows it."""

    def __init__(self, out_dir: Path, sinks: Iterable[MetricSink] = ()):
        self.path = Path(out_dir) / METRICS_FILE
        self.sinks = list(sinks)
        self.latest: dict[str, Any] = {}

    def report(self, metrics: dict[str, Any], step: int | None = None) -> None:
        row = {"step": step, **metrics}
        append_jsonl(self.path, row)
        self.latest.update(metrics)
        for sink in self.sinks:
            sink(metrics, step)

    def expect_steps(self, total: int) -> None:
        for sink in self.sinks:
            if hasattr(sink, "expect_steps"):
                sink.expect_steps(total)

    def close(self) -> None:
        """Flush and close the sinks that hold files (those with a `close()`)."""
        for sink in self.sinks:
            if hasattr(sink, "close"):
                sink.close()


class CorruptCheckpoint(RaylabError):
    """A checkpoint that cannot be read back (truncated, overwritten, written by other code)."""


def read_state(path: str | Path) -> Any:
    """Unpickle a checkpoint file; any failure is one `CorruptCheckpoint` naming it."""
    try:
        return pickle.loads(Path(path).read_bytes())
    except Exception as exc:  # noqa: BLE001 - unpickling damaged bytes can raise almost anything
        raise CorruptCheckpoint(f"checkpoint {path} is unreadable ({type(exc).__name__}: {exc})") from None


def restore_state(checkpoint: Any, filename: str = "state.pkl") -> Any:
    """The state saved in a Ray (Tune / Train) checkpoint; None, said in one warning, when it is
    unreadable: the caller then falls back to an older checkpoint or starts over."""
    with checkpoint.as_directory() as folder:
        try:
            return read_state(Path(folder) / filename)
        except CorruptCheckpoint as exc:
            log.warning("%s: not resuming from it", exc)
            return None


class Checkpointer:
    """Saves pickled state dicts (models, optimisers, counters, RNGs) under out_dir/checkpoints."""

    def __init__(self, out_dir: Path):
        self.root = Path(out_dir) / "checkpoints"

    def save(self, state: dict[str, Any], step: int) -> Path:
        folder = self.root / f"step_{step:08d}"
        tmp = folder / "state.pkl.tmp"
        with writing(folder / "state.pkl", "checkpoint"):
            folder.mkdir(parents=True, exist_ok=True)
            try:
                tmp.write_bytes(pickle.dumps({"step": step, "state": state}))
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            tmp.replace(folder / "state.pkl")
        return folder

    def load_latest(self) -> tuple[int, dict[str, Any]] | None:
        """(step, state) of the newest readable checkpoint, or None when there is none. An unreadable
        one (truncated, damaged) is skipped for the one before it, and a warning says which was used
        or that the run starts over."""
        files = sorted(self.root.glob("step_*/state.pkl"), reverse=True) if self.root.exists() else []
        for number, path in enumerate(files):
            try:
                saved = read_state(path)
                step, state = saved["step"], saved["state"]
            except CorruptCheckpoint as exc:
                log.warning("%s", exc)
                continue
            except (TypeError, KeyError):  # unpickled, but not a {"step", "state"} dict of ours
                log.warning("checkpoint %s holds no step and state", path)
                continue
            if number:
                log.warning("resuming from %s (step %d), the newest readable checkpoint", path, step)
            return step, state
        if files:
            log.warning("no readable checkpoint in %s: starting over", self.root)
        return None


@dataclasses.dataclass
class RunContext:
    """What `run(cfg, ctx)` receives. Paths, seeds and parallelism all come from here."""

    experiment: str
    seed: int
    out_dir: Path
    reporter: Reporter
    run_id: str = ""
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    config_hash: str = ""
    mapper: Mapper = dataclasses.field(default_factory=SerialMapper)
    checkpointer: Checkpointer | None = None  # always set by `create`
    artifacts: list[str] = dataclasses.field(default_factory=list)
    shared_cache: Path | None = None  # the user's `--cache DIR`; configs never name output paths
    data_roots: tuple[Path, ...] = dataclasses.field(default_factory=default_data_roots)

    def report(self, metrics: dict[str, Any], step: int | None = None) -> None:
        self.reporter.report(metrics, step)

    def expect_steps(self, total: int) -> None:
        """The number of steps the run will report (progress shows step / total and an ETA)."""
        self.reporter.expect_steps(total)

    def map(
        self, fn: Callable[..., Any], items: Sequence[Any], *, name: str, shared: Any = None
    ) -> list[Any]:
        """Fan `fn` out over `items` (Ray tasks or serially); results come back in item order."""
        return self.mapper.map(fn, items, name=name, shared=shared)

    def replicate_batches(self, runs: Sequence[T]) -> list[tuple[T, ...]]:
        """`runs` cut into one replicate batch (a vectorised model, one `map` item) per item the mapper
        runs at once: one batch on the serial path, one per CPU on a cluster (`raylab.replicates`)."""
        return replicate_batches(runs, self.mapper.slots())

    def data_parallel(
        self, loop: TrainLoop, config: Any, *, workers: int, device: Any, placement: str = "auto"
    ) -> dict[str, Any]:
        """Run a `raylab.data_parallel` training loop on `workers` data-parallel workers (Ray Train on
        Ray, one worker in this process on the serial path) and return the last state it reported;
        its epochs are checkpointed in the run folder, and running the same folder again resumes."""
        return self.mapper.data_parallel(
            loop,
            config,
            workers=workers,
            device=device,
            checkpointer=self.checkpointer,
            sink=self.report,
            storage=self.out_dir / "ray_train",
            name=self.experiment.replace("/", "-"),
            placement=placement,
        )

    def artifact(self, filename: str) -> Path:
        """Path for an output file (plot, table) in the run folder; it is listed in result.json. A name
        that would leave the run folder (`../x`, an absolute path) is an error: runs write only there."""
        path = self.out_dir / filename
        if not path.resolve().is_relative_to(self.out_dir.resolve()):
            raise RaylabError(f"artifact '{filename}' would be written outside the run folder {self.out_dir}")
        self.artifacts.append(filename)
        return path

    def cache_dir(self) -> Path:
        """Where the run keeps caches: the store the user chose with `--cache DIR` (reused across runs
        and, on shared storage, across nodes), else the run folder's `cache/`."""
        return self.shared_cache if self.shared_cache is not None else self.out_dir / "cache"

    def result(self, metrics: dict[str, float], claims: Sequence[Claim]) -> ResultRecord:
        """The run's record from its final metrics and evaluated claims (the runner adds timing)."""
        return ResultRecord(
            experiment=self.experiment,
            run_id=self.run_id,
            status="ok",
            seed=self.seed,
            config=self.config,
            config_hash=self.config_hash,
            metrics=dict(metrics),
            claims=list(claims),
            artifacts=list(self.artifacts),
        )

    @classmethod
    def create(
        cls,
        experiment: str,
        seed: int,
        out_dir: str | Path,
        *,
        mapper: Mapper | None = None,
        sinks: Iterable[MetricSink] = (),
        checkpointer: Checkpointer | None = None,
    ) -> RunContext:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            experiment=experiment,
            seed=seed,
            out_dir=out_dir,
            reporter=Reporter(out_dir, sinks),
            mapper=mapper or SerialMapper(),
            checkpointer=checkpointer or Checkpointer(out_dir),
        )
