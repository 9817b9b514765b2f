"""TSPLIB reading, scoring and writing; malformed files give errors naming the file and the problem."""

import math
from pathlib import Path

import numpy as np
import pytest

from raylab.methods.tsp_mdf.tsplib import (
    Instance,
    TSPLIBError,
    read_optimal_lengths,
    read_tour,
    read_tsp,
    tsplib_length,
    unit_square,
    write_tour,
)

TSPLIB = Path(__file__).resolve().parents[3] / "data" / "tsp" / "tsplib"


def test_published_optimal_tours_score_their_optimal_lengths():
    optimal = read_optimal_lengths(TSPLIB / "optimal_lengths.txt")
    tours = sorted(TSPLIB.glob("*.opt.tour"))
    assert len(tours) >= 10
    for path in tours:
        name = path.name.split(".")[0]
        instance = read_tsp(TSPLIB / f"{name}.tsp")
        assert tsplib_length(instance, read_tour(path, len(instance.coords))) == optimal[name], name


def write(tmp_path, text, name="bad.tsp"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("NAME: x\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\nEOF\n", "missing DIMENSION"),
        (
            "DIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n",
            "DIMENSION is 3 but",
        ),
        (
            "DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 abc\nEOF\n",
            "line 5: non-numeric",
        ),
        (
            "DIMENSION: 2\nEDGE_WEIGHT_TYPE: EXPLICIT\nNODE_COORD_SECTION\n1 0 0\n2 1 1\n",
            "EXPLICIT is not supported",
        ),
        ("DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\n", "no NODE_COORD_SECTION"),
    ],
)
def test_malformed_files_are_named(tmp_path, text, message):
    with pytest.raises(TSPLIBError, match=message) as info:
        read_tsp(write(tmp_path, text))
    assert "bad.tsp" in str(info.value)


def test_tour_round_trip_and_bad_tour(tmp_path):
    tour = np.array([2, 0, 3, 1])
    path = write_tour(tmp_path / "t.tour", "t", tour, length=12.0)
    assert read_tour(path).tolist() == tour.tolist()
    bad = write(tmp_path, "DIMENSION : 3\nTOUR_SECTION\n1\n1\n3\n-1\n", "bad.tour")
    with pytest.raises(TSPLIBError, match="not a permutation"):
        read_tour(bad)


def test_metrics_follow_the_tsplib_definitions():
    square = np.array([[0.0, 0.0], [3.0, 4.0]])  # distance 5 each way
    assert tsplib_length(Instance("e", square + [[0, 0], [0.2, 0]], "EUC_2D"), np.array([0, 1])) == 10
    assert tsplib_length(Instance("c", square + [[0, 0], [0.2, 0]], "CEIL_2D"), np.array([0, 1])) == 12
    # ATT: r = sqrt(25 / 10) = 1.58.., nint 2 >= r, so 2 per edge
    assert tsplib_length(Instance("a", square, "ATT"), np.array([0, 1])) == 4
    # GEO: one degree of latitude on the TSPLIB sphere (R = 6378.388 km) is floor(111.32..) + 1 = 112
    geo = Instance("g", np.array([[0.0, 0.0], [1.0, 0.0]]), "GEO")
    assert tsplib_length(geo, np.array([0, 1])) == 2 * (math.floor(6378.388 * math.pi / 180) + 1)


def test_unit_square_keeps_the_shape():
    coords = np.array([[10.0, 5.0], [30.0, 5.0], [10.0, 15.0]])
    unit = unit_square(coords)
    assert unit.min() == 0.0 and unit.max() == 1.0
    np.testing.assert_allclose(unit[2], [0.0, 0.5])
