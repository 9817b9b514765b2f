"""The search loop: each round the agent proposes K strategies, the K are evaluated in
parallel (one fan-out item each: Ray actors or serially), and their scores relative to the raw-data
baseline, s = r - r0, are fed back to the agent as a group."""

from __future__ import annotations

import dataclasses
import logging

from raylab.context import RunContext
from raylab.methods.autodp import cache as crm
from raylab.methods.autodp.agents import Round
from raylab.methods.autodp.evaluate import Evaluation, Setup, evaluate
from raylab.methods.autodp.prompts import render
from raylab.methods.autodp.strategy import Strategy, name

log = logging.getLogger("raylab")


@dataclasses.dataclass
class SearchResult:
    baseline: Evaluation  # the raw data (strategy ())
    rounds: list[list[Evaluation]]  # evaluations, round by round
    prompts: list[list[dict]]  # the messages of every round (what an LLM agent is sent)
    events: list[str]  # agent repairs, retries and fallbacks

    @property
    def evaluations(self) -> list[Evaluation]:
        return [e for round_ in self.rounds for e in round_]

    @property
    def best(self) -> Evaluation:
        """The best evaluated strategy (the first one on ties)."""
        return max(self.evaluations, key=lambda e: e.accuracy)

    def gains(self) -> list[tuple[Strategy, float]]:
        return [(e.strategy, e.accuracy - self.baseline.accuracy) for e in self.evaluations]

    def counters(self, round_: int | None = None) -> crm.Counters:
        """Work of one round (or of the whole search, the baseline included)."""
        chosen = self.rounds[round_] if round_ is not None else [self.baseline, *self.evaluations]
        total = crm.Counters()
        for e in chosen:
            total = total.add(e.counters)
        return total


def evaluate_all(ctx: RunContext, strategies: list[Strategy], setup: Setup, label: str) -> list[Evaluation]:
    """Evaluate strategies as one fan-out (the K of a round, or the 65 of the oracle)."""
    return ctx.map(evaluate, list(strategies), name=f"autodp-{label}", shared=setup)


def search(ctx: RunContext, agent, setup: Setup, stats: dict, label: str) -> SearchResult:
    """Rounds until the budget (search.rounds x K) is spent, or until the best s has gained less than
    search.stop_gain for two rounds (when stop_gain > 0)."""
    cfg = setup.cfg
    baseline = evaluate_all(ctx, [()], setup, f"{label}-baseline")[0]
    result = SearchResult(baseline, [], [], [])
    stalled, best = 0, -1.0
    for index in range(cfg.search.rounds):
        history = result.gains()
        messages = render(
            cfg.data.description, cfg.teams, stats, history, cfg.search.candidates, index, setup.seed
        )
        strategies, events = agent.propose(Round(index, cfg.search.candidates, history, messages))
        result.prompts.append(messages)
        result.events += events
        if not strategies:
            break
        result.rounds.append(evaluate_all(ctx, strategies, setup, f"{label}-round{index}"))
        top = max(e.accuracy for e in result.rounds[-1]) - baseline.accuracy
        log.info(
            "autodp %s round %d: %s",
            label,
            index,
            ", ".join(f"{name(e.strategy)} {e.accuracy:.3f}" for e in result.rounds[-1]),
        )
        stalled = stalled + 1 if top < best + cfg.search.stop_gain else 0
        best = max(best, top)
        if cfg.search.stop_gain > 0 and stalled >= 2:
            break
    return result
