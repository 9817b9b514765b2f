"""Configuration of the LLM-AutoDP runs . Values the paper does not state (K, rounds,
sample ratio, classifier, cache design, noise mix) are our reconstruction [R] (README, "Deviations")."""

from __future__ import annotations

import dataclasses
from typing import Literal

from raylab.config import require_positive
from raylab.methods.autodp.data import NOISE_TYPES


def _default_noise() -> dict[str, float]:
    """Injected noise shares: 30 % of rows in all; wrong answers are the noise that hurts most."""
    return dict(zip(NOISE_TYPES, (0.05, 0.05, 0.05, 0.03, 0.05, 0.07, 0.02)))


@dataclasses.dataclass
class DataConfig:
    source: Literal["fact_qa", "bbc_news", "jsonl"] = "fact_qa"  # built-in set, or a user's JSONL
    path: str = ""  # source jsonl: the user's file of {question, answer} or {text, label} records
    max_items: int = 0  # facts (fact_qa) / articles (bbc_news) to use; 0 = all
    test_fraction: float = 0.2  # held-out share (bbc_news, jsonl); fact_qa tests every fact once
    inject_noise: bool = True  # add the typed noise below (turn off for real data)
    noise: dict[str, float] = dataclasses.field(default_factory=_default_noise)  # type -> share of rows
    description: str = (
        "Fine-tune a model to answer short factual questions with one word."  # agent's task text
    )

    def __post_init__(self):
        if self.source == "jsonl" and not self.path:
            raise ValueError("data.path must name a JSONL file when data.source is 'jsonl'")
        if not 0 < self.test_fraction < 1:
            raise ValueError("data.test_fraction must be in (0, 1)")


@dataclasses.dataclass
class SearchConfig:
    agent: Literal["offline", "llm"] = "offline"  # who proposes strategies (llm: the OpenAI endpoint)
    candidates: int = 4  # K: strategies evaluated per round (in parallel on Ray)
    rounds: int = 4  # T: rounds at most (K x T = 16 evaluations: the claims' budget)
    stop_gain: float = 0.0  # stop early when the best s improved by < this for 2 rounds (accuracy); 0 = never
    exploration: float = 0.5  # offline agent: UCB weight on the least-squares model's uncertainty
    random_repeats: int = 20  # equal-budget random searches per replicate (drawn from the oracle table)

    def __post_init__(self):
        require_positive(**{"search.candidates": self.candidates})
        if self.rounds < 2:
            raise ValueError("search.rounds must be >= 2 (round 2 is where the cache's reuse is measured)")


@dataclasses.dataclass
class LLMConfig:
    base_url: str = ""  # OpenAI-compatible endpoint; "" = OPENAI_BASE_URL, else no endpoint
    model: str = "gpt-4o-mini"  # model name sent to the endpoint
    api_key_file: str = ""  # file holding the API key; "" = the OPENAI_API_KEY environment variable
    timeout_s: float = 30.0  # per request, seconds
    max_retries: int = 2  # client retries with back-off (rate limits are waited out)
    operators_use_endpoint: bool = False  # LLM operators call the endpoint (else the simulated rewriter)
    accuracy: float = 0.8  # simulated rewriter: probability it fixes a wrong output / writes a right input
    hallucination: float = 0.1  # simulated rewriter: probability it breaks a correct output
    call_cost: float = 50.0  # cost units per LLM call (a cleaning operator costs 1 per row)

    def __post_init__(self):
        if not (0 <= self.accuracy <= 1 and 0 <= self.hallucination <= 1):
            raise ValueError("llm.accuracy and llm.hallucination must be probabilities")


@dataclasses.dataclass
class AccelConfig:
    sample_fraction: float = 0.2  # distribution-preserving sampling: share of rows searched on
    clusters: int = 8  # DPS: k-means clusters of the TF-IDF + SVD embeddings (strata x quality label)
    labelled: int = 200  # PTS: labelled seed rows the quality classifier is trained on
    threshold: float = 0.5  # PTS: flag a row when P(low quality) >= this
    cache: bool = True  # cache-and-reuse of strategy prefixes and LLM rewrites

    def __post_init__(self):
        if not 0 < self.sample_fraction <= 1 or not 0 < self.threshold < 1:
            raise ValueError("accel.sample_fraction must be in (0, 1], accel.threshold in (0, 1)")


@dataclasses.dataclass
class ProxyConfig:
    features: Literal["char", "word"] = "char"  # hashed character 3-5-grams or word 1-2-grams of the input
    n_features: int = 262144  # hash buckets
    alpha: float = 0.01  # naive Bayes smoothing
    train_cost: float = 1.0  # cost units per training row per evaluation


@dataclasses.dataclass
class AutoDPConfig:
    seed: int = 0  # run seed; replicate i derives every stream from derive_seed(seed, "replicate", i)
    replicates: int = 5  # independent noise draws and searches (claims count seeds among them)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)  # the fine-tuning set
    search: SearchConfig = dataclasses.field(default_factory=SearchConfig)  # agent and budget
    llm: LLMConfig = dataclasses.field(default_factory=LLMConfig)  # endpoint and simulated rewriter
    accel: AccelConfig = dataclasses.field(default_factory=AccelConfig)  # DPS, PTS, cache-and-reuse
    proxy: ProxyConfig = dataclasses.field(default_factory=ProxyConfig)  # downstream model
    teams: dict[str, list[str]] = dataclasses.field(  # team -> its operators, in order (fixed: the 65 space)
        default_factory=lambda: {
            "cleaning": [
                "clean_html_mapper",
                "special_characters_filter",
                "word_repetition_filter",
                "text_length_filter",
                "document_deduplicator",
                "document_minhash_deduplicator",
            ],
            "selection": ["model_confidence_selector"],
            "optimization": ["optimize_qa_mapper"],
            "generation": ["generate_missing_query_mapper"],
        }
    )

    def __post_init__(self):
        require_positive(replicates=self.replicates)
        from raylab.methods.autodp.operators import OPERATORS

        unknown = [op for ops in self.teams.values() for op in ops if op not in OPERATORS]
        if unknown or set(self.teams) != {"cleaning", "selection", "optimization", "generation"}:
            raise ValueError(f"teams: the four teams with known operators (unknown: {unknown})")
