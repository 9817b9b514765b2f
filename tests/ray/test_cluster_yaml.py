"""cluster.yaml validated offline with Ray's own prepare_config + validate_config (never `ray up`), and
the image it runs checked against the project's install sequence (.ci/run) and the README."""

import functools
import re
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from raylab.runtime.cluster import ClusterError, validate_cluster_yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "kuberay" / "Dockerfile"
NO_EFFECT = {"-q", "--quiet", "--no-cache-dir"}  # output and cache: no effect on what gets installed


def test_shipped_cluster_yaml_is_valid():
    config = validate_cluster_yaml(ROOT / "cluster.yaml")
    assert config["available_node_types"]["gpu_worker"]["resources"]["GPU"] == 1
    assert config["head_node_type"] == "head"


def broken(tmp_path, mutate):
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    mutate(config)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c.update(max_worker=3), "max_worker"),
        (lambda c: c["available_node_types"]["gpu_worker"]["resources"].update(GPU=0.5), "0.5"),
        (lambda c: c["available_node_types"]["cpu_worker"].pop("node_config"), "node_config"),
        (lambda c: c.update(head_node_type="nope"), "head_node_type"),
        (lambda c: c.pop("provider"), "provider"),
        (lambda c: c["docker"].update(gpus="all"), "gpus"),
        # a node type's docker block takes worker_image / worker_run_options / pull_before_run only
        (lambda c: c["available_node_types"]["gpu_worker"]["docker"].update(run_options=[]), "run_options"),
    ],
)
def test_broken_variants_are_rejected(tmp_path, mutate, message):
    with pytest.raises(ClusterError, match=message) as info:
        validate_cluster_yaml(broken(tmp_path, mutate))
    assert "broken.yaml" in str(info.value)


def worker_docker_run(config: dict, node_type: str) -> tuple[dict, str]:
    """The docker config Ray's autoscaler uses for a worker of `node_type` (its own merge code), and
    the `docker run` command Ray builds from it."""
    from ray.autoscaler._private.autoscaler import StandardAutoscaler
    from ray.autoscaler._private.docker import docker_start_cmds
    from ray.autoscaler.tags import TAG_RAY_USER_NODE_TYPE

    fake = SimpleNamespace(
        config=config,
        available_node_types=config["available_node_types"],
        provider=SimpleNamespace(node_tags=lambda node_id: {TAG_RAY_USER_NODE_TYPE: node_id}),
    )
    fake._get_node_type_specific_fields = functools.partial(
        StandardAutoscaler._get_node_type_specific_fields, fake
    )
    docker = StandardAutoscaler._get_node_specific_docker_config(fake, node_type)
    options = docker.get("run_options", []) + docker.get("worker_run_options", [])  # as DockerCommandRunner
    command = docker_start_cmds(
        "ubuntu",
        docker["image"],
        {},
        docker["container_name"],
        options,
        config["cluster_name"],
        "/home/ray",
        "docker",
    )
    return docker, command


def test_every_node_runs_the_image_with_shared_storage_and_gpu_workers_get_the_gpus():
    config = validate_cluster_yaml(ROOT / "cluster.yaml")
    image = config["docker"]["image"]
    assert image and not image.endswith(":latest")
    assert "-v /shared:/shared" in config["docker"]["run_options"]  # the head uses the global block
    commands = {}
    for node_type in ("cpu_worker", "gpu_worker"):
        docker, commands[node_type] = worker_docker_run(config, node_type)
        assert docker.get("worker_image", image) == image
        assert "-v /shared:/shared" in commands[node_type]
    assert "--gpus all" in commands["gpu_worker"] and "--gpus" not in commands["cpu_worker"]
    amis = {t["node_config"]["ImageId"] for t in config["available_node_types"].values()}
    assert len(amis) == 1 and not amis & {"", "latest_dlami"}, "one current AMI, not Ray's Ubuntu 18.04 DLAMI"
    assert config["setup_commands"] == [], "raylab comes with the image, not from setup_commands"
    (login,) = [c for c in config["initialization_commands"] if "docker login" in c]
    assert f"REGISTRY={image.split('/')[0]};" in login


