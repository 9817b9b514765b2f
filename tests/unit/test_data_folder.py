"""The repository's reference data: every file listed with its sha256 in data/SHA256SUMS and intact, the
experiments' default inputs found through the RunContext's default roots, and no module, test or script
that reads the developers' folder outside the repository (a user's clone has none)."""

import hashlib
import re
from pathlib import Path

import numpy as np

from raylab.context import default_data_roots
from raylab.methods.mri_gs import data as mri_data
from raylab.methods.tsp_mdf import data as tsp_data

REPOSITORY = Path(__file__).resolve().parents[2]
DATA = REPOSITORY / "data"
OUTSIDE = re.compile(r"\.\./shared|[\"']shared[\"']\s*/\s*[\"']data[\"']|parents\[\d\]\.parent")


def listed_sums() -> dict[str, str]:
    rows = (line.split(maxsplit=1) for line in (DATA / "SHA256SUMS").read_text().splitlines() if line)
    return {name.strip(): digest for digest, name in rows}


def test_every_data_file_is_listed_with_its_sha256():
    on_disk = {
        str(p.relative_to(DATA))
        for p in DATA.rglob("*")
        if p.is_file() and p.name not in ("SHA256SUMS", "README.md")
    }
    sums = listed_sums()
    assert set(sums) == on_disk
    changed = [n for n, d in sums.items() if hashlib.sha256((DATA / n).read_bytes()).hexdigest() != d]
    assert changed == []


def test_the_checksum_check_fails_on_a_changed_byte(tmp_path):
    name, digest = next(iter(listed_sums().items()))
    damaged = bytearray((DATA / name).read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    assert hashlib.sha256(bytes(damaged)).hexdigest() != digest


def test_the_default_roots_find_every_experiments_reference_data(monkeypatch, tmp_path):
    monkeypatch.delenv("RAYLAB_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # not the working directory: the folder beside the package
    roots = default_data_roots()
    assert roots[0] == DATA
    assert mri_data.resolve("colin27", roots) == DATA / "mri" / "ch2bet.nii.gz"
    for name, shape in [("test-500-coords.npy", (128, 500, 2)), ("test-10000-coords.npy", (16, 10000, 2))]:
        assert np.load(tsp_data.resolve(name, roots), mmap_mode="r").shape == shape
    references = np.load(tsp_data.resolve("test-500-ref-lkh.npy", roots))
    assert abs(references.mean() - 16.55) < 0.01  # the literature's LKH-3 mean for Fu TSP-500
    assert tsp_data.resolve("tsplib", roots).joinpath("optimal_lengths.txt").is_file()


def test_no_module_test_or_script_reads_outside_the_repository():
    sources = [
        p
        for folder in ("raylab", "tests", "benchmarks", "jobs", "deploy", "configs", ".ci")
        for p in (REPOSITORY / folder).rglob("*")
        if p.is_file() and p.suffix in (".py", ".sh", ".yaml", "") and "__pycache__" not in p.parts
    ]
    sources.remove(Path(__file__).resolve())  # its examples below name the folder on purpose
    offenders = [
        str(p.relative_to(REPOSITORY)) for p in sources if OUTSIDE.search(p.read_text(errors="replace"))
    ]
    assert offenders == []


def test_the_outside_pattern_catches_each_way_of_naming_the_folder():
    assert OUTSIDE.search('path = "../shared/data/tsp"')
    assert OUTSIDE.search('Path(__file__).parents[2] / "shared" / "data"')
    assert OUTSIDE.search("Path(__file__).resolve().parents[1].parent / 'x'")
    assert not OUTSIDE.search('Path(__file__).resolve().parents[3] / "data" / "tsp"')
