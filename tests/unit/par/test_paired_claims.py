"""The paired claims fail on numbers that miss them: PAR's gain and its share of winning seeds on hard
data, no harm and a rarely open released gate on easy data, and the gate-off invariant (every
replicate's gate open on every step, judged on the smallest fraction)."""

import dataclasses

import pytest

from raylab.methods.par.claims import MARGIN, paired_claims
from raylab.methods.par.paired import paired_metrics
from raylab.registry import get_spec
from raylab.runner import load_run_config


def outcomes(cfg, diffs, gate=None) -> dict:
    """Judged claims (id -> passed) for paired runs whose PAR arm beats its base by `diffs` points per
    replicate, with gate-open fractions `gate` (default: always open)."""
    gate = gate or [1.0] * len(diffs)
    by = {}
    for alpha in cfg.alphas:
        for r, (diff, frac) in enumerate(zip(diffs, gate, strict=True)):
            for arm, value, opened in (("base", 50.0, 0.0), ("par", 50.0 + diff, frac)):
                keys = ("eval/norm_return", "eval/norm_return_last10", "eval/norm_return_best")
                by[(alpha, r, arm)] = dict.fromkeys(keys, value) | {"train/gate_open_frac": opened}
    return {c.id: c.passed for c in paired_claims(cfg, paired_metrics(cfg, by))}


@pytest.fixture
def hard():
    cfg = load_run_config(get_spec("par/pendulum_paired"), smoke=True)
    return dataclasses.replace(cfg, replicates=3, alphas=[2.5])


@pytest.fixture
def easy_released():
    cfg = load_run_config(get_spec("par/pendulum_released"), smoke=True)
    return dataclasses.replace(cfg, replicates=3, alphas=[2.5])


def test_gain_and_positive_pass_only_on_numbers_that_meet_them(hard):
    assert outcomes(hard, [10, 10, 10]) == {
        "paired.gain@alpha2.5": True,
        "paired.positive@alpha2.5": True,
        "paired.gate_always_open@alpha2.5": True,
    }
    assert outcomes(hard, [MARGIN + 2, MARGIN + 2, -5])["paired.gain@alpha2.5"] is False  # mean 5
    one_big_win = outcomes(hard, [30, -1, -1])  # mean 9.3 >= 8, but ahead on 1 of 3 seeds
    assert one_big_win["paired.gain@alpha2.5"] and not one_big_win["paired.positive@alpha2.5"]


def test_the_gate_off_invariant_breaks_when_any_replicates_gate_shut_sometimes(hard):
    assert outcomes(hard, [10, 10, 10], gate=[1.0, 0.9, 1.0])["paired.gate_always_open@alpha2.5"] is False


def test_no_harm_and_a_rare_released_gate_fail_on_numbers_that_miss_them(easy_released):
    assert easy_released.expect == "no_harm"
    assert outcomes(easy_released, [3, -4, 2], gate=[0.0, 0.05, 0.0]) == {
        "paired.no_harm@alpha2.5": True,
        "paired.gate_rare@alpha2.5": True,
    }
    assert outcomes(easy_released, [-9, -9, -9], gate=[0, 0, 0])["paired.no_harm@alpha2.5"] is False
    assert outcomes(easy_released, [12, 12, 3], gate=[0, 0, 0])["paired.no_harm@alpha2.5"] is False
    assert outcomes(easy_released, [0, 0, 0], gate=[0.0, 0.2, 0.0])["paired.gate_rare@alpha2.5"] is False
