"""A full disk (ENOSPC, injected through /dev/full or at the JSON writer) while writing a record, a
checkpoint, the metrics log or a figure: the previous file stays whole and the error is one line
naming the path."""

import errno
import os
from pathlib import Path

import pytest

from raylab.records import RESULT_FILE, Claim, WriteFailed, read_record, write_record
from raylab.registry import ExperimentSpec
from raylab.reporting.plots import new_figure, save_figure
from raylab.runner import run_experiment
from tests.unit.test_records import TinyConfig, make_record

FULL = "/dev/full"  # every write to it fails with ENOSPC
pytestmark = pytest.mark.skipif(not os.path.exists(FULL), reason="needs /dev/full (Linux)")


def full_disk(path: Path) -> None:
    """Make the next write to `path` hit a full disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(FULL)


def disk_full_at_json_dump(monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("raylab.records.json.dump", no_space)


def test_a_full_disk_while_writing_a_record_keeps_the_previous_record_whole(tmp_path, monkeypatch):
    write_record(make_record(run_id="first"), tmp_path)
    before = (tmp_path / RESULT_FILE).read_bytes()
    disk_full_at_json_dump(monkeypatch)
    with pytest.raises(WriteFailed, match=f"record {tmp_path / RESULT_FILE}: No space left on device"):
        write_record(make_record(run_id="second"), tmp_path)
    assert (tmp_path / RESULT_FILE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [RESULT_FILE]  # no temp file left behind


def checkpointing_entry(cfg, ctx):
    ctx.report({"train/loss": 0.5}, step=1)
    ctx.checkpointer.save({"weights": [1.0, 2.0]}, step=1)
    return ctx.result({"train/loss": 0.5}, [Claim.check("c", "loss <= 1", 0.5, "<=", 1.0)])


SPEC = ExperimentSpec(
    "m/disk", "", "tests.unit.test_records:TinyConfig", "tests.unit.test_disk_full:checkpointing_entry"
)


def test_a_full_disk_under_a_checkpoint_fails_the_run_naming_the_checkpoint(tmp_path):
    full_disk(tmp_path / "checkpoints" / "step_00000001" / "state.pkl.tmp")
    record = run_experiment(SPEC, TinyConfig(), tmp_path)
    target = tmp_path / "checkpoints" / "step_00000001" / "state.pkl"
    assert record.status == "failed"
    assert record.error == f"WriteFailed: could not write the checkpoint {target}: No space left on device"
    assert not target.exists() and not target.with_suffix(".pkl.tmp").exists()
    assert read_record(tmp_path).metrics == {"train/loss": 0.5}  # what was reported before it


def test_a_full_disk_under_the_metrics_log_fails_the_run_naming_the_log(tmp_path):
    full_disk(tmp_path / "metrics.jsonl")
    record = run_experiment(SPEC, TinyConfig(), tmp_path)
    assert record.status == "failed"
    assert record.error == (
        f"WriteFailed: could not write the metrics log {tmp_path / 'metrics.jsonl'}: No space left on device"
    )


def test_a_full_disk_when_the_record_itself_cannot_be_written_is_one_error_saying_all_of_it(
    tmp_path, monkeypatch
):
    write_record(make_record(run_id="earlier"), tmp_path)
    full_disk(tmp_path / "metrics.jsonl")
    disk_full_at_json_dump(monkeypatch)
    with pytest.raises(WriteFailed) as raised:
        run_experiment(SPEC, TinyConfig(), tmp_path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"could not write the record {tmp_path / RESULT_FILE}: No space left on device")
    assert (
        "a record already there is unchanged" in message
        and "ended failed" in message
        and "metrics.jsonl" in message
    )
    assert read_record(tmp_path).run_id == "earlier"


def test_a_full_disk_while_saving_a_figure_keeps_the_previous_figure(tmp_path):
    fig, _ = new_figure()
    previous = save_figure(fig, tmp_path / "curve.png").read_bytes()
    full_disk(tmp_path / ".curve.png.tmp.png")
    fig, _ = new_figure()
    with pytest.raises(WriteFailed, match=f"figure {tmp_path / 'curve.png'}: No space left on device"):
        save_figure(fig, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes() == previous
    assert not (tmp_path / ".curve.png.tmp.png").exists()


def test_the_cli_prints_a_write_failure_as_one_line(tmp_path, monkeypatch, capsys):
    from raylab import cli

    monkeypatch.setattr(
        cli, "_execute", lambda *a, **k: (_ for _ in ()).throw(WriteFailed("could not write x"))
    )
    assert cli.main(["run", "specgd/trajectory", "--serial", "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == "raylab: error: could not write x\n"
