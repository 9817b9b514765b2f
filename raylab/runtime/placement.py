"""Placement groups for training workers: reserve bundles such as {"GPU": 1, "CPU": 4} per worker,
PACK / SPREAD them, and say which resource is short when the cluster cannot satisfy them."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import ray
from ray import ObjectRef
from ray.util.placement_group import PlacementGroup, placement_group, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from raylab import RaylabError
from raylab.runner import Terminated, sigterm_received, write_stop_reason

STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")
log = logging.getLogger("raylab")
R = TypeVar("R")


class PlacementError(RaylabError):
    """A placement group could not be created in time."""


def worker_bundles(
    num_workers: int, gpus_per_worker: float = 1, cpus_per_worker: float = 1
) -> list[dict[str, float]]:
    """One bundle per training worker, e.g. 2 workers x {"GPU": 1, "CPU": 4}."""
    bundle = {"CPU": float(cpus_per_worker)}
    if gpus_per_worker:
        bundle["GPU"] = float(gpus_per_worker)
    return [dict(bundle) for _ in range(num_workers)]


def shortage(
    bundles: Sequence[Mapping[str, float]], strategy: str, nodes: Sequence[Mapping[str, float]]
) -> str:
    """Why `bundles` cannot be placed on alive nodes with these total resources ("" if they can)."""
    needed: Counter[str] = Counter()
    for bundle in bundles:
        needed.update(bundle)
    have: Counter[str] = Counter()
    for node in nodes:
        have.update(node)
    short = [
        f"needs {r}={a:g} in total, the cluster has {r}={have[r]:g}"
        for r, a in sorted(needed.items())
        if have[r] < a
    ]
    if short:
        return "; ".join(short)
    for bundle in bundles:
        if not any(all(node.get(r, 0) >= a for r, a in bundle.items()) for node in nodes):
            return f"bundle {dict(bundle)} fits on no single node (nodes: {[dict(n) for n in nodes]})"
    if strategy == "STRICT_SPREAD" and len(bundles) > len(nodes):
        return f"STRICT_SPREAD needs {len(bundles)} nodes, the cluster has {len(nodes)}"
    if strategy == "STRICT_PACK":
        if not any(all(node.get(r, 0) >= a for r, a in needed.items()) for node in nodes):
            return f"STRICT_PACK needs {dict(needed)} on one node"
    return ""


def _alive_node_resources() -> list[dict[str, float]]:
    return [node["Resources"] for node in ray.nodes() if node.get("Alive")]


@contextlib.contextmanager
def reserved(
    bundles: Sequence[Mapping[str, float]],
    strategy: str = "PACK",
    timeout_s: float = 60,
    name: str = "raylab",
) -> Iterator[PlacementGroup]:
    """Create a placement group, wait up to `timeout_s`, yield it, and remove it afterwards.

    On timeout the group is removed and PlacementError says which resource is short (or that the
    resources exist but are busy).
    """
    if strategy not in STRATEGIES:
        raise PlacementError(f"unknown placement strategy '{strategy}' (choose from {', '.join(STRATEGIES)})")
    group = placement_group([dict(b) for b in bundles], strategy=strategy, name=name)
    try:
        if not group.wait(timeout_seconds=timeout_s):
            reason = (
                shortage(bundles, strategy, _alive_node_resources())
                or "the resources exist but are held by other work"
            )
            raise PlacementError(
                f"placement group '{name}' ({strategy}, {len(bundles)} bundles) "
                f"not ready after {timeout_s:g}s: {reason}"
            )
        yield group
    finally:
        remove_placement_group(group)


def in_bundle(group: PlacementGroup, index: int, capture_child_tasks: bool = True) -> dict[str, Any]:
    """`.options(**in_bundle(pg, i))` schedules a task or actor inside bundle `i` (and, by default,
    the tasks it starts too)."""
    return {
        "scheduling_strategy": PlacementGroupSchedulingStrategy(
            group, placement_group_bundle_index=index, placement_group_capture_child_tasks=capture_child_tasks
        )
    }


def fit_to_cluster(resources: Mapping[str, float], cluster: Mapping[str, float]) -> dict[str, float]:
    """An experiment's resources for this cluster: a GPU where the cluster has any, the CPUs alone on a
    cluster without GPUs (the same code runs on CPU), so GPU experiments run everywhere."""
    if resources.get("gpu") and not cluster.get("GPU"):
        log.warning(
            "the cluster has no GPU: running on CPU, %s CPU(s) per run / trial", resources.get("cpu", 1)
        )
        return {key: value for key, value in resources.items() if key != "gpu"}
    return dict(resources)


def cluster_resources() -> dict[str, float]:
    """Total resources of the connected cluster (CPU, GPU, memory, ...)."""
    return dict(ray.cluster_resources())


def run_bundle(resources: Mapping[str, float]) -> dict[str, float]:
    """An experiment's registered resources ({"cpu": 1, "gpu": 1}) as a placement bundle."""
    return {key.upper(): float(value) for key, value in resources.items() if value}


