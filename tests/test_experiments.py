"""Conformance, in the spirit of d3rlpy's algorithm tester: every registered experiment's smoke config
runs in-process (serial mapper) and must
- finish with status "ok" and a valid record whose claim ids are unique and metric names follow
  `records.METRIC_NAME`, with every claim passing except the spec's open claims, which must fail
  (claims the spec marks size-dependent are not judged at smoke size);
- give the same metrics (bar the wall-clock `time/` namespace) for the same seed, and different ones
  for another seed (every registered experiment is stochastic);
- resume from its last checkpoint, when it writes any, to the same final metrics;
and its config must round-trip through `raylab show` (every field documented), with a smoke block
that only shrinks sizes (same algorithm, switches and compared arms)."""

import dataclasses
import json
import math
import shutil

import pytest

from raylab.cli import main
from raylab.config import config_hash, undocumented_fields
from raylab.context import SerialMapper
from raylab.records import METRIC_NAME, TIME_NAMESPACE, read_record
from raylab.registry import all_specs
from raylab.runner import load_run_config, run_experiment

SPECS = all_specs()


def untimed(metrics: dict) -> dict:
    """Wall-clock figures (the `time/` namespace) differ between runs; everything else must not."""
    return {k: v for k, v in metrics.items() if not k.startswith(TIME_NAMESPACE)}


def run_smoke(spec, cfg, out_dir):
    """One serial run; a run whose data is absent (a cluster-built dataset) skips the test."""
    run_experiment(spec, cfg, out_dir, mapper=SerialMapper(progress=False))
    record = read_record(out_dir)
    if record.status == "failed" and (record.error or "").startswith("DataMissing:"):
        pytest.skip(record.error)
    assert record.status == "ok", record.error
    return record


def check_record(spec, record, out_dir) -> None:
    """What every record must satisfy (see the module docstring)."""
    assert record.experiment == spec.name
    assert record.metrics, "every experiment reports metrics"
    bad_names = [name for name in record.metrics if not METRIC_NAME.fullmatch(name)]
    assert not bad_names, f"metric names outside the scheme: {bad_names}"
    # Numbers only; inf is allowed (e.g. "alignment never rose": a phase boundary at infinity), NaN is not.
    assert all(isinstance(v, (int, float)) and not math.isnan(v) for v in record.metrics.values())
    ids = [c.id for c in record.claims]
    assert ids, "every experiment checks at least one claim or invariant"
    assert len(ids) == len(set(ids)), f"duplicate claim ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    assert any(c.kind == "claim" for c in record.claims) or not spec.reproduce, (
        "an experiment of the reproduction set checks at least one claim that could fail"
    )
    assert set(spec.open_claims) <= set(ids), "open claims must still be measured"
    judged = [c for c in record.claims if c.id not in spec.size_dependent]
    failed = [(c.id, c.value, c.op, c.threshold) for c in judged if not c.passed and c.not_judged is None]
    open_here = sorted(i for i in spec.open_claims if i not in spec.size_dependent)
    assert sorted(f[0] for f in failed) == open_here, (
        f"failing claims {failed} must be exactly the spec's open claims {open_here}"
    )
    for artifact in record.artifacts:
        assert (out_dir / artifact).stat().st_size > 0
    assert (out_dir / "metrics.jsonl").exists()


def check_conformance(spec, tmp_path) -> None:
    cfg = load_run_config(spec, smoke=True)
    first = run_smoke(spec, cfg, tmp_path / "first")
    assert first.config_hash == config_hash(cfg)
    check_record(spec, first, tmp_path / "first")
    again = run_smoke(spec, cfg, tmp_path / "again")
    assert untimed(again.metrics) == untimed(first.metrics), "the same seed must give the same metrics"
    other = run_smoke(spec, dataclasses.replace(cfg, seed=cfg.seed + 1), tmp_path / "other")
    assert untimed(other.metrics) != untimed(first.metrics), "--seed must reach the experiment's streams"
    checkpoints = sorted((tmp_path / "first" / "checkpoints").glob("step_*"))
    if checkpoints:
        resumed_dir = tmp_path / "resumed"
        shutil.copytree(checkpoints[-1], resumed_dir / "checkpoints" / checkpoints[-1].name)
        resumed = run_smoke(spec, cfg, resumed_dir)
        assert untimed(resumed.metrics) == untimed(first.metrics), "resuming must not change the result"


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_smoke_run_conforms(spec, tmp_path):
    check_conformance(spec, tmp_path)


def test_a_failing_experiment_fails_conformance(tmp_path):
    broken = dataclasses.replace(SPECS[0], entry=f"{__name__}:explode")
    with pytest.raises(AssertionError, match="ZeroDivisionError: the loop broke"):
        check_conformance(broken, tmp_path)


def explode(cfg, ctx):
    raise ZeroDivisionError("the loop broke")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_config_round_trips_through_raylab_show(spec, tmp_path, capsys):
    cfg = load_run_config(spec, smoke=True)
    assert main(["show", spec.name, "--smoke"]) == 0
    shown = tmp_path / "shown.yaml"
    shown.write_text(capsys.readouterr().out)
    assert config_hash(load_run_config(spec, shown)) == config_hash(cfg)


@pytest.mark.parametrize(
    "cls", sorted({s.load_config_cls() for s in SPECS}, key=str), ids=lambda c: c.__name__
)
def test_every_config_field_is_documented(cls):
    assert undocumented_fields(cls) == []


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_smoke_block_only_shrinks_sizes(spec):
    """Switches (bool), choices (str) are those of the full run; lists of names (heuristics, losses,
    optimisers) may drop entries but never add one."""
    full, smoke = leaves(load_run_config(spec)), leaves(load_run_config(spec, smoke=True))
    for key, value in full.items():
        if isinstance(value, (bool, str)):
            assert smoke[key] == value, f"smoke changes {key}: {value!r} -> {smoke[key]!r}"
        elif isinstance(value, list) and all(isinstance(v, str) for v in value + smoke[key]):
            assert set(smoke[key]) <= set(value), f"smoke adds to {key}: {smoke[key]} vs {value}"


def leaves(cfg, prefix: str = "") -> dict:
    out = {}
    for field in dataclasses.fields(cfg):
        value = getattr(cfg, field.name)
        if dataclasses.is_dataclass(value):
            out.update(leaves(value, f"{prefix}{field.name}."))
        else:
            out[prefix + field.name] = json.loads(json.dumps(value))
    return out
