"""The runner leaves no global state behind: thread limits set for a run are restored after it."""

import torch
from threadpoolctl import threadpool_info

from raylab.context import SerialMapper
from raylab.registry import get_spec
from raylab.runner import load_run_config, run_experiment


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()]


def test_thread_counts_are_restored_after_each_run(tmp_path):
    torch.set_num_threads(2)
    before = (torch.get_num_threads(), blas_threads())
    for name in ("specgd/trajectory", "par/pendulum_medium"):  # numpy-only, then a torch learner
        spec = get_spec(name)
        record = run_experiment(
            spec, load_run_config(spec, smoke=True), tmp_path / name, mapper=SerialMapper(progress=False)
        )
        assert record.status == "ok", record.error
        assert (torch.get_num_threads(), blas_threads()) == before, f"{name} leaked a thread limit"


def test_a_run_knows_whether_it_ran_the_full_the_smoke_or_another_config():
    from raylab.runner import run_size

    spec = get_spec("specgd/misalignment")
    assert run_size(spec, load_run_config(spec)) == "full"
    assert run_size(spec, load_run_config(spec, seed=7)) == "full"  # another replicate, same size
    assert run_size(spec, load_run_config(spec, smoke=True)) == "smoke"
    assert run_size(spec, load_run_config(spec, overrides=["lams=[5]"], smoke=True)) == "custom"


def test_a_spec_without_a_registered_config_runs_as_custom_size(tmp_path):
    import dataclasses

    from raylab.runner import run_size

    probe = dataclasses.replace(get_spec("specgd/misalignment"), config_cls="", name="probe/x")
    assert run_size(probe, load_run_config(get_spec("specgd/misalignment"))) == "custom"


def test_a_record_names_the_code_that_started_the_run(tmp_path, monkeypatch):
    """A commit made while a run trains (the tree changes under it) must not be the one it records."""
    from raylab import runner

    versions = iter([{"commit": "at-start", "dirty": False}, {"commit": "at-end", "dirty": True}])
    monkeypatch.setattr(runner, "code_version", lambda source: next(versions))
    spec = get_spec("specgd/finite_sample")
    record = run_experiment(
        spec, load_run_config(spec, smoke=True), tmp_path, mapper=SerialMapper(progress=False)
    )
    assert record.status == "ok" and record.code == {"commit": "at-start", "dirty": False}