def pip_installs(text: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every `pip install` of a shell script or Dockerfile, in order, as (options, requirements);
    comments, line continuations and the output/cache flags are ignored, extras are sorted."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    installs = []
    for line in "\n".join(lines).replace("\\\n", " ").splitlines():
        if "pip install" not in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)  # `&&`, `;`, `|` are tokens
        lexer.whitespace_split = True
        commands: list[list[str]] = [[]]
        for token in lexer:
            if set(token) <= set("&;|"):
                commands.append([])
            else:
                commands[-1].append(token)
        for words in commands:
            if not any(words[i : i + 2] == ["pip", "install"] for i in range(len(words))):
                continue
            args = words[words.index("install") + 1 :]
            options, requirements = [], []
            while args:
                word = args.pop(0)
                if word in NO_EFFECT:
                    continue
                if word in ("-e", "--editable"):
                    options.append(f"-e {normalised(args.pop(0))}")
                elif word.startswith("-"):
                    options.append(word)
                else:
                    requirements.append(normalised(word))
            installs.append((tuple(sorted(options)), tuple(requirements)))
    return installs


def normalised(requirement: str) -> str:
    name, _, extras = requirement.partition("[")
    if not extras:
        return name
    return f"{name}[{','.join(sorted(e.strip() for e in extras.rstrip(']').split(',')))}]"


def test_dockerfile_installs_exactly_what_ci_installs():
    ci = pip_installs((ROOT / ".ci" / "run").read_text())
    image = pip_installs(DOCKERFILE.read_text())
    assert ci == image
    requirements = [r for _, reqs in ci for r in reqs]
    assert requirements[:2] == ["pip", "torch==2.13.0"]  # torch pinned, before anything pulls another one
    assert (("-e .[abaw,dev,lkh,par,trackers]",), ()) in ci
    assert {r for opts, reqs in ci if "--no-deps" in opts for r in reqs} == {
        "torchcfm==1.0.7",
        "torchattacks==3.5.1",
    }
    assert re.search(r"^ENV .*RAYLAB_DATA=/opt/raylab/data\b", DOCKERFILE.read_text(), re.M)
    assert re.search(r"^COPY .* \. /opt/raylab$", DOCKERFILE.read_text(), re.M)
    assert re.search(r"^WORKDIR /opt/raylab$", DOCKERFILE.read_text(), re.M)  # `-e .` is the copied tree


@pytest.mark.parametrize(
    "old, new",
    [
        ("torchattacks==3.5.1", "torchattacks==3.5.1 timm==1.0.0"),  # a package the CI lacks
        ("dev,lkh,par,trackers,abaw", "dev,lkh,par,abaw"),  # an extra less
        ("--no-deps torchcfm", "torchcfm"),  # its deps would replace torch
        ("torch==2.13.0 \\", "torch \\"),  # unpinned
    ],
)
def test_the_install_comparison_catches_a_difference(old, new):
    text = DOCKERFILE.read_text()
    assert old in text
    assert pip_installs(text.replace(old, new)) != pip_installs((ROOT / ".ci" / "run").read_text())


def test_the_install_comparison_catches_a_package_only_ci_installs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "torchattacks==3.5.1 " in ci
    more = ci.replace("torchattacks==3.5.1 ", "torchattacks==3.5.1 timm==1.0.0 ", 1)
    assert pip_installs(more) != pip_installs(DOCKERFILE.read_text())


def docker_builds(text: str) -> set[str]:
    return {" ".join(m.split()) for m in re.findall(r"docker build [^\n`]*", text)}


def readme_cluster_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Clusters, jobs and the dashboard")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


def test_readme_cluster_yaml_and_dockerfile_name_the_same_image_build():
    cluster_comments = "\n".join(
        line for line in (ROOT / "cluster.yaml").read_text().splitlines() if line.lstrip().startswith("#")
    )
    (build,) = docker_builds(cluster_comments)
    assert docker_builds(readme_cluster_section()) == {build}
    assert docker_builds(DOCKERFILE.read_text()) == {build}
    assert build.startswith("docker build -f deploy/kuberay/Dockerfile ") and build.endswith(" .")
    tag = build.split(" -t ")[1].split()[0]
    image = yaml.safe_load((ROOT / "cluster.yaml").read_text())["docker"]["image"]
    assert image.endswith("/" + tag), "docker.image is the built tag, pushed to a registry"
    job = yaml.safe_load((ROOT / "deploy" / "kuberay" / "rayjob.yaml").read_text())
    cluster = job["spec"]["rayClusterSpec"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    assert {c["image"] for g in groups for c in g["template"]["spec"]["containers"]} == {image}
