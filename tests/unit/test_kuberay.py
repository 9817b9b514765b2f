"""deploy/kuberay: the RayJob manifest carries what raylab needs, parsed offline."""

from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "kuberay" / "rayjob.yaml"
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")


def pods(spec: dict) -> list[tuple[str, dict]]:
    cluster = spec["rayClusterSpec"]
    groups = [("head", cluster["headGroupSpec"])] + [(g["groupName"], g) for g in cluster["workerGroupSpecs"]]
    return [(name, group["template"]["spec"]) for name, group in groups]


def test_rayjob_runs_reproduce_on_cpu_and_gpu_groups_with_shared_results():
    job = yaml.safe_load(MANIFEST.read_text())
    assert job["apiVersion"] == "ray.io/v1" and job["kind"] == "RayJob"
    spec = job["spec"]
    command = spec["entrypoint"].split()
    assert command[:2] == ["raylab", "reproduce"]
    out = Path(command[command.index("--out") + 1])
    assert spec["shutdownAfterJobFinishes"] is True
    cluster = spec["rayClusterSpec"]
    assert cluster["rayVersion"] == metadata.version("ray")  # the image's Ray = the one raylab pins
    assert cluster["authOptions"]["mode"] == "token"
    images = set()
    for name, pod in pods(spec):
        (container,) = pod["containers"]
        images.add(container["image"])
        resources = container["resources"]
        assert resources["requests"] == resources["limits"], f"{name}: requests must equal limits"
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        (name_of_results,) = [n for n, path in mounts.items() if out.is_relative_to(path)]
        assert "persistentVolumeClaim" in volumes[name_of_results], f"{name}: results must be shared"
    assert len(images) == 1 and not images.pop().endswith(":latest")
    limits = {g["groupName"]: g["template"]["spec"]["containers"][0]["resources"]["limits"] for g in
              cluster["workerGroupSpecs"]}  # fmt: skip
    gpus = {group: limit.get("nvidia.com/gpu") for group, limit in limits.items()}
    assert gpus == {"cpu": None, "gpu": "1"}
    env = yaml.safe_load(spec["runtimeEnvYAML"])["env_vars"]
    assert not [k for k in env if any(word in k.upper() for word in SECRET_WORDS)], "no secrets in the job"


def test_dockerfile_pins_the_same_ray_and_the_cpu_or_cuda_torch_pin():
    text = (ROOT / "deploy" / "kuberay" / "Dockerfile").read_text()
    assert f"rayproject/ray:{metadata.version('ray')}-py311" in text
    assert "torch==2.13.0" in text and "--no-deps torchcfm" in text
