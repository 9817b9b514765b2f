"""Fan-out over Ray: tasks or a pool of warm actors, ordered results identical to SerialMapper.

Every item runs through `raylab.context.call_item`, so thread limits and error messages are the
same as on the serial path (items carry their own seeds). Tasks are named `<name>[<index>]` and
actors `<name>-worker-<k>` so the Ray dashboard shows what is running.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import ray
from ray import ObjectRef

from raylab import RaylabError
from raylab.context import ItemError, call_item, item_label, item_progress
from raylab.data_parallel import EpochSink, TrainLoop
from raylab.runtime.placement import in_bundle, reserved, worker_bundles

log = logging.getLogger("raylab")
LOST_ACTOR = "a worker actor was lost, its items go to the others and a replacement is starting"


def _run_item(
    fn: Callable[..., Any], item: Any, index: int, name: str, shared: Any, threads: int = 1
) -> tuple[bool, Any]:  # (True, result) or (False, the ItemError's message)
    try:
        return True, call_item(fn, item, index, name, shared, threads)
    except ItemError as exc:
        return False, str(exc)


_run_item_task = ray.remote(_run_item)


@ray.remote
class _ItemWorker:
    """A warm worker process: whatever the mapped functions compile or cache (numba, torch) stays
    loaded across maps and across functions. The function and the map's shared payload arrive as
    object-store references, fetched once per worker node."""

    def __init__(self, threads: int):
        self.threads = threads

    def run(self, fn: Callable[..., Any], item: Any, index: int, name: str, shared: Any) -> tuple[bool, Any]:
        return _run_item(fn, item, index, name, shared, self.threads)


class RayMapper:
    """`map(fn, items)` on the connected Ray cluster.

    backend="tasks": one task per item. backend="actors": one pool of `num_actors` actors per mapper
    (default: as many as the free CPUs allow), created on the first map and reused by every later map,
    whatever its function (worth it when set-up, e.g. JIT compilation, dominates); items go to whichever
    actor is free (next-idle, two in flight per actor), so uneven items keep every actor busy;
    `close()` ends it.
    placement="SPREAD" / "PACK" (tasks backend): the map reserves a placement group of one bundle
    {CPU: num_cpus, GPU: num_gpus} per concurrently running item (as many as the cluster holds, at most
    one per item) and hands each bundle its next item when it finishes; a cluster that cannot hold one
    bundle fails after `placement_timeout_s` naming the missing resource.
    `shared` is put in the object store once per map. A lost task is retried by Ray (`max_retries`); a
    lost actor's items run on the surviving actors (the pool shrinks; `_dispatch`); an exception
    inside `fn` is not retried and fails the map with an ItemError naming the item.
    """

    def __init__(
        self,
        backend: str = "tasks",
        num_cpus: float = 1,
        num_gpus: float = 0,
        num_actors: int | None = None,
        progress: bool = True,
        max_retries: int = 3,
        placement: str | None = None,
        placement_timeout_s: float = 60.0,
    ):
        if backend not in ("tasks", "actors"):
            raise ValueError(f"backend must be 'tasks' or 'actors', not {backend!r}")
        if placement and backend != "tasks":
            raise ValueError("placement groups place tasks: use backend='tasks' with placement")
        self.backend, self.num_cpus, self.num_gpus = backend, num_cpus, num_gpus
        self.num_actors, self.progress, self.max_retries = num_actors, progress, max_retries
        self.threads = max(1, int(num_cpus))  # BLAS/torch threads per item, as on the serial path
        self.placement, self.placement_timeout_s = placement, placement_timeout_s
        # actor handles are Any: Ray types a handle's methods (`actor.run`) as Never
        self._actors: list[Any] | None = None
        self._tag, self._started = "", 0  # the pool's name tag, actors started (replacements too)
        self._starting: dict[ObjectRef[Any], Any] = {}  # ready ref -> replacement actor not yet up

    def map(
        self, fn: Callable[..., Any], items: Sequence[Any], *, name: str, shared: Any = None
    ) -> list[Any]:
        if not items:
            return []
        shared_ref = ray.put(shared) if shared is not None else None
        if self.backend == "tasks" and self.placement:
            return self._map_placed(ray.put(fn), items, name, shared_ref, self.placement)
        if self.backend == "tasks":
            fn_ref = ray.put(fn)
            resources = {
                "num_cpus": self.num_cpus,
                "num_gpus": self.num_gpus,
                "max_retries": self.max_retries,
            }
            refs = [
                _run_item_task.options(name=f"{name}[{i}]", **resources).remote(
                    fn_ref, item, i, name, shared_ref, self.threads
                )
                for i, item in enumerate(items)
            ]
            return self._collect(refs, name, items)
        return self._map_actors(fn, items, name, shared_ref)

    def slots(self) -> int:
        """How many items run at once: the actor pool's size, else the cluster's CPUs per item."""
        if self.backend == "actors" and self.num_actors:
            return self.num_actors
        return max(1, int(ray.cluster_resources().get("CPU", 1) // max(self.num_cpus, 1e-9)))

    def _pool(self, name: str) -> list[Any]:
        """The mapper's actors, created on its first actor map (named after that map)."""
        if self._actors is None:
            count = self.num_actors or max(
                1, int(ray.available_resources().get("CPU", 1) // max(self.num_cpus, 1e-9))
            )
            self._tag = uuid.uuid4().hex[:6]
            self._actors = [self._new_actor(name) for _ in range(count)]
        return self._actors

    def _new_actor(self, name: str) -> Any:
        self._started += 1
        return _ItemWorker.options(  # type: ignore[attr-defined]  # @ray.remote adds .options
            name=f"{name}-worker-{self._started - 1}-{self._tag}",
            num_cpus=self.num_cpus,
            num_gpus=self.num_gpus,
            max_restarts=0,  # a lost actor's items move to the survivors (see _dispatch)
            max_task_retries=0,
        ).remote(self.threads)

    def _replacement(self, name: str) -> tuple[Any, ObjectRef[Any]]:
        """A new actor for one that died, and the ref that is ready once it has started (a node that
        replaces the lost one, or capacity the survivors free)."""
        actor = self._new_actor(name)
        ready: ObjectRef[Any] = actor.__ray_ready__.remote()
        return actor, ready

    def _map_actors(
        self, fn: Callable[..., Any], items: Sequence[Any], name: str, shared_ref: ObjectRef[Any] | None
    ) -> list[Any]:
        """Each actor holds two items at a time (one running, one queued, so it never waits on the
        driver) and is handed the next item when one finishes: uneven items do not leave actors idle."""
        fn_ref = ray.put(fn)

        def submit(i: int, actor: Any) -> ObjectRef[Any]:
            ref: ObjectRef[Any] = actor.run.options(name=f"{name}[{i}]").remote(
                fn_ref, items[i], i, name, shared_ref
            )
            return ref

        actors = self._pool(name)
        return self._dispatch(submit, items, actors + actors, name, replace=lambda: self._replacement(name))

    def _map_placed(
        self,
        fn_ref: ObjectRef[Any],
        items: Sequence[Any],
        name: str,
        shared_ref: ObjectRef[Any] | None,
        placement: str,
    ) -> list[Any]:
        (bundle,) = worker_bundles(1, gpus_per_worker=self.num_gpus, cpus_per_worker=self.num_cpus)
        total = ray.cluster_resources()
        fits = min(int(total.get(r, 0) // amount) for r, amount in bundle.items() if amount)
        count = max(1, min(len(items), fits))
        with reserved([bundle] * count, placement, self.placement_timeout_s, name=f"{name}-pg") as group:

            def submit(i: int, slot: int) -> ObjectRef[Any]:
                task = _run_item_task.options(
                    name=f"{name}[{i}]",
                    num_cpus=self.num_cpus,
                    num_gpus=self.num_gpus,
                    max_retries=self.max_retries,
                    **in_bundle(group, slot, capture_child_tasks=False),
                )
                ref: ObjectRef[Any] = task.remote(fn_ref, items[i], i, name, shared_ref, self.threads)
                return ref

            return self._dispatch(submit, items, list(range(count)), name)

    def _dispatch(
        self,
        submit: Callable[[int, Any], ObjectRef[Any]],
        items: Sequence[Any],
        slots: list[Any],
        name: str,
        replace: Callable[[], tuple[Any, ObjectRef[Any]]] | None = None,
    ) -> list[Any]:
        """Next-idle dispatch: `submit(i, slot)` item i into each slot (an actor, a bundle), then give a
        slot the next item whenever one of its items finishes. Results come back in item order.

        An actor that dies (its node lost, its process killed) is not restarted: its items go back to
        the queue and run on the surviving actors, and a replacement actor (`replace`) joins the pool
        once it has started, in this map or a later one. (A restarted actor on a fixed-size cluster
        would take items while it waits for resources the survivors hold, and the map would hang.)
        With no actor left and none started within `placement_timeout_s`, the map fails."""
        running: dict[ObjectRef[Any], tuple[int, Any]]  # ref -> (item index, slot)
        starting = self._starting if replace is not None else {}
        total = len(items)
        queue, free, running, dead = list(range(total)), list(slots), {}, set()
        results: list[Any] = [None] * total
        with item_progress(name, total, self.progress) as advance:
            while queue or running:
                while queue and free:
                    slot = free.pop(0)
                    index = queue.pop(0)
                    running[submit(index, slot)] = (index, slot)
                timeout = None if running else self.placement_timeout_s
                done = _ready([*running, *starting], timeout) if running or starting else []
                if not done:
                    raise RaylabError(f"{name}: every worker was lost; {len(queue)} items did not run")
                for ref in done:
                    if ref in starting:
                        free += self._joined(starting.pop(ref), ref, replace, starting)
                        continue
                    index, slot = running.pop(ref)
                    try:
                        results[index] = self._value(ref, running, _label(name, index, items))
                    except ray.exceptions.RayActorError as exc:
                        dead.add(id(slot))
                        queue.insert(0, index)
                        if self._forget(slot) and replace is not None:
                            log.warning("%s: %s; %s", name, LOST_ACTOR, _first_line(exc))
                            actor, ready = replace()
                            starting[ready] = actor
                        continue
                    advance()
                    free.append(slot)
                free = [slot for slot in free if id(slot) not in dead]
        return results  # replacements still starting join the pool in a later map

    def _joined(
        self,
        actor: Any,
        ready: ObjectRef[Any],
        replace: Callable[[], tuple[Any, ObjectRef[Any]]] | None,
        starting: dict[ObjectRef[Any], Any],
    ) -> list[Any]:
        """A replacement actor's two slots once it has started; if it died starting, another try."""
        try:
            ray.get(ready)
        except ray.exceptions.RayActorError:
            if replace is not None:
                again, ready_again = replace()
                starting[ready_again] = again
            return []
        if self._actors is not None:
            self._actors.append(actor)
        return [actor, actor]

    def _forget(self, actor: Any) -> bool:
        """Drop a dead actor from the pool (later maps run on the survivors and its replacement);
        False when it was already dropped (its second queued item reported the same death)."""
        if self._actors is None or not any(a is actor for a in self._actors):
            return False
        self._actors = [a for a in self._actors if a is not actor]
        return True

    @staticmethod
    def _value(ref: ObjectRef[Any], still_running: Iterable[ObjectRef[Any]], label: str) -> Any:
        """An item's result; a failed item (or one Ray's memory monitor killed) cancels the others and
        raises its ItemError."""
        try:
            ok, value = ray.get(ref)
        except ray.exceptions.OutOfMemoryError as exc:
            ok, value = False, memory_killed(label, exc)
        if not ok:
            for other in still_running:
                ray.cancel(other, force=False)
            raise ItemError(value)
        return value

    def data_parallel(
        self,
        loop: TrainLoop,
        config: Any,
        *,
        workers: int,
        storage: Path,
        name: str,
        placement: str = "auto",
        sink: EpochSink | None = None,
        **local_options: Any,
    ) -> dict[str, Any]:
        """A `raylab.data_parallel` loop on `workers` Ray Train workers, each with this mapper's
        per-item resources (the run folder's `storage` holds the checkpoints; the local options, a
        device and a checkpointer, belong to the serial path)."""
        from raylab.runtime import train

        return train.fit(
            loop,
            config,
            workers=workers,
            cpus_per_worker=self.num_cpus,
            gpus_per_worker=self.num_gpus,
            storage=storage,
            name=name,
            placement=placement,
            sink=sink,
        )

    def close(self) -> None:
        """End the actor pool (it also ends with the mapper or the Ray session)."""
        for actor in [*(self._actors or []), *self._starting.values()]:
            ray.kill(actor)
        self._actors, self._starting = None, {}

    def _collect(self, refs: list[ObjectRef[Any]], name: str, items: Sequence[Any]) -> list[Any]:
        index_of = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(refs)
        pending = set(refs)
        with item_progress(name, len(refs), self.progress) as advance:
            while pending:
                for ref in _ready(list(pending)):
                    pending.discard(ref)
                    index = index_of[ref]
                    results[index] = self._value(ref, pending, _label(name, index, items))
                    advance()
        return results


def _first_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


def _label(name: str, index: int, items: Sequence[Any]) -> str:
    return f"{name}: item {index} {item_label(items[index])}"


def memory_killed(label: str, exc: ray.exceptions.OutOfMemoryError) -> str:
    """One line for work that Ray's memory monitor killed: how much memory, and what to change."""
    text = str(exc)
    node = re.search(r"was ([\d.]+GB) used / ([\d.]+GB) limit", text)
    threshold = re.search(r"threshold of \d+B \(([\d.]+%)", text)
    held = re.search(r"actual memory used=([\d.]+GB)", text)
    usage = f"the node used {node[1]} of {node[2]}" if node else "the node ran low on memory"
    return (
        f"{label} was killed by Ray's memory monitor: {usage}, over its "
        f"{threshold[1] if threshold else 'memory usage'} threshold"
        f"{f' (the killed worker held {held[1]})' if held else ''}. Run fewer items at once (more CPUs "
        "per item in the experiment's resources) or on nodes with more memory; the threshold is "
        "RAY_memory_usage_threshold, read when Ray starts"
    )


def _ready(refs: list[ObjectRef[Any]], timeout: float | None = None) -> list[ObjectRef[Any]]:
    """Every finished ref, waiting for at least one (none after `timeout` seconds): one pass of
    bookkeeping per burst of finished items, not per item (a map of 10^5 small items is not
    quadratic in `ray.wait` calls)."""
    first, _ = ray.wait(refs, num_returns=1, timeout=timeout)
    if not first:
        return []
    done, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
    return done
