import dataclasses
import subprocess
import sys

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
