"""The offline and random agents, and the LLM agent through the local OpenAI-compatible server with
the real `openai` client (HTTP, JSON, retries, timeouts)."""

import numpy as np
import pytest

from raylab.methods.autodp.agents import LLMAgent, OfflineAgent, RandomAgent, Round, features
from raylab.methods.autodp.config import LLMConfig
from raylab.methods.autodp.llm import make_client
from raylab.methods.autodp.prompts import render
from raylab.methods.autodp.server import serve
from raylab.methods.autodp.strategy import TEAMS, all_strategies

HISTORY = [(("cleaning",), 0.06), (("selection",), -0.02), (("optimization",), 0.09), (("generation",), 0.01)]


def a_round(history=HISTORY, k=4, index=1):
    messages = render("task", {t: [] for t in TEAMS}, {"rows": 10}, history, k, index, seed=3)
    return Round(index, k, list(history), messages)


def test_round_one_is_the_single_teams_in_team_order():
    out, _ = OfflineAgent(0.5, seed=0).propose(a_round(history=[], index=0))
    assert out == [("cleaning",), ("selection",), ("optimization",), ("generation",)]


def test_later_rounds_extend_the_best_and_never_repeat():
    agent = OfflineAgent(0.5, seed=0)
    out, _ = agent.propose(a_round())
    assert len(out) == 4 == len(set(out)) and not set(out) & {s for s, _ in HISTORY}
    assert all(("optimization" in s) or ("cleaning" in s) for s in out)  # edits of the two best
    assert agent.propose(a_round())[0] == out  # deterministic


def test_without_exploration_the_model_is_least_squares():
    """exploration 0: the ranking is the ridge fit's prediction; on additive data (s = sum of team
    effects) with every team seen alone, the predicted best pair is the two best teams."""
    effects = dict(zip(TEAMS, (0.06, -0.02, 0.09, 0.01)))
    out, _ = OfflineAgent(0.0, seed=0, ridge=1e-9).propose(a_round(k=1))
    assert set(out[0]) == {"optimization", "cleaning"}
    assert features(("cleaning", "optimization"))[:5].tolist() == [1, 1, 0, 1, 0]
    assert sum(effects[t] for t in out[0]) == pytest.approx(0.15)


def test_random_search_draws_distinct_unevaluated_strategies():
    out, _ = RandomAgent(seed=1).propose(a_round(k=16))
    assert len(set(out)) == 16 and not set(out) & {s for s, _ in HISTORY} and () not in out


def llm_agent(url, timeout_s=10.0, max_retries=2):
    cfg = LLMConfig(base_url=url, timeout_s=timeout_s, max_retries=max_retries)
    return LLMAgent(make_client(cfg), cfg.model, OfflineAgent(0.5, seed=3))


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")


def test_the_http_agent_proposes_what_the_offline_agent_does():
    with serve("agent") as server:
        out, events = llm_agent(server.url).propose(a_round())
    assert out == OfflineAgent(0.5, seed=3).propose(a_round())[0] and events == []
    assert server.prompts and "<state>" in server.prompts[0][-1]["content"]


@pytest.mark.parametrize("mode", ["unknown", "duplicates", "wrong_count"])
def test_a_faulty_reply_is_repaired_to_k_new_strategies(mode):
    with serve(mode) as server:
        out, events = llm_agent(server.url).propose(a_round())
    assert len(out) == 4 == len(set(out)) and not set(out) & {s for s, _ in HISTORY}
    assert set(out) <= set(all_strategies())
    assert any("repaired" in e for e in events)


def test_invalid_json_is_retried_once_with_the_error():
    with serve("garbage_once") as server:
        out, events = llm_agent(server.url).propose(a_round())
    assert len(server.prompts) == 2 and "invalid" in server.prompts[1][-1]["content"]
    assert out == OfflineAgent(0.5, seed=3).propose(a_round())[0]
    assert len(events) == 1 and "retrying" in events[0]


def test_persistent_garbage_falls_back_to_the_offline_agent():
    with serve("garbage") as server:
        out, events = llm_agent(server.url).propose(a_round())
    assert len(server.prompts) == 2 and out == OfflineAgent(0.5, seed=3).propose(a_round())[0]
    assert "offline agent" in events[-1]


def test_a_timeout_falls_back_without_hanging():
    with serve("timeout", sleep_s=2.0) as server:
        out, events = llm_agent(server.url, timeout_s=0.3, max_retries=0).propose(a_round())
    assert len(out) == 4 and any("Timeout" in e for e in events)


def test_a_rate_limit_is_waited_out():
    with serve("rate_limit_once") as server:
        out, events = llm_agent(server.url).propose(a_round())
    assert server.requests == 2 and events == [] and len(out) == 4


def test_features_mark_presence_and_order():
    x = features(("generation", "cleaning"))
    assert x.shape == (17,) and x[0] == 1 and np.sum(x[1:5]) == 2 and np.sum(x[5:]) == 1
