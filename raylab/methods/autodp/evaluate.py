"""Evaluating a strategy: run its operators on the rows (reusing cached prefixes),
train the proxy model on the result, score it on the clean held-out split.

`Setup` is what every evaluation of one search shares (shipped once per map); `evaluate` is the
fan-out item, the same function serially and on Ray actors.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cached_property

import numpy as np
from scipy import stats

from raylab.methods.autodp import cache as crm
from raylab.methods.autodp.config import AutoDPConfig
from raylab.methods.autodp.data import Dataset, Sample
from raylab.methods.autodp.llm import EndpointRewriter, SimulatedRewriter
from raylab.methods.autodp.model import Featurizer, ProxyModel
from raylab.methods.autodp.operators import OPERATORS
from raylab.methods.autodp.strategy import Strategy, steps


@dataclasses.dataclass(frozen=True)
class Setup:
    """Rows to process, the test split, the knowledge of the simulated LLM and the switches."""

    cfg: AutoDPConfig
    data: Dataset  # train = the rows searched on (the DPS sample or the full set)
    seed: int  # the replicate's seed (simulated LLM draws)
    targets: frozenset | None = None  # PTS: ids LLM operators may touch; None = every row
    cache_dir: str = ""  # "" = no cache

    @cached_property
    def data_fp(self) -> str:
        return crm.rows_fingerprint(self.data.train)

    @cached_property
    def featurizer(self) -> Featurizer:
        """The proxy's features, memoised per text (one per process: Ray ships a copy to each actor)."""
        return Featurizer(self.cfg.proxy.features, self.cfg.proxy.n_features)

    @property
    def targets_fp(self) -> str:
        return "all" if self.targets is None else crm.sha(*sorted(self.targets))


@dataclasses.dataclass
class Evaluation:
    strategy: Strategy
    accuracy: float
    correct: np.ndarray  # per test item, 0/1
    counters: crm.Counters
    rows: int  # rows after processing
    rows_fp: str  # content hash of the processed rows


class Processor:
    """The environment operators see (`env`): LLM calls with the memo and the PTS targets."""

    def __init__(self, setup: Setup, store: crm.Store | None, counters: crm.Counters):
        self.setup, self.store, self.counters = setup, store, counters
        llm = setup.cfg.llm
        if llm.operators_use_endpoint:
            self.llm: EndpointRewriter | SimulatedRewriter = EndpointRewriter(llm, setup.cfg.data.description)
        else:
            self.llm = SimulatedRewriter(setup.data, llm.accuracy, llm.hallucination, setup.seed)

    def targets(self, sample: Sample) -> bool:
        return self.setup.targets is None or sample.id in self.setup.targets

    def llm_call(self, op: str, sample: Sample, params: dict) -> Sample:
        key = crm.memo_key(op, params, self.llm.fingerprint, sample) if self.store else ""
        cached = self.store.get(key) if self.store else None
        if cached is not None:
            self.counters.memo_hits += 1
            return cached
        self.counters.llm_calls += 1
        if op == "generate_missing_query_mapper":
            result = dataclasses.replace(sample, input=self.llm.write_input(sample))
        else:
            result = dataclasses.replace(sample, output=self.llm.rewrite_output(sample))
        if self.store:
            self.store.put(key, result)
        return result

    def run(self, strategy: Strategy) -> list[Sample]:
        """The strategy's output rows, from the longest cached prefix on."""
        plan = steps(strategy, self.setup.cfg.teams)
        llm_ops = {name for name, op in OPERATORS.items() if op.uses_llm}
        keys = crm.prefix_keys(self.setup.data_fp, plan, self.llm.fingerprint, self.setup.targets_fp, llm_ops)
        start, rows = 0, list(self.setup.data.train)
        if self.store:
            start = next((i + 1 for i in reversed(range(len(keys))) if self.store.has(keys[i])), 0)
            if start:
                rows = self.store.get(keys[start - 1])
                self.counters.steps_reused += start
        for (op, params), key in zip(plan[start:], keys[start:]):
            self.counters.op_runs += 1
            self.counters.op_rows += len(rows)
            rows = OPERATORS[op].fn(rows, params, self)
            if self.store:
                self.store.put(key, rows)
        return rows


def train_and_score(rows: list[Sample], setup: Setup, counters: crm.Counters) -> np.ndarray:
    """Per test item 0/1 of the proxy model trained on `rows` (an empty set predicts nothing right)."""
    test = setup.data.test
    counters.evaluations += 1
    counters.train_rows += len(rows)
    if not rows:
        return np.zeros(len(test), dtype=np.int8)
    model = ProxyModel(setup.featurizer, setup.cfg.proxy.alpha).fit(
        [s.input for s in rows], [s.output for s in rows]
    )
    return model.correct([s.input for s in test], [s.output for s in test]).astype(np.int8)


def evaluate(strategy: Strategy, shared: Setup) -> Evaluation:
    """Fan-out item: process, train, score."""
    counters = crm.Counters()
    store = crm.Store(shared.cache_dir) if shared.cache_dir else None
    rows = Processor(shared, store, counters).run(tuple(strategy))
    correct = train_and_score(rows, shared, counters)
    return Evaluation(
        tuple(strategy), float(correct.mean()), correct, counters, len(rows), crm.rows_fingerprint(rows)
    )


def win_rate(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Pairwise comparison on the held-out items: win = A right and B wrong, loss = the
    reverse; rate = wins / (wins + losses), with the two-sided sign-test p-value and the tie rate.
    With no decisive item the rate is undefined (NaN), so every claim built on it fails."""
    wins, losses = int(np.sum((a == 1) & (b == 0))), int(np.sum((a == 0) & (b == 1)))
    decisive = wins + losses
    return {
        "win_rate": wins / decisive if decisive else math.nan,
        "sign_p": float(stats.binomtest(wins, decisive, 0.5).pvalue) if decisive else 1.0,
        "ties": 1 - decisive / len(a),
        "acc_gain": float(a.mean() - b.mean()),
    }
