"""Each method README's results tables are what the committed full-size records (docs/results)
generate; a doctored record, a missing one and a rewrite between the markers are checked on copies."""

import dataclasses
import shutil
from pathlib import Path

import pytest

from raylab import RaylabError
from raylab.cli import main
from raylab.records import RESULT_FILE, read_record, write_record
from raylab.reporting import readme_tables
from raylab.reporting.readme_tables import (
    BEGIN,
    END,
    METHODS_DIR,
    committed_records,
    results_block,
    stale_readmes,
    update_readmes,
)

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "results"


def copy_readmes(to: Path) -> dict[str, Path]:
    """Every method README copied to `to/<method>/README.md`."""
    copies = {}
    for readme in sorted(METHODS_DIR.glob("*/README.md")):
        copies[readme.parent.name] = to / readme.parent.name / "README.md"
        copies[readme.parent.name].parent.mkdir(parents=True)
        shutil.copyfile(readme, copies[readme.parent.name])
    return copies


def outside_markers(text: bytes) -> tuple[bytes, bytes]:
    before, _, rest = text.partition(BEGIN.encode())
    return before, rest.partition(END.encode())[2]


def test_every_readme_shows_what_the_committed_records_generate(monkeypatch):
    monkeypatch.chdir(ROOT)
    stale = stale_readmes(Path("docs/results"), METHODS_DIR)
    assert stale == [], "\n".join(stale)


def test_a_doctored_record_changes_the_block_and_makes_its_readme_stale(tmp_path):
    for record in (RESULTS / "faa").glob(f"*/{RESULT_FILE}"):
        (tmp_path / "faa" / record.parent.name).mkdir(parents=True)
        shutil.copyfile(record, tmp_path / "faa" / record.parent.name / RESULT_FILE)
    readme = f"{METHODS_DIR / 'faa' / 'README.md'}:"
    assert not [m for m in stale_readmes(tmp_path, METHODS_DIR) if m.startswith(readme)]
    doctored = read_record(tmp_path / "faa" / "shapes")
    claim = next(c for c in doctored.claims if c.kind == "claim")
    changed = dataclasses.replace(claim, value=claim.value * 2 + 1)
    write_record(
        dataclasses.replace(doctored, claims=[changed if c is claim else c for c in doctored.claims]),
        tmp_path / "faa" / "shapes",
    )
    committed = results_block("faa", committed_records(RESULTS))
    copied = results_block("faa", committed_records(tmp_path))
    assert committed != copied
    assert f"| `{claim.id}` | {changed.value:.4g} |" in copied
    assert f"| `{claim.id}` | {claim.value:.4g} |" in committed
    stale = [m for m in stale_readmes(tmp_path, METHODS_DIR) if m.startswith(readme)]
    assert len(stale) == 1 and f"raylab report {tmp_path} --readmes" in stale[0]


def test_an_experiment_without_a_record_names_the_command_that_makes_it():
    records = committed_records(RESULTS)
    block = results_block("faa", {**records, "faa/shapes": None})
    line = (
        "`faa/shapes`: no full-size record yet: "
        "`raylab reproduce --out docs/results --resume --only faa/shapes`"
    )
    assert line in block.splitlines()
    assert "#### `faa/shapes`" not in block and "#### `faa/convergence`" in block


def test_update_rewrites_only_between_the_markers(tmp_path):
    copies = copy_readmes(tmp_path)
    original = copies["faa"].read_bytes()
    before, after = outside_markers(original)
    copies["faa"].write_bytes(before + BEGIN.encode() + b"\nstale table\n" + END.encode() + after)
    originals = {m: p.read_bytes() for m, p in copies.items()}
    changed = update_readmes(RESULTS, tmp_path)
    assert copies["faa"] in changed
    for method, path in copies.items():
        assert outside_markers(path.read_bytes()) == outside_markers(originals[method])
    block = results_block("faa", committed_records(RESULTS))
    assert f"{BEGIN}\n{block}{END}".encode() in copies["faa"].read_bytes()
    assert update_readmes(RESULTS, tmp_path) == []


def test_a_readme_without_markers_is_named_and_nothing_is_written(tmp_path):
    copies = copy_readmes(tmp_path)
    before, after = outside_markers(copies["faa"].read_bytes())
    copies["faa"].write_bytes(before + after)
    stale = stale_readmes(RESULTS, tmp_path)
    assert any(m.startswith(f"{copies['faa']}: no lines") for m in stale)
    written = {m: p.read_bytes() for m, p in copies.items()}
    with pytest.raises(RaylabError, match="no lines"):
        update_readmes(RESULTS, tmp_path)
    assert {m: p.read_bytes() for m, p in copies.items()} == written


def test_report_readmes_writes_the_blocks_and_names_the_readmes_it_changed(tmp_path, monkeypatch, capsys):
    copies = copy_readmes(tmp_path)
    before, after = outside_markers(copies["faa"].read_bytes())
    copies["faa"].write_bytes(before + BEGIN.encode() + b"\n" + END.encode() + after)
    monkeypatch.setattr(readme_tables, "METHODS_DIR", tmp_path)
    assert main(["report", str(RESULTS), "--readmes"]) == 0
    assert f"updated: {copies['faa']}" in capsys.readouterr().out.splitlines()
    assert main(["report", str(RESULTS), "--readmes"]) == 0
    assert capsys.readouterr().out == "every README's results tables are up to date\n"
