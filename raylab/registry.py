"""The experiment registry: names, papers, config classes and entry points, imported lazily.

`raylab list` reads this module only; a method's code (and torch) is imported when it runs.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import os
from pathlib import Path
from typing import Any, Callable

from raylab import RaylabError

PAPERS = {
    "specgd": "Spectral Gradient Descent Mitigates Anisotropy-Driven Misalignment: A Case Study in "
              "Phase Retrieval (Braun et al., arXiv 2601.22652)",
}


@dataclasses.dataclass(frozen=True)
class ExperimentSpec:
    """One runnable experiment `<method>/<experiment>`; its config lives in configs/<name>.yaml."""

    name: str
    summary: str
    config_cls: str          # "module:Class", imported on demand
    entry: str               # "module:function", run(cfg, ctx) -> ResultRecord
    resources: dict[str, float] = dataclasses.field(default_factory=lambda: {"cpu": 1})
    reproduce: bool = True   # part of the method's reproduction set (`raylab reproduce`)

    @property
    def method(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def paper(self) -> str:
        return PAPERS[self.method]

    @property
    def config_path(self) -> Path:
        return configs_dir() / f"{self.name}.yaml"

    def load_config_cls(self) -> type:
        return load_object(self.config_cls)

    def load_entry(self) -> Callable:
        return load_object(self.entry)


def _specgd(experiment: str, summary: str, reproduce: bool = True) -> ExperimentSpec:
    return ExperimentSpec(
        name=f"specgd/{experiment}", summary=summary,
        config_cls="raylab.methods.specgd.config:SpecGDConfig",
        entry="raylab.methods.specgd.experiment:run", reproduce=reproduce)


_SPECS = [
    _specgd("misalignment", "GD vs SpecGD vs Muon vs normalised GD over lambda in {1,3,5,20}: "
            "spike amplification, threshold, escape time, noise contraction (checks S3-a..g)"),
    _specgd("finite_sample", "the same comparison on n=4000 samples at lambda=20 (check S3-h)"),
    _specgd("trajectory", "one optimiser at one lambda, for sweeps of lr / lambda", reproduce=False),
]
REGISTRY: dict[str, ExperimentSpec] = {spec.name: spec for spec in _SPECS}


def get_spec(name: str) -> ExperimentSpec:
    """The spec for `name`; an unknown name is an error that suggests the closest ones."""
    if name in REGISTRY:
        return REGISTRY[name]
    close = difflib.get_close_matches(name, REGISTRY, n=3, cutoff=0.4)
    hint = f" (did you mean {', '.join(close)}?)" if close else " (see `raylab list`)"
    raise RaylabError(f"unknown experiment '{name}'{hint}")


def all_specs() -> list[ExperimentSpec]:
    return list(REGISTRY.values())


def load_object(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def configs_dir() -> Path:
    """`$RAYLAB_CONFIGS`, else the `configs/` folder beside the package (source checkouts and
    `ray job submit --working-dir .`), else `./configs`."""
    if os.environ.get("RAYLAB_CONFIGS"):
        return Path(os.environ["RAYLAB_CONFIGS"])
    beside = Path(__file__).resolve().parents[1] / "configs"
    return beside if beside.is_dir() else Path.cwd() / "configs"
