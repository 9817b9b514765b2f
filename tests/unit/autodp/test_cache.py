"""Cache-and-reuse: prefix keys miss on every input that changes the output and hit across
everything that does not; a cached run executes only what it lacks."""

import dataclasses

import pytest

from raylab.methods.autodp import cache as crm
from raylab.methods.autodp.evaluate import Setup, evaluate
from raylab.methods.autodp.noise import inject
from raylab.methods.autodp.operators import OPERATORS
from raylab.methods.autodp.strategy import steps

LLM_OPS = {n for n, op in OPERATORS.items() if op.uses_llm}


def keys(cfg, strategy, data_fp="d", llm_fp="l", targets_fp="t"):
    return crm.prefix_keys(data_fp, steps(strategy, cfg.teams), llm_fp, targets_fp, LLM_OPS)


def test_keys_miss_on_any_change_of_what_determines_the_output(cfg, monkeypatch):
    base = keys(cfg, ("cleaning", "optimization"))
    assert keys(cfg, ("cleaning", "optimization"), data_fp="other")[0] != base[0]
    assert keys(cfg, ("selection", "optimization"))[-1] != base[-1]  # upstream
    assert keys(cfg, ("cleaning", "optimization"), targets_fp="u")[-1] != base[-1]  # PTS mask / threshold
    assert keys(cfg, ("cleaning", "optimization"), llm_fp="m")[-1] != base[-1]  # another model
    assert keys(cfg, ("cleaning", "optimization"), targets_fp="u")[:-1] == base[:-1]  # not for cleaning ops
    changed = dataclasses.replace(
        OPERATORS["text_length_filter"], defaults={"min_input_words": 5, "min_output_chars": 2}
    )
    monkeypatch.setitem(OPERATORS, "text_length_filter", changed)
    assert keys(cfg, ("cleaning", "optimization"))[3] != base[3]  # a parameter
    monkeypatch.setitem(
        OPERATORS, "text_length_filter", dataclasses.replace(changed, defaults=base_defaults(), version=2)
    )
    assert keys(cfg, ("cleaning", "optimization"))[3] != base[3]  # the operator's version
    assert keys(cfg, ("cleaning", "optimization"))[:3] == base[:3]  # earlier steps unaffected


def base_defaults():
    return {"min_input_words": 4, "min_output_chars": 2}


@pytest.fixture
def noisy(facts):
    return inject(facts, {"html": 0.1, "wrong": 0.1, "duplicate": 0.1}, seed=2)


def test_a_cached_prefix_runs_only_the_suffix_and_a_rerun_runs_nothing(cfg, noisy, tmp_path):
    setup = Setup(cfg, noisy, seed=0, cache_dir=str(tmp_path))
    first = evaluate(("cleaning",), setup)
    assert first.counters.op_runs == len(cfg.teams["cleaning"])
    second = evaluate(("cleaning", "optimization"), setup)
    assert (second.counters.op_runs, second.counters.steps_reused) == (1, len(cfg.teams["cleaning"]))
    again = evaluate(("cleaning", "optimization"), setup)
    assert (again.counters.op_runs, again.counters.llm_calls) == (0, 0)
    assert again.rows_fp == second.rows_fp
    assert not list(tmp_path.rglob(".tmp*")), "no temporary file is left behind"


def test_hits_across_run_ids_folders_and_processes(cfg, noisy, tmp_path):
    """Nothing run-specific is in a key: a copy of the store in another folder, used by a fresh
    Setup (as another run or another worker would), executes nothing."""
    import shutil

    evaluate(("optimization", "cleaning"), Setup(cfg, noisy, seed=0, cache_dir=str(tmp_path / "a")))
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    again = evaluate(("optimization", "cleaning"), Setup(cfg, noisy, seed=0, cache_dir=str(tmp_path / "b")))
    assert again.counters.op_runs == 0


def test_outputs_are_identical_with_and_without_the_cache(cfg, noisy, tmp_path):
    strategy = ("generation", "cleaning", "selection", "optimization")
    cached = Setup(cfg, noisy, seed=0, cache_dir=str(tmp_path))
    evaluate(strategy[:2], cached)
    with_cache = evaluate(strategy, cached)
    without = evaluate(strategy, Setup(cfg, noisy, seed=0))
    assert with_cache.rows_fp == without.rows_fp and with_cache.accuracy == without.accuracy


def test_the_llm_memo_reuses_rewrites_after_a_different_prefix(cfg, noisy, tmp_path):
    setup = Setup(cfg, noisy, seed=0, cache_dir=str(tmp_path))
    evaluate(("optimization",), setup)
    after_selection = evaluate(("selection", "optimization"), setup)
    assert after_selection.counters.llm_calls == 0 and after_selection.counters.memo_hits > 0


def test_store_round_trips_and_misses(tmp_path):
    store = crm.Store(tmp_path)
    assert store.get("ab" * 32) is None
    store.put("ab" * 32, [1, 2])
    assert store.get("ab" * 32) == [1, 2] and store.has("ab" * 32)


def test_counted_cost_weights_llm_calls_and_training(cfg):
    counters = crm.Counters(op_rows=100, llm_calls=3, train_rows=50)
    assert counters.cost(call_cost=50, train_cost=2) == 100 + 150 + 100
