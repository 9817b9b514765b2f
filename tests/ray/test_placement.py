"""Placement groups on the shared cluster, which declares 2 fake GPUs (tasks see CUDA_VISIBLE_DEVICES)."""

import dataclasses
import os
import time

import pytest
import ray

from raylab.runtime.placement import (
    PlacementError,
    fit_to_cluster,
    in_bundle,
    reserved,
    shortage,
    worker_bundles,
)

pytestmark = pytest.mark.ray


@ray.remote(num_gpus=1, num_cpus=1)
class FakeTrainer:
    def devices(self):
        return os.environ.get("CUDA_VISIBLE_DEVICES"), ray.get_gpu_ids()


@pytest.mark.parametrize("strategy", ["PACK", "SPREAD"])
def test_each_worker_gets_its_own_gpu(ray_cluster, strategy):
    with reserved(
        worker_bundles(2, gpus_per_worker=1, cpus_per_worker=1),
        strategy,
        timeout_s=30,
        name=f"train-{strategy}",
    ) as group:
        trainers = [FakeTrainer.options(**in_bundle(group, i)).remote() for i in range(2)]
        devices = ray.get([t.devices.remote() for t in trainers])
        for t in trainers:
            ray.kill(t)
    visible = sorted(d[0] for d in devices)
    assert visible == ["0", "1"]
    assert sorted(d[1][0] for d in devices) == [0, 1]


def test_unsatisfiable_group_names_the_short_resource(ray_cluster):
    with pytest.raises(PlacementError, match=r"needs GPU=3 in total, the cluster has GPU=2"):
        with reserved(worker_bundles(3, cpus_per_worker=0.5), "PACK", timeout_s=2, name="too-many-gpus"):
            pass
    # The failed group is removed: the GPUs are free again.
    with reserved(worker_bundles(2), "PACK", timeout_s=30):
        pass


def test_gpu_experiments_fall_back_to_cpu_on_a_cluster_without_gpus(caplog):
    gpu_run = {"cpu": 2, "gpu": 1}
    assert fit_to_cluster(gpu_run, {"CPU": 16.0, "GPU": 4.0}) == gpu_run
    assert fit_to_cluster(gpu_run, {"CPU": 16.0}) == {"cpu": 2}
    assert "no GPU: running on CPU" in caplog.text
    assert fit_to_cluster({"cpu": 1}, {"CPU": 2.0}) == {"cpu": 1}


def test_shortage_explanations():
    node = {"CPU": 2.0, "GPU": 2.0}
    assert shortage([{"CPU": 1, "GPU": 1}] * 2, "PACK", [node]) == ""
    assert "fits on no single node" in shortage([{"CPU": 4}], "PACK", [{"CPU": 2}, {"CPU": 2}])
    assert "STRICT_SPREAD needs 2 nodes" in shortage([{"CPU": 1}] * 2, "STRICT_SPREAD", [node])
    assert "STRICT_PACK" in shortage([{"CPU": 2}, {"CPU": 2}], "STRICT_PACK", [{"CPU": 2}, {"CPU": 2}])


@dataclasses.dataclass
class Probe:
    seed: int = 0


def gpu_probe(cfg, ctx):
    """An experiment whose loop records the GPUs Ray gave it."""
    from raylab.records import Claim

    gpus = [float(g) for g in ray.get_gpu_ids()]
    return ctx.result(
        {"eval/gpus": float(len(gpus))}, [Claim.check("probe.gpu", "at least one GPU", len(gpus), ">=", 1)]
    )


def test_a_gpu_experiment_runs_in_a_reserved_bundle(ray_cluster, tmp_path):
    from raylab.records import read_record
    from raylab.registry import ExperimentSpec
    from raylab.runner import run_experiment
    from raylab.runtime.placement import run_placed

    spec = ExperimentSpec(
        name="probe/gpu",
        summary="",
        config_cls="",
        entry=f"{__name__}:gpu_probe",
        resources={"cpu": 1, "gpu": 1},
    )
    record = run_placed(run_experiment, spec, Probe(), tmp_path, resources=spec.resources, name="probe-run")
    assert record.status == "ok", record.error
    assert read_record(tmp_path).metrics["eval/gpus"] == 1.0
    total = ray.cluster_resources()["GPU"]
    deadline = time.time() + 20  # every bundle is released afterwards (asynchronously)
    while ray.available_resources().get("GPU") != total and time.time() < deadline:
        time.sleep(0.2)
    assert ray.available_resources().get("GPU") == total
