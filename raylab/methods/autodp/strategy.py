"""Strategies: ordered subsets of the four teams (64 + "no processing" = the paper's 65-item space),
expanded into operator steps and written as data-juicer-style recipes."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable

import yaml

from raylab.methods.autodp.operators import OPERATORS

TEAMS = ("cleaning", "selection", "optimization", "generation")  # round-1 order
Strategy = tuple[str, ...]


def all_strategies() -> list[Strategy]:
    """The 65 strategies: (), then every ordering of every non-empty subset (4 + 12 + 24 + 24)."""
    return [()] + [p for size in range(1, 5) for p in itertools.permutations(TEAMS, size)]


def name(strategy: Strategy) -> str:
    return "+".join(strategy) or "raw"


# DEVIATION: [R] team contents and operator parameters are fixed (the paper's 65-count implies it)
def steps(strategy: Strategy, teams: dict[str, list[str]]) -> list[tuple[str, dict]]:
    """The operator steps (op name, parameters) a strategy runs, team after team."""
    return [(op, dict(OPERATORS[op].defaults)) for team in strategy for op in teams[team]]


def canonical_step(op: str, params: dict) -> str:
    """What identifies a step in a cache key: name, parameters and the operator's version, nothing
    run-specific (no run id, time or folder; the lesson of
    https://github.com/datajuicer/data-juicer/issues/964)."""
    return json.dumps({"op": op, "params": params, "version": OPERATORS[op].version}, sort_keys=True)


def recipe_yaml(strategy: Strategy, teams: dict[str, list[str]], dataset_path: str, export_path: str) -> str:
    """The strategy as a data-juicer recipe (global keys + an ordered `process:` list)."""
    recipe = {
        "project_name": f"raylab-autodp-{name(strategy)}",
        "dataset_path": dataset_path,
        "export_path": export_path,
        "teams": list(strategy),
        "process": [{op: params} for op, params in steps(strategy, teams)],
    }
    return yaml.safe_dump(recipe, sort_keys=False)


def team_of(word: str) -> str | None:
    """A team from a reply's team or operator name (case-insensitive), or None."""
    word = str(word).strip().lower()
    if word in TEAMS:
        return word
    return OPERATORS[word].team if word in OPERATORS else None


class ReplyError(ValueError):
    """An agent reply that cannot be used as it is (the message says why, for the retry prompt)."""


def parse_reply(text: str, k: int, seen: Iterable[Strategy]) -> tuple[list[Strategy], list[str]]:
    """Strategies from an agent's JSON reply `{"strategies": [{"teams": [...]}, ...]}`, repaired:
    unknown names and repeated teams are dropped, duplicates (of each other or of evaluated ones)
    removed, extra ones cut. Returns (strategies, notes on each repair). Raises ReplyError when the
    reply is not JSON of that shape at all."""
    try:
        reply = json.loads(text.strip().removeprefix("```json").removeprefix("```").removesuffix("```"))
    except json.JSONDecodeError as exc:
        raise ReplyError(f"the reply is not valid JSON ({exc.msg} at position {exc.pos})") from None
    items = reply.get("strategies") if isinstance(reply, dict) else None
    if not isinstance(items, list):
        raise ReplyError('the reply must be a JSON object with a "strategies" list')
    taken, out, notes = set(seen), [], []
    for i, item in enumerate(items):
        words = item.get("teams", item.get("steps")) if isinstance(item, dict) else item
        if not isinstance(words, list):
            notes.append(f"strategy {i}: no teams list")
            continue
        words = [w.get("team", w.get("op")) if isinstance(w, dict) else w for w in words]
        teams = [team_of(w) for w in words]
        if None in teams:
            notes.append(
                f"strategy {i}: unknown names {[w for w, t in zip(words, teams) if t is None]} dropped"
            )
        strategy = tuple(dict.fromkeys(t for t in teams if t))
        if strategy in taken:
            notes.append(f"strategy {i}: {name(strategy)} duplicates one already proposed or evaluated")
            continue
        taken.add(strategy)
        out.append(strategy)
    if len(out) > k:
        notes.append(f"{len(out)} usable strategies for K = {k}: the extra ones dropped")
        out = out[:k]
    elif len(out) < k:
        notes.append(f"{len(out)} usable strategies for K = {k}")
    return out, notes
