"""Instance sets: .npy, TSPLIB folders (scored with the TSPLIB metric), generated; clear errors."""

from pathlib import Path

import numpy as np
import pytest

from raylab import RaylabError
from raylab.methods.tsp_mdf.config import DataConfig
from raylab.methods.tsp_mdf.data import DataMissing, load
from raylab.methods.tsp_mdf.evaluate import ablation_models, sample
from raylab.methods.tsp_mdf.heuristics import insertion_tour
from raylab.methods.tsp_mdf.tsplib import read_tsp, tsplib_length, unit_square
from tests.unit.tsp_mdf import serial_map

TSPLIB = Path(__file__).resolve().parents[3] / "data" / "tsp" / "tsplib"


def test_npy_sets_load_the_first_instances_and_bad_files_are_named(tmp_path):
    coords = np.random.default_rng(0).random((5, 30, 2))
    np.save(tmp_path / "set.npy", coords)
    data = load(DataConfig(path=str(tmp_path / "set.npy"), instances=3), seed=0)
    assert len(data.unit) == 3 and data.references is None
    np.testing.assert_array_equal(data.unit[1], coords[1])  # already in the unit square: unchanged
    np.save(tmp_path / "flat.npy", coords[0])
    with pytest.raises(RaylabError, match=r"flat.npy: expected an array of shape \(instances"):
        load(DataConfig(path=str(tmp_path / "flat.npy")), seed=0)
    coords[0, 0, 0] = np.nan
    np.save(tmp_path / "nan.npy", coords)
    with pytest.raises(RaylabError, match="nan.npy: coordinates contain NaN"):
        load(DataConfig(path=str(tmp_path / "nan.npy")), seed=0)


def test_missing_data_says_where_it_looked_and_what_to_do():
    with pytest.raises(DataMissing, match="RAYLAB_DATA/tsp.*random:<N>"):
        load(DataConfig(path="no-such-file.npy"), seed=0)


def test_generated_instances_depend_only_on_the_seed():
    a, b = (load(DataConfig(path="random:50", instances=2), seed=s) for s in (1, 1))
    np.testing.assert_array_equal(a.unit[0], b.unit[0])
    assert not np.array_equal(a.unit[0], load(DataConfig(path="random:50", instances=2), seed=2).unit[0])


def test_tsplib_folder_normalises_for_models_and_scores_with_the_tsplib_metric():
    data = load(DataConfig(path=str(TSPLIB), names=["eil51", "berlin52"], instances=0), seed=0)
    assert data.names == ["eil51", "berlin52"]
    np.testing.assert_array_equal(data.references, [426, 7542])
    assert data.unit[1].min() == 0.0 and data.unit[1].max() == 1.0
    plain = sample(data, ablation_models(data, 0.0), 1, "farthest", 0, 8, serial_map).plain
    original = read_tsp(TSPLIB / "berlin52.tsp")
    assert plain[1] == tsplib_length(original, insertion_tour(unit_square(original.coords), "farthest"))
    with pytest.raises(DataMissing, match="no nosuch.tsp"):
        load(DataConfig(path=str(TSPLIB), names=["nosuch"]), seed=0)


def test_clustered_instances_are_seeded_gaussian_clusters_in_the_unit_square():
    from raylab.methods.tsp_mdf.data import CLUSTER_STD, CLUSTERS, clustered

    a = load(DataConfig(path="clustered:300", instances=3), seed=1)
    b = load(DataConfig(path="clustered:300", instances=3), seed=1)
    np.testing.assert_array_equal(a.unit[2], b.unit[2])
    assert all(c.shape == (300, 2) and c.min() >= 0 and c.max() <= 1 for c in a.unit)
    # every node lies near one of its instance's 5 centres: within 5 std (chi with 2 dof: P < 4e-6)
    rng = np.random.default_rng(0)
    points = clustered(4, 1000, rng)
    centres = np.random.default_rng(0).random((4, 1, CLUSTERS, 2))[:, 0]
    nearest = np.linalg.norm(points[:, :, None] - centres[:, None], axis=-1).min(-1)
    assert nearest.max() < 5 * CLUSTER_STD


def test_lkh_references_are_computed_when_asked_and_beat_farthest_insertion():
    pytest.importorskip("elkai")
    from raylab.methods.tsp_mdf.heuristics import insertion_tour, tour_length

    data = load(DataConfig(path="clustered:60", instances=2, references="lkh"), seed=0)
    fi = [tour_length(c, insertion_tour(c, "farthest")) for c in data.unit]
    assert np.all(data.references <= np.array(fi) + 1e-9)
