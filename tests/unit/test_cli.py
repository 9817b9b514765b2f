"""Bad input gives a one-line error and a non-zero exit; run/show/report work end to end."""

import json
import subprocess
import sys

import pytest


def raylab(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "raylab", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("raylab: error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_config_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 0\nstepz: 3\n")
    assert_one_line_error(raylab("show", "specgd/trajectory", "--config", str(bad)), "bad.yaml", "stepz")


def test_wrong_type_in_set():
    assert_one_line_error(
        raylab("run", "specgd/trajectory", "--serial", "--set", "steps=many"),
        "--set steps=many",
        "expected int",
    )


def test_unknown_experiment():
    assert_one_line_error(raylab("run", "specgd/nope", "--serial"), "unknown experiment 'specgd/nope'")


@pytest.mark.parametrize("verb", ["run", "submit"])
def test_unreachable_address(verb):
    address = "127.0.0.1:1" if verb == "run" else "http://127.0.0.1:1"
    result = raylab(verb, "specgd/trajectory", "--smoke", "--address", address)
    assert_one_line_error(result, address)


def test_show_resolves_smoke_and_overrides():
    result = raylab("show", "specgd/trajectory", "--smoke", "--set", "lr.specgd=0.02")
    assert result.returncode == 0
    assert "steps: 120" in result.stdout and "specgd: 0.02" in result.stdout


def test_serial_run_then_report(tmp_path):
    out = tmp_path / "run"
    result = raylab("run", "specgd/trajectory", "--smoke", "--serial", "--out", str(out))
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "result.json").read_text())
    assert record["status"] == "ok" and record["experiment"] == "specgd/trajectory"
    assert raylab("report", str(tmp_path)).returncode == 0
    report = (tmp_path / "REPORT.md").read_text()
    assert "specgd/trajectory" in report and "S3-c.specgd_spike" in report
    assert_one_line_error(raylab("report", str(tmp_path / "empty")), "no such results folder")


def test_python_dash_m_raylab_help_lists_every_verb_with_an_example():
    result = raylab("--help")
    assert result.returncode == 0
    for verb in ("list", "show", "run", "tune", "submit", "reproduce", "report", "jobs", "completion"):
        assert verb in result.stdout
    run_help = raylab("run", "--help").stdout
    assert "example:\n  raylab run" in run_help and "--log" in run_help


def test_verbose_flag_before_or_after_the_verb():
    assert raylab("-v", "list").returncode == 0
    assert raylab("list", "-v").returncode == 0


def test_bash_completion_names_verbs_and_experiments():
    script = raylab("completion", "bash").stdout
    assert "complete -F _raylab raylab" in script and "specgd/misalignment" in script


