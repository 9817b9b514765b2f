"""Whole runs at toy size: the LLM agent through the local server with a canary API key (security,
privacy of the prompts actually sent), and a user's JSONL file end to end."""

import json

import pytest
import yaml

from raylab import DataMissing, RaylabError
from raylab.context import SerialMapper
from raylab.methods.autodp.data import fact_qa, read_jsonl
from raylab.methods.autodp.prompts import leaks
from raylab.methods.autodp.server import serve
from raylab.registry import get_spec
from raylab.runner import load_run_config, run_experiment

CANARY = "sk-raylab-canary-7f3e9a1c55d04b2b"
TOY = ["replicates=1", "data.max_items=60", "search.rounds=2", "accel.labelled=60", "search.random_repeats=3"]


def run(tmp_path, overrides, folder="run", cache=None):
    spec = get_spec("autodp/fact_qa")
    cfg = load_run_config(spec, overrides=TOY + overrides)
    record = run_experiment(spec, cfg, tmp_path / folder, mapper=SerialMapper(progress=False), cache=cache)
    return record, tmp_path / folder


def test_a_run_that_finds_a_warm_cache_says_so_and_leaves_its_cost_claims_unjudged(tmp_path):
    cold, _ = run(tmp_path, [], "cold", cache=tmp_path / "store")
    warm, _ = run(tmp_path, [], "warm", cache=tmp_path / "store")
    assert cold.metrics["cache/warm_start"] == 0.0 and warm.metrics["cache/warm_start"] == 1.0
    unjudged = {c.id for c in warm.claims if c.not_judged}
    assert unjudged == {"cache_round2", "accelerated_cost"}
    assert not {c.id for c in cold.claims if c.not_judged}


def test_the_llm_path_never_writes_the_key_and_sends_no_sample(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    with serve("agent") as server:
        record, out = run(
            tmp_path, ["search.agent=llm", f"llm.base_url={server.url}", "llm.operators_use_endpoint=true"]
        )
    assert record.status == "ok", record.error
    agent_prompts = [m for m in server.prompts if "<state>" in json.dumps(m)]
    assert len(agent_prompts) == 4  # 2 rounds x (accelerated, plain)
    assert len(server.prompts) > len(agent_prompts), "the LLM operators called the endpoint too"
    rows = list(fact_qa(20, seed=0).train)
    assert leaks([msg["content"] for m in agent_prompts for msg in m], rows) == []
    for path in out.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), f"the API key leaked into {path}"
    assert record.metrics["privacy/leaks"] == 0


def test_the_leak_check_finds_a_sample_and_an_8_gram():
    rows = list(fact_qa(60, seed=0).train)
    assert leaks(["stats only"], rows) == []
    assert leaks([f"look: {rows[3].input}"], rows) == [rows[3].input]
    long = "one two three four five six seven eight nine"
    from raylab.methods.autodp.data import Sample

    assert leaks(["... two three four five six seven eight nine ..."], [Sample("x", long, "y")])


def test_a_users_jsonl_gives_a_recipe_and_the_processed_set(tmp_path):
    source = tmp_path / "mine.jsonl"
    source.write_text(
        "".join(
            json.dumps({"question": s.input, "answer": s.output}) + "\n" for s in fact_qa(60, seed=0).train
        )
    )
    record, out = run(tmp_path, ["data.source=jsonl", f"data.path={source}", "data.inject_noise=false"])
    assert record.status == "ok", record.error
    recipe = yaml.safe_load((out / "recipe.yaml").read_text())
    assert recipe["dataset_path"] == str(source) and isinstance(recipe["process"], list)
    processed = [json.loads(line) for line in (out / "processed.jsonl").read_text().splitlines()]
    assert processed and all(set(row) == {"question", "answer"} for row in processed)
    assert "pts_recall" not in {c.id for c in record.claims}  # no injected labels to judge it on


def test_bad_user_files_are_named(tmp_path):
    with pytest.raises(DataMissing, match="does not exist"):
        read_jsonl(tmp_path / "absent.jsonl", 0.2, 0)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "a?", "answer": "b"}\n{"question": oops}\n')
    with pytest.raises(RaylabError, match="broken.jsonl:2: not valid JSON"):
        read_jsonl(broken, 0.2, 0)
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text('{"prompt": "a?"}\n')
    with pytest.raises(RaylabError, match="wrong.jsonl:1: expected the keys"):
        read_jsonl(wrong, 0.2, 0)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"question": "caf\xe9?", "answer": "b"}\n')
    with pytest.raises(RaylabError, match=r"latin.jsonl: not UTF-8 text \(byte 0xe9 at offset 17\)"):
        read_jsonl(latin, 0.2, 0)
