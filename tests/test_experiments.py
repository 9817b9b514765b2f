"""Conformance: every registered experiment's smoke config runs in-process (serial mapper), writes a
valid record with all its claims passing, and gives the same metrics (bar wall-clock `time/` ones)
for the same seed."""

import math

import pytest

from raylab.context import SerialMapper
from raylab.records import read_record
from raylab.registry import all_specs
from raylab.runner import load_run_config, run_experiment


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_smoke_config_runs_and_is_reproducible(spec, tmp_path):
    cfg = load_run_config(spec, smoke=True)
    first = run_experiment(spec, cfg, tmp_path / "1", mapper=SerialMapper(progress=False))
    record = read_record(tmp_path / "1")
    if record.status == "failed" and record.error.startswith("DataMissing:"):
        pytest.skip(
            record.error
        )  # e.g. a dataset that only a cluster job builds    assert record.status == "ok", record.error
    assert record.experiment == spec.name and record.config_hash == first.config_hash
    # Numbers only; inf is allowed (e.g. "alignment never rose": a phase boundary at infinity), NaN is not.
    assert record.metrics and all(
        isinstance(v, (int, float)) and not math.isnan(v) for v in record.metrics.values()
    )
    assert record.claims, "every experiment checks at least one paper claim"
    failed = [
        (c.id, c.value, c.op, c.threshold)
        for c in record.claims
        if not c.passed and c.id not in spec.open_claims
    ]
    assert not failed
    assert set(spec.open_claims) <= {c.id for c in record.claims}, "open claims must still be measured"
    for artifact in record.artifacts:
        assert (tmp_path / "1" / artifact).stat().st_size > 0
    assert (tmp_path / "1" / "metrics.jsonl").exists()
    second = run_experiment(spec, cfg, tmp_path / "2", mapper=SerialMapper(progress=False))
    assert untimed(second.metrics) == untimed(first.metrics)


def untimed(metrics: dict) -> dict:
    """Wall-clock figures (the `time/` namespace) differ between runs; everything else must not."""
    return {k: v for k, v in metrics.items() if not k.startswith("time/")}
