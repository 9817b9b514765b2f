"""The 65-strategy space, recipes and the agent-reply contract."""

import json

import pytest
import yaml

from raylab.methods.autodp.config import AutoDPConfig
from raylab.methods.autodp.strategy import ReplyError, all_strategies, parse_reply, recipe_yaml, steps


def test_the_space_has_65_distinct_orderings():
    space = all_strategies()
    assert len(space) == 65 == len(set(space))
    assert space[0] == () and all(len(set(s)) == len(s) for s in space)
    assert [sum(len(s) == n for s in space) for n in range(5)] == [1, 4, 12, 24, 24]


def test_a_recipe_lists_the_operators_in_strategy_order():
    teams = AutoDPConfig().teams
    recipe = yaml.safe_load(recipe_yaml(("selection", "cleaning"), teams, "in.jsonl", "out.jsonl"))
    ops = [next(iter(step)) for step in recipe["process"]]
    assert ops == teams["selection"] + teams["cleaning"]
    assert recipe["process"][1]["clean_html_mapper"] == {}
    assert [op for op, _ in steps(("selection", "cleaning"), teams)] == ops


def reply(*strategies) -> str:
    return json.dumps({"strategies": [{"teams": list(s)} for s in strategies]})


def test_a_valid_reply_is_taken_as_it_is():
    out, notes = parse_reply(reply(["cleaning"], ["selection", "optimization"]), 2, [])
    assert out == [("cleaning",), ("selection", "optimization")] and notes == []


def test_operator_names_and_case_map_to_teams():
    text = json.dumps({"strategies": [{"steps": [{"op": "clean_html_mapper"}, {"team": "Generation"}]}]})
    assert parse_reply(text, 1, [])[0] == [("cleaning", "generation")]


def test_unknown_names_duplicates_and_counts_are_repaired_with_notes():
    text = reply(["cleaning", "magic"], ["cleaning"], ["selection"], ["generation"], ["optimization"])
    out, notes = parse_reply(text, 2, [("selection",)])
    assert out == [("cleaning",), ("generation",)]
    assert any("magic" in n for n in notes)
    assert any("duplicates" in n for n in notes) and any("extra" in n for n in notes)


@pytest.mark.parametrize("text", ["Sure, try cleaning first.", "[1, 2]", '{"plans": []}'])
def test_a_reply_that_is_not_the_contract_raises(text):
    with pytest.raises(ReplyError):
        parse_reply(text, 4, [])
