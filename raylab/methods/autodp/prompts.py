"""What the agent is told: the task, the operator catalogue, aggregate statistics and the
group of past strategies with their scores relative to the raw-data baseline. Never a sample: `leaks`
checks every prompt for a sample string or an 8-gram of one."""

from __future__ import annotations

import json
import re

import numpy as np

from raylab.methods.autodp.data import Sample
from raylab.methods.autodp.operators import OPERATORS, TAG
from raylab.methods.autodp.strategy import TEAMS, Strategy, name

STATE = re.compile(r"<state>(.*?)</state>", re.S)
SYSTEM = (
    "You design data-processing strategies for fine-tuning data you cannot see. A strategy is an ordered "
    "list of distinct teams chosen from " + ", ".join(TEAMS) + ". Reply with one JSON object: "
    '{"strategies": [{"teams": ["team", ...], "rationale": "..."}]} holding exactly K new strategies.'
)


def aggregate_stats(rows: list[Sample], flagged: float | None) -> dict[str, float]:
    """Numbers about the rows, never the rows: sizes, lengths, markup, emptiness, duplication."""
    words = np.array([len(s.input.split()) for s in rows])
    chars = np.array([len(s.output) for s in rows])
    keys = [(s.input.lower(), s.output.lower()) for s in rows]
    stats = {
        "rows": len(rows),
        "input_words_mean": round(float(words.mean()), 2),
        "input_words_median": float(np.median(words)),
        "output_chars_mean": round(float(chars.mean()), 2),
        "empty_input_share": round(float(np.mean(words == 0)), 4),
        "short_output_share": round(float(np.mean(chars < 2)), 4),
        "markup_share": round(float(np.mean([bool(TAG.search(s.input + s.output)) for s in rows])), 4),
        "exact_duplicate_share": round(1 - len(set(keys)) / len(keys), 4),
        "distinct_outputs": len({s.output for s in rows}),
    }
    if flagged is not None:
        stats["flagged_low_quality_share"] = round(flagged, 4)
    return stats


def catalogue(teams: dict[str, list[str]]) -> str:
    return "\n".join(
        f"- {team}: " + "; ".join(f"{op} ({OPERATORS[op].doc})" for op in teams[team]) for team in TEAMS
    )


def render(
    task: str, teams: dict, stats: dict, history: list[tuple[Strategy, float]], k: int, round_: int, seed: int
) -> list[dict]:
    """The chat messages of one round. The <state> block repeats the history in machine-readable form."""
    if history:
        lines = "\n".join(f"- {name(s)}: s = {score:+.4f}" for s, score in history)
        feedback = (
            "Scores s are accuracy minus the raw-data baseline's, for every strategy evaluated so far "
            f"(a group, compare them):\n{lines}\nPropose the next strategies: extend, reorder or drop teams "
            "of the best ones; do not repeat an evaluated strategy."
        )
    else:
        feedback = (
            "No strategy has been evaluated yet. Start with small combinations (one team each) "
            "to isolate each team's effect."
        )
    state = {
        "round": round_,
        "k": k,
        "seed": seed,
        "history": [{"teams": list(s), "s": score} for s, score in history],
    }
    user = (
        f"Task: {task}\nK = {k}\n\nTeams and their operators:\n{catalogue(teams)}\n\n"
        f"Aggregate statistics of the data:\n{json.dumps(stats)}\n\n{feedback}\n"
        f"<state>{json.dumps(state)}</state>"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def state_of(messages: list[dict]) -> dict:
    """The <state> block of a round's messages (what the local stub server reads)."""
    for message in messages:
        match = STATE.search(str(message.get("content", "")))
        if match:
            return json.loads(match.group(1))
    raise ValueError("no <state> block in the messages")


def leaks(prompts: list[str], rows: list[Sample], n: int = 8) -> list[str]:
    """Sample strings (inputs, and outputs of >= 3 words) or word n-grams of samples found in any prompt."""
    text = "\n".join(prompts)
    words = " ".join(text.lower().split())
    found = []
    for s in rows:
        for field in (s.input, s.output):
            tokens = field.lower().split()
            if field.strip() and (field is s.input or len(tokens) >= 3) and field in text:
                found.append(field)
            grams = {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}
            found += [g for g in grams if g in words]
    return found
