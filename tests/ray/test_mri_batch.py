"""mri_gs/batch on Ray: one placement-group bundle per volume (fake GPUs of the shared cluster), the
outputs equal the serial run's, next-idle dispatch keeps items in order, and a bundle the cluster
cannot hold fails fast naming the resource."""

import dataclasses

import nibabel as nib
import numpy as np
import pytest
import ray

from raylab.context import SerialMapper
from raylab.methods.mri_gs import batch
from raylab.registry import get_spec
from raylab.runner import load_run_config, run_experiment
from raylab.runtime.parallel import RayMapper
from raylab.runtime.placement import PlacementError

pytestmark = pytest.mark.ray


def gpu_of_item(item):
    return item, [float(g) for g in ray.get_gpu_ids()], ray.get_runtime_context().get_placement_group_id()


def test_each_item_runs_in_its_own_gpu_bundle(ray_cluster):
    mapper = RayMapper(num_cpus=0.5, num_gpus=1, placement="SPREAD", progress=False)
    results = mapper.map(gpu_of_item, list(range(5)), name="probe")
    assert [r[0] for r in results] == list(range(5))  # ordered, although two bundles took turns
    assert all(len(r[1]) == 1 for r in results)  # one GPU each
    assert all(r[2] is not None for r in results)  # inside the placement group


def test_a_bundle_the_cluster_cannot_hold_names_the_resource(ray_cluster):
    mapper = RayMapper(num_cpus=64, placement="PACK", placement_timeout_s=2, progress=False)
    with pytest.raises(PlacementError, match="needs CPU=64 in total, the cluster has CPU=2"):
        mapper.map(gpu_of_item, [0], name="too-big")


def test_batch_outputs_equal_the_serial_run(ray_cluster, tmp_path):
    spec = get_spec("mri_gs/batch")
    cfg = load_run_config(spec, smoke=True)
    cfg = dataclasses.replace(cfg, input="anatomical,anat_moved", crop_size=[16, 16, 12])
    serial = run_experiment(spec, cfg, tmp_path / "serial", mapper=SerialMapper(progress=False))
    placed = run_experiment(
        spec, cfg, tmp_path / "ray", mapper=RayMapper(**spec.mapper_options, progress=False)
    )
    assert serial.status == placed.status == "ok", (serial.error, placed.error)
    untimed = {k: v for k, v in serial.metrics.items() if "time" not in k and "seconds" not in k}
    assert untimed == {k: placed.metrics[k] for k in untimed}
    for name in ("anatomical", "anat_moved"):
        a = np.asarray(nib.load(str(tmp_path / "serial" / f"{name}_ours.nii.gz")).dataobj)
        b = np.asarray(nib.load(str(tmp_path / "ray" / f"{name}_ours.nii.gz")).dataobj)
        assert np.array_equal(a, b)
    assert batch.sources(str(tmp_path / "ray")) == sorted(
        str(p) for p in (tmp_path / "ray").iterdir() if p.name.endswith((".nii", ".nii.gz"))
    )