def test_run_with_tensorboard_writes_a_readable_events_file(tmp_path):
    result = raylab(
        "run", "specgd/trajectory", "--smoke", "--serial", "--log", "tensorboard", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert f"run folder {tmp_path}" in result.stdout
    events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1
    scalars = read_scalars(events[0])
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [s for s, _ in scalars["train/cos"]] == [s for s in steps if s is not None]


def read_scalars(path) -> dict[str, list[tuple[int, float]]]:
    """A minimal TFRecord reader: (length, crc, event proto, crc) records of tensorboardX events."""
    import struct

    from tensorboardX.proto import event_pb2

    data, offset, scalars = path.read_bytes(), 0, {}
    while offset < len(data):
        (length,) = struct.unpack("<Q", data[offset : offset + 8])
        event = event_pb2.Event.FromString(data[offset + 12 : offset + 12 + length])
        offset += 12 + length + 4
        for value in event.summary.value:
            scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_run_with_mlflow_logs_the_runs_metrics_to_a_local_file_store(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # for the client reading the store back
    result = raylab(
        "run", "specgd/trajectory", "--smoke", "--serial", "--log", "mlflow", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    client = MlflowClient((tmp_path / "mlruns").as_uri())
    experiment = client.get_experiment_by_name("specgd/trajectory")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["seed"] == "0"
    history = client.get_metric_history(run.info.run_id, "train/cos")
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [m.step for m in history] == [s for s in steps if s is not None]


def test_run_with_wandb_writes_an_offline_run_without_credentials(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    for name in ("WANDB_API_KEY", "WANDB_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    result = raylab(
        "run", "specgd/trajectory", "--smoke", "--serial", "--log", "wandb", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    (run_file,) = (tmp_path / "wandb").glob("offline-run-*/run-*.wandb")
    assert b"train/cos" in run_file.read_bytes()  # the history rows name our metrics
    assert "WANDB_API_KEY" not in (tmp_path / "result.json").read_text()


def test_an_uninstalled_tracker_is_one_clear_error(tmp_path, monkeypatch):
    import sys

    from raylab import RaylabError
    from raylab.tracking import tracker_sinks

    for name in [m for m in sys.modules if m.split(".")[0] == "mlflow"] + ["mlflow"]:
        monkeypatch.setitem(sys.modules, name, None)  # import mlflow[.x] -> ImportError
    with pytest.raises(RaylabError, match=r"--log mlflow: mlflow is not installed"):
        tracker_sinks(["mlflow"], tmp_path)


def test_reproduce_resume_keeps_finished_runs_and_reruns_the_rest(tmp_path):
    """`reproduce --resume` skips runs whose record is ok for the same config."""
    args = ["reproduce", "--smoke", "--serial", "--only", "specgd/finite_sample", "--out", str(tmp_path)]
    record_path = tmp_path / "specgd/finite_sample/result.json"
    assert raylab(*args).returncode == 0
    first = json.loads(record_path.read_text())
    kept = raylab(*args, "--resume")
    assert kept.returncode == 0 and "kept (--resume" in kept.stdout
    assert json.loads(record_path.read_text())["run_id"] == first["run_id"]
    record_path.write_text(json.dumps(first | {"status": "failed"}))  # an unfinished run is rerun
    rerun = raylab(*args, "--resume")
    assert rerun.returncode == 0 and "kept" not in rerun.stdout
    assert json.loads(record_path.read_text())["run_id"] != first["run_id"]


def test_reproduce_lists_a_run_that_needs_the_users_data_apart_and_still_succeeds(tmp_path):
    args = ["reproduce", "--smoke", "--serial", "--only", "abaw/affwild2", "--out", str(tmp_path)]
    done = raylab(*args)
    assert done.returncode == 0, done.stderr
    assert "abaw/affwild2: needs your data" in done.stdout and "--set data.root=" in done.stdout
    record = json.loads((tmp_path / "abaw/affwild2/result.json").read_text())
    assert record["status"] == "failed" and record["error"].startswith("DataMissing:")
    assert record["size"] == "smoke" and record["machine"]["cpus"] >= 1
    assert "needs your data: abaw/affwild2." in (tmp_path / "REPORT.md").read_text()


def test_a_reproduction_shares_a_warm_actor_pool_only_between_consecutive_runs_that_can_use_it(monkeypatch):
    """Runs in this process with the same actor-pool options take one pool; a run that would use tasks
    (or another pool, or runs elsewhere) closes it first, since its idle actors hold the CPUs."""
    import argparse

    import raylab.runtime.parallel as parallel
    from raylab.cli import _mapper
    from raylab.registry import get_spec

    class FakeMapper:
        def __init__(self, **options):
            self.options, self.closed = options, False

        def close(self):
            self.closed = True

    monkeypatch.setattr(parallel, "RayMapper", FakeMapper)
    args, pools = argparse.Namespace(serial=False), {}
    sampler = _mapper(args, get_spec("tsp_mdf/tsplib"), pools, share=True)
    assert _mapper(args, get_spec("tsp_mdf/policy"), pools, share=True) is sampler and not sampler.closed
    tasks = _mapper(args, get_spec("specgd/misalignment"), pools, share=True)
    assert sampler.closed and pools == {} and tasks.options.get("backend", "tasks") == "tasks"
    fresh = _mapper(args, get_spec("tsp_mdf/tsplib"), pools, share=True)
    assert fresh is not sampler
    elsewhere = _mapper(args, get_spec("tsp_mdf/policy"), pools, share=False)  # its loop runs as a task
    assert fresh.closed and elsewhere is not fresh and pools == {}
