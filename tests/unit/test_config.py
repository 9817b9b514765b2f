import dataclasses
from typing import Literal

import pytest

from raylab.config import ConfigError, apply_overrides, apply_values, config_hash, resolve_config


@dataclasses.dataclass
class Inner:
    lr: float = 0.1
    name: str = "x"


@dataclasses.dataclass
class Outer:
    seed: int = 0
    steps: int = 10
    mode: Literal["a", "b"] = "a"
    sizes: list[int] = dataclasses.field(default_factory=lambda: [1, 2])
    inner: Inner = dataclasses.field(default_factory=Inner)

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError("steps must be >= 1")


def write(tmp_path, text):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_yaml_values_smoke_block_overrides_and_seed(tmp_path):
    path = write(tmp_path, "steps: 100\ninner: {lr: 1.0e-3}\nsmoke:\n  steps: 5\n")
    cfg = resolve_config(Outer, path, ["inner.name=run1", "sizes=[3, 4]"], smoke=True, seed=7)
    assert cfg == Outer(seed=7, steps=5, sizes=[3, 4], inner=Inner(lr=1e-3, name="run1"))
    assert resolve_config(Outer, path).steps == 100


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, "steps: 3\ninner: {lrr: 0.1}\n")
    with pytest.raises(ConfigError, match=r"cfg\.yaml.*unknown key 'lrr'"):
        resolve_config(Outer, path)


def test_unknown_key_in_smoke_block_is_rejected_even_without_smoke(tmp_path):
    path = write(tmp_path, "smoke: {stepz: 1}\n")
    with pytest.raises(ConfigError, match="unknown key 'stepz'"):
        resolve_config(Outer, path)


@pytest.mark.parametrize(
    "override, message",
    [
        ("inner.lr=abc", "expected float"),
        ("steps=2.5", "expected int"),
        ("steps=true", "expected int"),
        ("mode=c", "not one of"),
        ("inner.nope=1", "unknown key 'inner.nope'"),
        ("steps.x=1", "not a nested config section"),
        ("steps", "expected KEY=VALUE"),
    ],
)
def test_bad_overrides_are_rejected_with_the_override_named(override, message):
    with pytest.raises(ConfigError, match=message) as info:
        apply_overrides({}, [override], Outer)
    assert override.split("=")[0] in str(info.value)


def test_overrides_coerce_only_losslessly():
    data = apply_overrides({}, ["inner.lr=1e-3", "inner.name=001", "steps=4"], Outer)
    assert data == {"inner": {"lr": 1e-3, "name": "001"}, "steps": 4}
    assert apply_values({}, {"inner.lr": 2}, Outer, "sweep") == {"inner": {"lr": 2.0}}


def test_post_init_validation_becomes_config_error(tmp_path):
    with pytest.raises(ConfigError, match="steps must be >= 1"):
        resolve_config(Outer, write(tmp_path, "steps: 0\n"))


def test_malformed_yaml_and_missing_file_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"cfg\.yaml: not valid YAML \(line 2\)"):
        resolve_config(Outer, write(tmp_path, "steps: 1\n  bad: [\n"))
    with pytest.raises(ConfigError, match="config file not found"):
        resolve_config(Outer, tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        resolve_config(Outer, write(tmp_path, "- 1\n- 2\n"))


def test_config_hash_is_stable_and_sensitive():
    assert config_hash(Outer()) == config_hash(Outer())
    assert config_hash(Outer()) != config_hash(Outer(inner=Inner(lr=0.2)))
    assert config_hash(Outer()).startswith("sha256:")
