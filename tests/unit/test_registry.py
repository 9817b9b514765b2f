import dataclasses
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from raylab import RaylabError
from raylab.config import load_yaml
from raylab.registry import all_specs, get_spec


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_every_spec_has_a_config_file_a_config_class_and_an_entry(spec):
    assert spec.config_path.is_file()
    cls = spec.load_config_cls()
    assert dataclasses.is_dataclass(cls) and "seed" in {f.name for f in dataclasses.fields(cls)}
    assert "smoke" in load_yaml(spec.config_path), "every experiment needs a smoke variant"
    assert callable(spec.load_entry())
    assert spec.paper


def test_unknown_experiment_suggests_close_names():
    with pytest.raises(RaylabError, match=r"unknown experiment 'specgd/misalign'.*specgd/misalignment"):
        get_spec("specgd/misalign")


def test_list_does_not_import_torch_or_ray():
    code = (
        "import sys; from raylab.cli import main; main(['list']); "
        "print('HEAVY', [m for m in ('torch', 'ray') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout and "specgd/misalignment" in out.stdout


OUTPUT_NAMES = ("dir", "out", "output", "cache", "save", "store", "log")


def _string_fields(cls, prefix=""):
    """(dotted name, type) of every field of a config dataclass, nested dataclasses expanded."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        if dataclasses.is_dataclass(kind):
            yield from _string_fields(kind, f"{prefix}{field.name}.")
        else:
            yield f"{prefix}{field.name}", kind


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_configs_name_no_output_paths(spec):
    """A config is data; where a run writes comes from --out / --cache only, so no
    string field may be named like an output location (inputs such as data.path are fine)."""
    offending = [
        name
        for name, kind in _string_fields(spec.load_config_cls())
        if kind is str and any(part in name.rsplit(".", 1)[-1].split("_") for part in OUTPUT_NAMES)
    ]
    assert offending == [], f"{spec.name}: output-like config fields {offending}"


def test_the_registry_holds_no_methods_facts_each_method_declares_its_own():
    import raylab.registry as registry
    from raylab.registry import PAPERS

    source = Path(registry.__file__).read_text()
    assert [m for m in PAPERS if re.search(rf"[\"'/.]{m}[\"'/:.]", source)] == []  # no name, path or module
    for method in PAPERS:
        assert all(
            s.method == method
            for s in importlib.import_module(f"raylab.methods.{method}.experiments").EXPERIMENTS
        )
    assert sorted(PAPERS) == sorted(
        p.parent.name for p in Path(registry.__file__).parent.glob("methods/*/__init__.py")
    )
