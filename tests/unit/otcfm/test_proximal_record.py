"""`otcfm/proximal_field` records identities that hold for any dual weights: invariants, never claims,
so the experiment verifies the implementation and stays out of the reproduction set."""

from raylab.context import SerialMapper
from raylab.registry import get_spec
from raylab.runner import load_run_config, run_experiment


def test_the_proximal_identities_are_recorded_as_invariants(tmp_path):
    spec = get_spec("otcfm/proximal_field")
    record = run_experiment(spec, load_run_config(spec, smoke=True), tmp_path, mapper=SerialMapper(False))
    assert record.status == "ok", record.error
    prefixes = ("B1.recovery@", "B1.qp@", "B1.field@", "B2.prox@", "B1.duals_fit")
    assert {c.id.startswith(prefixes) for c in record.claims} == {True}
    assert {c.kind for c in record.claims} == {"invariant"} and all(c.passed for c in record.claims)
    assert not spec.reproduce
