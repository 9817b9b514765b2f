"""TSPLIB I/O: read `.tsp` (EUC_2D, CEIL_2D, ATT, GEO) and `.opt.tour`, score with the TSPLIB metric,
write tours. Models and heuristics run on coordinates normalised to the unit square
(`unit_square`); tours are scored on the original coordinates with the instance's own metric."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from raylab import RaylabError
from raylab.methods.tsp_mdf.heuristics import tour_length

METRICS = ("EUC_2D", "CEIL_2D", "ATT", "GEO")


class TSPLIBError(RaylabError):
    """A TSPLIB file that cannot be used; the message names the file and the problem."""


@dataclasses.dataclass
class Instance:
    name: str
    coords: np.ndarray  # (n, 2) as written in the file
    metric: str


def _header_and_body(path: Path, section: str) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """Header `KEY : value` pairs (either spelling) and the numbered lines after `section`."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise TSPLIBError(f"{path}: cannot read ({exc.strerror or exc})") from None
    header: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text.upper().startswith(section):
            body = [(n, text.strip()) for n, text in enumerate(lines[number:], start=number + 1)]
            return header, [(n, text) for n, text in body if text and text.upper() not in ("EOF", "-1")]
        key, sep, value = text.partition(":")
        if sep:
            header[key.strip().upper()] = value.strip()
    raise TSPLIBError(f"{path}: no {section} found")


def _dimension(path: Path, header: dict[str, str]) -> int:
    if "DIMENSION" not in header:
        raise TSPLIBError(f"{path}: missing DIMENSION")
    try:
        return int(header["DIMENSION"])
    except ValueError:
        raise TSPLIBError(f"{path}: DIMENSION is not an integer: {header['DIMENSION']!r}") from None


def read_tsp(path: str | Path) -> Instance:
    path = Path(path)
    header, body = _header_and_body(path, "NODE_COORD_SECTION")
    metric = header.get("EDGE_WEIGHT_TYPE", "")
    if metric not in METRICS:
        raise TSPLIBError(
            f"{path}: EDGE_WEIGHT_TYPE {metric or '(missing)'} is not supported "
            f"(supported: {', '.join(METRICS)})"
        )
    n = _dimension(path, header)
    coords = []
    for number, line in body:
        parts = line.split()
        if len(parts) < 3:
            raise TSPLIBError(f"{path}: line {number}: expected 'index x y', got {line!r}")
        try:
            coords.append((float(parts[1]), float(parts[2])))
        except ValueError:
            raise TSPLIBError(f"{path}: line {number}: non-numeric coordinate in {line!r}") from None
    if len(coords) != n:
        raise TSPLIBError(f"{path}: DIMENSION is {n} but the file has {len(coords)} nodes")
    return Instance(header.get("NAME", path.stem), np.array(coords), metric)


def read_tour(path: str | Path, n: int | None = None) -> np.ndarray:
    """A `.opt.tour` as a 0-based permutation (checked against `n` when given)."""
    path = Path(path)
    header, body = _header_and_body(path, "TOUR_SECTION")
    try:
        tour = np.array([int(tok) - 1 for _, line in body for tok in line.split() if tok != "-1"])
    except ValueError:
        raise TSPLIBError(f"{path}: non-integer node in TOUR_SECTION") from None
    size = n if n is not None else _dimension(path, header)
    if sorted(tour.tolist()) != list(range(size)):
        raise TSPLIBError(f"{path}: TOUR_SECTION is not a permutation of 1..{size}")
    return tour


def write_tour(path: str | Path, name: str, tour: np.ndarray, length: float | None = None) -> Path:
    path = Path(path)
    comment = [f"COMMENT : Length = {length:g}"] if length is not None else []
    lines = [
        f"NAME : {name}",
        "TYPE : TOUR",
        *comment,
        f"DIMENSION : {len(tour)}",
        "TOUR_SECTION",
        *(str(int(node) + 1) for node in tour),
        "-1",
        "EOF",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _geo_radians(values: np.ndarray) -> np.ndarray:
    degrees = np.trunc(values)
    return math.pi * (degrees + 5.0 * (values - degrees) / 3.0) / 180.0


def edge_lengths(instance: Instance, tour: np.ndarray) -> np.ndarray:
    """TSPLIB integer edge weights along the closed tour (TSPLIB95 spec, section 2)."""
    a, b = instance.coords[tour], instance.coords[np.roll(tour, -1)]
    if instance.metric == "GEO":
        lat, lon = _geo_radians(a[:, 0]), _geo_radians(a[:, 1])
        lat2, lon2 = _geo_radians(b[:, 0]), _geo_radians(b[:, 1])
        q1, q2, q3 = np.cos(lon - lon2), np.cos(lat - lat2), np.cos(lat + lat2)
        return np.floor(6378.388 * np.arccos(0.5 * ((1 + q1) * q2 - (1 - q1) * q3)) + 1.0)
    d = np.sqrt(((a - b) ** 2).sum(axis=1))
    if instance.metric == "EUC_2D":
        return np.floor(d + 0.5)
    if instance.metric == "CEIL_2D":
        return np.ceil(d)
    r = np.sqrt(((a - b) ** 2).sum(axis=1) / 10.0)  # ATT pseudo-Euclidean
    t = np.floor(r + 0.5)
    return np.where(t < r, t + 1, t)


def tsplib_length(instance: Instance, tour: np.ndarray) -> int:
    return int(edge_lengths(instance, np.asarray(tour)).sum())


def instance_length(instance: Instance, tour: np.ndarray) -> float:
    """The tour's length in the instance's own metric: Euclidean, or TSPLIB's (EUC_2D rounds each edge)."""
    if instance.metric == "EUCLIDEAN":
        return tour_length(instance.coords, tour)
    return float(tsplib_length(instance, tour))


def unit_square(coords: np.ndarray) -> np.ndarray:
    """Shift and scale (one factor for both axes, so shapes are kept) into [0, 1]^2."""
    low = coords.min(axis=0)
    span = float((coords.max(axis=0) - low).max()) or 1.0
    return (coords - low) / span


def read_optimal_lengths(path: str | Path) -> dict[str, float]:
    """`name : length` lines (TSPLIB's bestSolutions.txt format)."""
    path, lengths = Path(path), {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        try:
            lengths[name.strip()] = float(value)
        except ValueError:
            raise TSPLIBError(f"{path}: line {number}: expected 'name : length', got {line!r}") from None
        if not sep:
            raise TSPLIBError(f"{path}: line {number}: expected 'name : length', got {line!r}")
    return lengths
