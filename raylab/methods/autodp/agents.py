"""Agents that propose the next round's strategies (same interface): the LLM agent (official `openai`
client, JSON contract, one retry, then the offline agent), the deterministic offline agent and
random search."""

from __future__ import annotations

import dataclasses
import itertools
import logging

import numpy as np

from raylab.methods.autodp.llm import chat
from raylab.methods.autodp.strategy import TEAMS, ReplyError, Strategy, all_strategies, parse_reply

log = logging.getLogger("raylab")
PAIRS = list(itertools.permutations(TEAMS, 2))


@dataclasses.dataclass
class Round:
    """What an agent is given: the round, K, the evaluated (strategy, s) so far and the prompt."""

    index: int
    k: int
    history: list[tuple[Strategy, float]]
    messages: list[dict]


def features(strategy: Strategy) -> np.ndarray:
    """Intercept, team present (4), team a before team b (12): the least-squares model's inputs."""
    where = {t: i for i, t in enumerate(strategy)}
    return np.array(
        [1.0]
        + [float(t in where) for t in TEAMS]
        + [float(a in where and b in where and where[a] < where[b]) for a, b in PAIRS]
    )


class OfflineAgent:
    """Round 1: the single teams. Later: fit team and pairwise-order effects to the s seen so far by
    ridge least squares, propose edits of the best strategies (add an unused team at the front or the
    back, swap neighbours, drop a team) ranked by predicted s + exploration x uncertainty (UCB), with
    a small preference for strategies whose prefix was evaluated (a cache hit), seeded tie-breaks."""

    def __init__(self, exploration: float, seed: int, top: int = 3, ridge: float = 0.1):
        self.exploration, self.seed, self.top, self.ridge = exploration, seed, top, ridge

    def propose(self, round_: Round, exclude: tuple = ()) -> tuple[list[Strategy], list[str]]:
        """K strategies, none evaluated before nor in `exclude`."""
        seen = {s for s, _ in round_.history} | set(exclude)
        if not round_.history:
            first: list[Strategy] = [(t,) for t in TEAMS]
            first += [s for s in all_strategies() if len(s) == 2]
            return [s for s in first if s not in seen][: round_.k], []
        ucb = self._ucb(round_.history)
        best = [s for s, _ in sorted(round_.history, key=lambda h: -h[1])[: self.top]]
        edits = {e for s in best for e in _edits(s)} - seen
        rest = set(all_strategies()) - seen - edits - {()}
        rng = np.random.default_rng([self.seed, round_.index])
        ranked = []
        for pool in (edits, rest):
            order = sorted(pool)
            order = [order[i] for i in rng.permutation(len(order))]
            ranked += sorted(order, key=lambda s: -(ucb(s) + 1e-6 * (s[:-1] in seen)))
        return ranked[: round_.k], []

    def _ucb(self, history):
        X = np.array([features(s) for s, _ in history])
        y = np.array([v for _, v in history])
        A = X.T @ X + self.ridge * np.eye(X.shape[1])
        w = np.linalg.solve(A, X.T @ y)
        A_inv, scale = np.linalg.inv(A), max(float(np.std(y)), 1e-3)

        def ucb(s: Strategy) -> float:
            x = features(s)
            return float(x @ w + self.exploration * scale * np.sqrt(x @ A_inv @ x))

        return ucb


def _edits(s: Strategy) -> list[Strategy]:
    unused = [t for t in TEAMS if t not in s]
    grow = [(t, *s) for t in unused] + [(*s, t) for t in unused]
    swap = [s[:i] + (s[i + 1], s[i]) + s[i + 2 :] for i in range(len(s) - 1)]
    drop = [s[:i] + s[i + 1 :] for i in range(len(s))] if len(s) > 1 else []
    return grow + swap + drop


class RandomAgent:
    """Uniform draws among the strategies not evaluated yet (the equal-budget baseline)."""

    def __init__(self, seed: int):
        self.seed = seed

    def propose(self, round_: Round) -> tuple[list[Strategy], list[str]]:
        seen = {s for s, _ in round_.history}
        pool = [s for s in all_strategies() if s not in seen and s]
        rng = np.random.default_rng([self.seed, round_.index])
        return [pool[i] for i in rng.permutation(len(pool))[: round_.k]], []


class LLMAgent:
    """The endpoint proposes; its reply is validated against the JSON contract and repaired (unknown
    names and duplicates dropped, a short list filled by the offline agent, a long one cut); a reply
    that is not JSON of that shape, or a failed request, is retried once with the error, then the
    offline agent answers. Every such event is returned (and logged)."""

    def __init__(self, client, model: str, fallback: OfflineAgent):
        self.client, self.model, self.fallback = client, model, fallback

    def propose(self, round_: Round) -> tuple[list[Strategy], list[str]]:
        seen = [s for s, _ in round_.history]
        messages, events = list(round_.messages), []
        for attempt in range(2):
            try:
                text = chat(self.client, self.model, messages)
                strategies, notes = parse_reply(text, round_.k, seen)
            except ReplyError as exc:
                events.append(
                    f"round {round_.index}: invalid reply ({exc}); "
                    + ("retrying" if attempt == 0 else "offline agent")
                )
                messages += [
                    {"role": "assistant", "content": text},
                    {
                        "role": "user",
                        "content": f"Your reply was invalid: {exc}. Reply again with the JSON object only.",
                    },
                ]
                continue
            except Exception as exc:  # the endpoint is outside our control: timeouts, HTTP errors
                events.append(
                    f"round {round_.index}: request failed ({type(exc).__name__}: {exc}); "
                    + ("retrying" if attempt == 0 else "offline agent")
                )
                continue
            events += [f"round {round_.index}: repaired: {note}" for note in notes]
            if len(strategies) < round_.k:
                filler, _ = self.fallback.propose(round_, exclude=tuple(strategies))
                strategies += filler[: round_.k - len(strategies)]
            return self._log(strategies, events)
        strategies, _ = self.fallback.propose(round_)
        return self._log(strategies, events)

    @staticmethod
    def _log(strategies, events):
        for event in events:
            log.warning("autodp agent: %s", event)
        return strategies, events
