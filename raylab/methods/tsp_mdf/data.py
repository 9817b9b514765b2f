"""Test instances for TSP-MDF: Fu et al. `.npy` sets, TSPLIB `.tsp` files or folders, or generated.

Models and heuristics always see coordinates in the unit square; tours are scored on the original
coordinates with the instance's own metric (Euclidean for `.npy`, the TSPLIB metric for `.tsp`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from raylab import DataMissing, RaylabError
from raylab.methods.tsp_mdf.config import DataConfig
from raylab.methods.tsp_mdf.heuristics import tour_length
from raylab.methods.tsp_mdf.tsplib import (
    Instance,
    instance_length,
    read_optimal_lengths,
    read_tsp,
    tsplib_length,
    unit_square,
)
from raylab.seeding import derive_seed


@dataclasses.dataclass
class InstanceSet:
    names: list[str]
    unit: list[np.ndarray]  # (n, 2) coordinates in [0, 1]^2, what models see
    originals: list[Instance]  # what tours are scored on
    references: np.ndarray | None  # per-instance reference lengths (original metric)

    def length(self, index: int, tour: np.ndarray) -> float:
        """Tour length on the original instance (TSPLIB metric for TSPLIB files)."""
        return instance_length(self.originals[index], tour)


def resolve(path: str, roots: Sequence[Path] = ()) -> Path:
    """`path` as given, else under `<root>/tsp` for each data root (the RunContext's `data_roots`:
    $RAYLAB_DATA, then the repository's data folder)."""
    candidates = [Path(path)]
    if not Path(path).is_absolute():
        candidates += [Path(root) / "tsp" / path for root in roots]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise DataMissing(
        f"TSP data '{path}' not found (looked in: {', '.join(str(c) for c in candidates)}); "
        f"put it in $RAYLAB_DATA/tsp, pass --set data.path=<file or folder>, or "
        f"use --set data.path=random:<N> for generated instances"
    )


def _euclidean(name: str, coords: np.ndarray) -> Instance:
    return Instance(name, coords, "EUCLIDEAN")


def load_npy(path: Path, count: int) -> tuple[list[str], list[Instance]]:
    try:
        array = np.load(path)
    except (OSError, ValueError) as exc:
        raise RaylabError(f"{path}: not a readable .npy file ({exc})") from None
    if array.ndim != 3 or array.shape[2] != 2 or array.shape[1] < 3:
        raise RaylabError(f"{path}: expected an array of shape (instances, N >= 3, 2), got {array.shape}")
    if not np.isfinite(array).all():
        raise RaylabError(f"{path}: coordinates contain NaN or infinity")
    array = array[:count] if count else array
    return [f"{path.stem}.{i}" for i in range(len(array))], [
        _euclidean(f"{i}", c) for i, c in enumerate(array)
    ]


def load_tsplib(
    path: Path, names: list[str], count: int
) -> tuple[list[str], list[Instance], np.ndarray | None]:
    files = [path] if path.is_file() else sorted(path.glob("*.tsp"))
    if names:
        by_name = {f.stem: f for f in files}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise DataMissing(f"{path}: no {', '.join(m + '.tsp' for m in missing)}")
        files = [by_name[n] for n in names]
    files = files[:count] if count else files
    if not files:
        raise DataMissing(f"{path}: no .tsp files")
    instances = [read_tsp(f) for f in files]
    optima_file = files[0].parent / "optimal_lengths.txt"
    optima = read_optimal_lengths(optima_file) if optima_file.exists() else {}
    stems = [f.stem for f in files]
    references = np.array([optima[s] for s in stems]) if all(s in optima for s in stems) else None
    return stems, instances, references


CLUSTERS = 5  # clustered:<N> instances: Gaussian clusters per instance (our choice)
CLUSTER_STD = 0.05  # ... their standard deviation, unit square


def clustered(count: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """(count, n, 2) instances of CLUSTERS Gaussian clusters (centres uniform in the unit square,
    std CLUSTER_STD, each node in a uniformly chosen cluster), clipped to the unit square."""
    centres = rng.random((count, 1, CLUSTERS, 2))
    member = rng.integers(0, CLUSTERS, (count, n))
    points = np.take_along_axis(centres[:, 0], member[..., None], axis=1) + CLUSTER_STD * rng.standard_normal(
        (count, n, 2)
    )
    return np.clip(points, 0.0, 1.0)


def generated(path: str, count: int, seed: int) -> tuple[list[str], list[Instance]]:
    """`random:<N>` (uniform) or `clustered:<N>` instances, drawn from the run seed."""
    kind, _, size = path.partition(":")
    n = int(size)
    rng = np.random.default_rng(
        derive_seed(seed, "test-instances", n) if kind == "random" else derive_seed(seed, kind, n)
    )
    array = rng.random((count, n, 2)) if kind == "random" else clustered(count, n, rng)
    names = [f"{kind}{n}.{i}" for i in range(len(array))]
    return names, [_euclidean(nm, c) for nm, c in zip(names, array)]


def lkh_references(instances: list[Instance]) -> np.ndarray:
    """LKH-3 (elkai, one run) tour lengths on the original metric, computed here (~2 s per 500 nodes)."""
    import importlib.util

    if importlib.util.find_spec("elkai") is None:
        raise DataMissing("data.references=lkh needs LKH-3 through elkai: pip install 'raylab[lkh]'")
    from raylab.methods.tsp_mdf.lkh import lkh_tour

    lengths = []
    for instance in instances:
        tour = lkh_tour(_model_view(instance.coords))
        euclidean = instance.metric == "EUCLIDEAN"
        lengths.append(
            tour_length(instance.coords, tour) if euclidean else float(tsplib_length(instance, tour))
        )
    return np.array(lengths)


def load(cfg: DataConfig, seed: int, roots: Sequence[Path] = ()) -> InstanceSet:
    """The configured instances, normalised copies for the models, and their references; relative
    paths are looked up under the data `roots` (see `resolve`)."""
    if cfg.path.split(":", 1)[0] in ("random", "clustered"):
        names, instances = generated(cfg.path, cfg.instances or 16, seed)
        references = None
    else:
        path = resolve(cfg.path, roots)
        if path.suffix == ".npy":
            names, instances = load_npy(path, cfg.instances)
            references = None
        else:
            names, instances, references = load_tsplib(path, cfg.names, cfg.instances)
    if cfg.references == "lkh":
        references = lkh_references(instances)
    elif cfg.references:
        references = np.load(resolve(cfg.references, roots))[: len(instances)]
        if len(references) != len(instances):
            raise RaylabError(
                f"{cfg.references}: {len(references)} references for {len(instances)} instances"
            )
    return InstanceSet(names, [_model_view(i.coords) for i in instances], instances, references)


def _model_view(coords: np.ndarray) -> np.ndarray:
    inside = coords.min() >= 0.0 and coords.max() <= 1.0
    return coords if inside else unit_square(coords)
