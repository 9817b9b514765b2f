"""deploy/kuberay: the RayJob manifest carries what raylab needs and is valid against the RayJob CRD
schema (vendored in tests/unit/data/), its PVC matches it, all parsed offline."""

import json
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest
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


CRD_SCHEMA = Path(__file__).parent / "data" / "rayjob_crd_v1.5.1.yaml"
PVC = ROOT / "deploy" / "kuberay" / "pvc.yaml"


def strict(schema: dict) -> dict:
    """The CRD schema with unknown fields refused wherever it lists an object's fields, as the API
    server's strict field validation (kubectl's default) refuses them."""
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {k: strict(v) for k, v in out["properties"].items()}
        if "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = strict(out["additionalProperties"])
    if "items" in out:
        out["items"] = strict(out["items"])
    if "anyOf" in out:
        out["anyOf"] = [strict(s) for s in out["anyOf"]]
    return out


def crd_errors(job: dict) -> list[str]:
    schema = strict(yaml.safe_load(CRD_SCHEMA.read_text()))
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(job)]


def test_rayjob_is_valid_against_the_rayjob_crd_schema():
    assert "KubeRay >= 1.5.1" in MANIFEST.read_text().splitlines()[0]  # the CRD vendored is v1.5.1's
    assert "v1.5.1" in CRD_SCHEMA.read_text().splitlines()[1]
    assert crd_errors(yaml.safe_load(MANIFEST.read_text())) == []


def worker(job: dict, index: int = 0) -> dict:
    return job["spec"]["rayClusterSpec"]["workerGroupSpecs"][index]


def container(job: dict) -> dict:
    return job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda j: j["spec"].update(entrypointNumCPUs=j["spec"].pop("entrypointNumCpus")),
            "entrypointNumCPUs",
        ),
        (lambda j: j["spec"]["rayClusterSpec"].update(authOption={"mode": "token"}), "authOption"),
        (lambda j: worker(j).update(groupname=worker(j).pop("groupName")), "groupname"),
        (lambda j: container(j).update(volumeMount=container(j).pop("volumeMounts")), "volumeMount"),
        (lambda j: j["spec"].update(entrypointNumCpus="1"), "is not of type 'number'"),
        (
            lambda j: j["spec"]["rayClusterSpec"]["authOptions"].update(mode="tokens"),
            "'tokens' is not one of",
        ),
        (lambda j: worker(j, 1).pop("maxReplicas"), "'maxReplicas' is a required property"),
        (lambda j: worker(j).update(rayStartParams={"num-cpus": 16}), "is not of type 'string'"),
        (lambda j: container(j)["resources"]["limits"].update(cpu="two"), "limits.cpu"),
    ],
)
def test_a_misspelled_or_mistyped_field_fails_the_crd_check(mutate, expected):
    job = yaml.safe_load(MANIFEST.read_text())
    mutate(job)
    errors = crd_errors(job)
    assert any(expected in error for error in errors), errors


def test_the_driver_is_pinned_to_the_head():
    spec = yaml.safe_load(MANIFEST.read_text())["spec"]
    head = spec["rayClusterSpec"]["headGroupSpec"]["rayStartParams"]
    wanted = json.loads(spec["entrypointResources"])
    offered = json.loads(json.loads(head["resources"]))  # rayStartParams quotes the JSON once more
    assert wanted and all(offered.get(name, 0) >= amount for name, amount in wanted.items())
    assert 0 < spec["entrypointNumCpus"] <= float(head["num-cpus"])
    for group in spec["rayClusterSpec"]["workerGroupSpecs"]:
        assert "resources" not in group["rayStartParams"], "only the head offers the driver's resource"


def test_pvc_is_a_readwritemany_claim_named_as_the_rayjob_mounts_it():
    pvc = yaml.safe_load(PVC.read_text())
    assert pvc["apiVersion"] == "v1" and pvc["kind"] == "PersistentVolumeClaim"
    assert set(pvc) == {"apiVersion", "kind", "metadata", "spec"}
    assert "ReadWriteMany" in pvc["spec"]["accessModes"]
    assert pvc["spec"]["resources"]["requests"]["storage"]
    assert isinstance(pvc["spec"].get("storageClassName", ""), str)
    job = yaml.safe_load(MANIFEST.read_text())
    claims = {v["persistentVolumeClaim"]["claimName"] for _, pod in pods(job["spec"]) for v in pod["volumes"]}
    assert claims == {pvc["metadata"]["name"]}


def test_dockerignore_keeps_the_venv_git_and_run_outputs_out_of_the_image():
    patterns = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", "runs", "reproduce_out"} <= patterns
    # what the image needs stays in: the package, its configs and the data RAYLAB_DATA points at
    for needed in ("raylab", "configs", "data", "pyproject.toml"):
        assert not any(p in (needed, f"{needed}/**", f"**/{needed}") for p in patterns), needed
