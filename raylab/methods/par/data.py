"""Offline datasets as flat transition arrays: minari datasets from the local store
($MINARI_DATASETS_PATH) or Pendulum data built on the fly. Terminations bootstrap, truncations do not:
`terminals` holds terminations only. States are normalised with the dataset's mean and std.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from raylab import DataMissing
from raylab.methods.par.transitions import FIELDS, DatasetError, Transitions

# D4RL reference returns (d4rl/infos.py; defined for the mujoco-py -v2 envs, close to v5).
D4RL_REFS = {
    "hopper": (-20.272305, 3234.3),
    "halfcheetah": (-280.178953, 12135.0),
    "walker2d": (1.629008, 4592.3),
    "ant": (-325.6, 3879.7),
}


@dataclasses.dataclass
class OfflineDataset:
    name: str
    transitions: Transitions
    env_id: str
    ref_min: float
    ref_max: float
    max_action: float
    behaviour_returns: np.ndarray | None = None  # per-episode returns of the data, when known

    def normalised(self, returns) -> np.ndarray:
        return 100.0 * (np.asarray(returns) - self.ref_min) / (self.ref_max - self.ref_min)


def require_minari(dataset_id: str):
    """The minari module, once `dataset_id` is known to be in the local store (else DataMissing)."""
    try:
        import minari
    except ImportError:
        raise DatasetError("minari is not installed: pip install 'raylab[par]'") from None
    local = minari.list_local_datasets()
    if dataset_id not in local:
        from minari.storage.datasets_root_dir import get_dataset_path

        builder = (
            "build_mujoco_datasets.py" if dataset_id.startswith("mujoco/") else "build_pendulum_datasets.py"
        )
        raise DataMissing(
            f"minari dataset '{dataset_id}' is not in the local store {get_dataset_path()} "
            f"(local: {', '.join(sorted(local)) or 'none'}). Build one with "
            f"`python jobs/{builder}`, or run `minari download {dataset_id}` "
            f"where the internet is reachable and copy it here ($MINARI_DATASETS_PATH)"
        )
    return minari


def load_minari(dataset_id: str) -> OfflineDataset:
    """A dataset from the local minari store; never downloads."""
    dataset = require_minari(dataset_id).load_dataset(dataset_id)
    obs_space, act_space = dataset.observation_space, dataset.action_space
    if len(getattr(obs_space, "shape", ()) or ()) != 1 or len(getattr(act_space, "shape", ()) or ()) != 1:
        raise DatasetError(
            f"{dataset_id}: needs flat Box observation and action spaces, got {obs_space} / {act_space}"
        )
    rows: dict[str, list] = {f: [] for f in FIELDS}
    returns = []
    for episode in dataset.iterate_episodes():
        obs = np.asarray(episode.observations)
        if (
            obs.ndim != 2
            or obs.shape[1:] != obs_space.shape
            or np.shape(episode.actions)[1:] != act_space.shape
        ):
            raise DatasetError(
                f"{dataset_id}: episode {episode.id} does not match the dataset's spaces "
                f"(observations {obs.shape}, actions {np.shape(episode.actions)})"
            )
        for field, value in zip(
            FIELDS, (obs[:-1], episode.actions, episode.rewards, obs[1:], episode.terminations)
        ):
            rows[field].append(np.asarray(value, dtype=np.float32))
        returns.append(float(np.sum(episode.rewards)))
    transitions = Transitions(**{f: np.concatenate(v) for f, v in rows.items()})
    transitions.check(dataset_id)
    ref_min, ref_max = _references(dataset, dataset_id)
    env_id = dataset.spec.env_spec.id if dataset.spec.env_spec is not None else ""
    return OfflineDataset(
        dataset_id, transitions, env_id, ref_min, ref_max, float(np.max(act_space.high)), np.array(returns)
    )


def _references(dataset, dataset_id: str) -> tuple[float, float]:
    """The dataset's own ref scores, else D4RL's constants for the MuJoCo task it names."""
    meta = dataset.storage.metadata
    if meta.get("ref_min_score") is not None and meta.get("ref_max_score") is not None:
        return float(meta["ref_min_score"]), float(meta["ref_max_score"])
    for task, refs in D4RL_REFS.items():
        if task in dataset_id.lower():
            return refs
    raise DatasetError(
        f"{dataset_id}: no ref_min_score / ref_max_score in its metadata and no D4RL "
        f"reference for it, so returns cannot be normalised"
    )


def load_dataset(spec: str, episodes: int, seed: int) -> OfflineDataset:
    """`minari:<id>` or `pendulum:<kind>`."""
    source, _, name = spec.partition(":")
    if source == "minari":
        return load_minari(name)
    if source == "pendulum":
        from raylab.methods.par import pendulum

        transitions, returns = pendulum.build(name, episodes, seed)
        transitions.check(spec)
        return OfflineDataset(
            spec, transitions, pendulum.ENV_ID, pendulum.REF_MIN, pendulum.REF_MAX, 2.0, returns
        )
    raise DatasetError(f"dataset id '{spec}' must be minari:<id> or pendulum:<random|weak|medium-mix|expert>")


def dataset_statistics(dataset_ids: list[str]) -> list[dict]:
    """Per dataset of one builder run (first = random, last = expert): episodes, transitions, mean and
    std of the episode return, normalised with the dataset's (D4RL) references and with local ones
    (0 = the random data's mean return, 100 = the expert data's)."""
    datasets = [load_minari(dataset_id) for dataset_id in dataset_ids]
    low, high = _known_returns(datasets[0]).mean(), _known_returns(datasets[-1]).mean()
    return [
        {
            "dataset": d.name,
            "episodes": len(_known_returns(d)),
            "transitions": len(d.transitions),
            "return_mean": float(_known_returns(d).mean()),
            "return_std": float(_known_returns(d).std()),
            "normalised_d4rl": float(d.normalised(_known_returns(d)).mean()),
            "normalised_local": float(100 * (_known_returns(d).mean() - low) / (high - low)),
        }
        for d in datasets
    ]


def _known_returns(dataset: OfflineDataset) -> np.ndarray:
    assert dataset.behaviour_returns is not None  # load_minari always sets them
    return dataset.behaviour_returns
