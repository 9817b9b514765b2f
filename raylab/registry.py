"""The experiment registry: every method declares its experiments in a torch-free module of its own,
`raylab/methods/<method>/experiments.py` (`PAPER`, `EXPERIMENTS`), found here by discovery.

`raylab list` imports those modules only; a method's code (and torch) is imported when it runs.
Adding an experiment touches its method's folder and its config file only.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib
import os
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raylab import RaylabError

if TYPE_CHECKING:
    from raylab.context import RunContext
    from raylab.records import ResultRecord


@dataclasses.dataclass(frozen=True)
class ExperimentSpec:
    """One runnable experiment `<method>/<experiment>`; its config lives in configs/<name>.yaml."""

    name: str
    summary: str
    config_cls: str  # "module:Class", imported on demand
    entry: str  # "module:function", run(cfg, ctx) -> ResultRecord
    # What one run (the driver loop), one Tune trial and one fan-out item each need, e.g.
    # {"cpu": 1, "gpu": 1}: Tune reserves it per trial, the Ray mapper per item, the runner caps the
    # loop's BLAS/torch threads at its CPUs.
    resources: dict[str, float] = dataclasses.field(default_factory=lambda: {"cpu": 1})
    reproduce: bool = True  # part of the method's reproduction set (`raylab reproduce`)
    mapper: dict[str, Any] = dataclasses.field(default_factory=dict)  # RayMapper options
    # Claims the full-size run does not meet (measured; see the method README): recorded in result.json
    # like every other claim and shown as "open" in the report. The conformance test requires them to
    # fail, so a claim that starts to pass must leave the list. Remove an id once the claim holds.
    open_claims: tuple[str, ...] = ()
    # Claims whose smoke-size outcome says nothing about the full-size one (e.g. the smoke run trains a
    # different, smaller model): the conformance test does not judge them at smoke size.
    size_dependent: tuple[str, ...] = ()
    # The loop hands its work out (Ray Train workers through `ctx.data_parallel`, or items each in a
    # bundle of their own through `ctx.map`): `resources` are per worker / item, and the loop itself
    # runs where it is launched. Placed in a GPU bundle of its own, it would hold a GPU its workers or
    # items then wait for (on a one-GPU cluster, for ever).
    dispatches: bool = False
    # The data is the user's own (licence-gated, or built on a cluster), so the repository cannot carry
    # it: the one command that supplies it. Without it the run ends in DataMissing, which `reproduce`
    # and REPORT.md list apart as "needs your data", not as a failure.
    user_data: str = ""

    @property
    def threads(self) -> int:
        """BLAS/torch threads of the run's loop: its CPUs (at least one)."""
        return max(1, int(self.resources.get("cpu", 1)))

    @property
    def mapper_options(self) -> dict[str, Any]:
        """RayMapper options: the per-item resources, then the experiment's own mapper settings."""
        return {
            "num_cpus": self.resources.get("cpu", 1),
            "num_gpus": self.resources.get("gpu", 0),
            **self.mapper,
        }

    @property
    def method(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def paper(self) -> str:
        return _discover()[0][self.method]

    @property
    def config_path(self) -> Path:
        return configs_dir() / f"{self.name}.yaml"

    def load_config_cls(self) -> type[Any]:
        cls: type[Any] = load_object(self.config_cls)
        return cls

    def load_entry(self) -> Callable[[Any, RunContext], ResultRecord]:
        entry: Callable[[Any, RunContext], ResultRecord] = load_object(self.entry)
        return entry


@functools.cache
def _discover() -> tuple[dict[str, str], dict[str, ExperimentSpec]]:
    """Every method package's `experiments` module, in name order: its paper and its specs. Run on
    first use (not at import: a method's `experiments` module imports this one)."""
    import raylab.methods

    papers: dict[str, str] = {}
    specs: dict[str, ExperimentSpec] = {}
    for method in sorted(m.name for m in pkgutil.iter_modules(raylab.methods.__path__) if m.ispkg):
        module = importlib.import_module(f"raylab.methods.{method}.experiments")
        papers[method] = module.PAPER
        for spec in module.EXPERIMENTS:
            if spec.method != method or spec.name in specs:
                raise RaylabError(f"raylab.methods.{method}.experiments: misplaced or repeated {spec.name}")
            specs[spec.name] = spec
    return papers, specs


def __getattr__(name: str) -> Any:
    """`PAPERS` (method -> paper) and `REGISTRY` (name -> spec), discovered on first use."""
    if name in ("PAPERS", "REGISTRY"):
        return _discover()[name == "REGISTRY"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_spec(name: str) -> ExperimentSpec:
    """The spec for `name`; an unknown name is an error that suggests the closest ones."""
    registry = _discover()[1]
    if name in registry:
        return registry[name]
    close = difflib.get_close_matches(name, registry, n=3, cutoff=0.4)
    hint = f" (did you mean {', '.join(close)}?)" if close else " (see `raylab list`)"
    raise RaylabError(f"unknown experiment '{name}'{hint}")


def all_specs() -> list[ExperimentSpec]:
    return list(_discover()[1].values())


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