def run_placed(
    fn: Callable[..., R],
    *args: Any,
    resources: Mapping[str, float],
    name: str,
    timeout_s: float = 600,
    folder: str | Path | None = None,
    **kwargs: Any,
) -> R:
    """Run `fn(*args, **kwargs)` as a Ray task inside a bundle reserved for `resources`, and return
    its result. This is how a run whose loop needs a GPU gets onto a GPU node when the driver has
    none. Tasks the loop fans out are not captured by the bundle: they ask the cluster for their
    own resources (a captured 1-GPU item inside a 1-GPU bundle would wait for ever). `folder`: the
    loop's run folder, where a cancel leaves its reason (`await_loop`)."""
    bundle = run_bundle(resources)
    with reserved([bundle], "PACK", timeout_s=timeout_s, name=name) as group:
        task = ray.remote(fn).options(
            name=name,
            num_cpus=bundle.get("CPU", 0),
            num_gpus=bundle.get("GPU", 0),
            max_retries=0,
            **in_bundle(group, 0, capture_child_tasks=False),
        )
        result: R = await_loop(task.remote(*args, **kwargs), folder)  # fn's own result
        return result


LOOP_RETRIES = 3
_in_flight: dict[ObjectRef[Any], str | Path | None] = {}  # loop task -> its run folder


def run_as_task(
    fn: Callable[..., R],
    *args: Any,
    num_cpus: float,
    name: str,
    folder: str | Path | None = None,
    **kwargs: Any,
) -> R:
    """Run `fn(*args, **kwargs)` as a plain Ray task holding `num_cpus` CPUs, on whichever node has
    them: how an experiment's loop leaves the driver on a cluster. The tasks it fans out ask for their
    own CPUs (Ray lends a task blocked on them its CPUs, so nested fan-outs cannot deadlock). A task
    lost with its node is run again (`max_retries`); an error inside `fn` is not retried."""
    task = ray.remote(fn).options(name=name, num_cpus=num_cpus, max_retries=LOOP_RETRIES)
    result: R = await_loop(task.remote(*args, **kwargs), folder)
    return result


def await_loop(ref: ObjectRef[Any], folder: str | Path | None = None) -> Any:
    """The loop task's result. Ctrl-C (or SIGTERM) here cancels the task, so that the loop records
    where it stopped, waits up to 30 s for that record, and re-raises."""
    _in_flight[ref] = folder
    try:
        return ray.get(ref)
    except KeyboardInterrupt as exc:
        cancel_loops(stop_reason(exc))
        raise
    finally:
        _in_flight.pop(ref, None)


def stop_reason(exc: BaseException) -> str | None:
    """What a loop cancelled because of `exc` records: "Terminated: SIGTERM" for a SIGTERM (status
    "stopped"), nothing for Ctrl-C (status "interrupted")."""
    return "Terminated: SIGTERM" if isinstance(exc, Terminated) or sigterm_received() else None


def cancel_loops(reason: str | None = None, wait_s: float = 30) -> None:
    """Cancel every loop task this process is waiting on (another thread's too), leaving `reason`
    in their run folders first, and give them `wait_s` to write their records."""
    refs = list(_in_flight)
    for ref in refs:
        folder = _in_flight.get(ref)
        if reason and folder is not None:
            write_stop_reason(folder, reason)
        ray.cancel(ref)
    if refs:
        ray.wait(refs, num_returns=len(refs), timeout=wait_s)
