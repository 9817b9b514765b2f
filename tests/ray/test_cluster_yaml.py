"""cluster.yaml validated offline with Ray's own prepare_config + validate_config (never `ray up`)."""

from pathlib import Path

import pytest
import yaml

from raylab.runtime.cluster import ClusterError, validate_cluster_yaml

ROOT = Path(__file__).resolve().parents[2]


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
    ],
)
def test_broken_variants_are_rejected(tmp_path, mutate, message):
    with pytest.raises(ClusterError, match=message) as info:
        validate_cluster_yaml(broken(tmp_path, mutate))
    assert "broken.yaml" in str(info.value)
