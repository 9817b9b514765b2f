"""Each operator on hand-made rows, and the simulated rewriter's economics."""

import dataclasses

import numpy as np

from raylab.methods.autodp import cache as crm
from raylab.methods.autodp.data import Sample
from raylab.methods.autodp.evaluate import Processor, Setup
from raylab.methods.autodp.llm import SimulatedRewriter
from raylab.methods.autodp.noise import inject
from raylab.methods.autodp.operators import OPERATORS

from .conftest import sample


def apply(op, rows, env=None, **params):
    return OPERATORS[op].fn(rows, {**OPERATORS[op].defaults, **params}, env)


def test_html_is_stripped_from_both_fields():
    row = sample(0, '<div class="q"><b>What is the capital of Peru?</b></div>', "<span>Lima</span>&nbsp;")
    (clean,) = apply("clean_html_mapper", [row])
    assert (clean.input, clean.output) == ("What is the capital of Peru?", "Lima")


def test_filters_drop_exactly_their_defect():
    good = sample(0, "What is the capital of Peru?", "Lima")
    assert apply("special_characters_filter", [good, sample(1, "W#h@a$t i%s ^&*~|<> {}[]", "Lima")]) == [good]
    assert apply(
        "word_repetition_filter", [good, sample(1, "the capital the capital the capital", "Lima")]
    ) == [good]
    assert apply("text_length_filter", [good, sample(1, "What is the capital of Peru?", "L")]) == [good]
    assert apply("text_length_filter", [good, sample(1, "", "Lima")]) == [good]


def test_deduplicators_keep_the_first_copy_and_distinct_facts():
    rows = [
        sample(0, "What is the plural of banana?", "bananas"),
        sample(1, "what is  the plural of banana?", "bananas"),  # exact after normalisation
        sample(2, "What is the the plural of banana?", "bananas"),  # near duplicate
        sample(3, "What is the plural of cherry?", "cherries"),
    ]
    assert [s.id for s in apply("document_deduplicator", rows)] == ["s0", "s2", "s3"]
    assert [s.id for s in apply("document_minhash_deduplicator", rows)] == ["s0", "s3"]


def test_minhash_similarity_estimates_jaccard():
    """MinHash collision rate is an unbiased estimate of shingle Jaccard: 256 permutations give a
    standard error sqrt(J(1-J)/256) <= 0.032, so 4 standard errors is 0.125."""
    from raylab.methods.autodp.operators import PRIME, _minhash

    a, b = "the quick brown fox jumps over the lazy dog", "the quick brown fox leaps over the lazy cat"
    shingles = lambda t: {t[i : i + 5] for i in range(len(t) - 4)}  # noqa: E731
    jaccard = len(shingles(a) & shingles(b)) / len(shingles(a) | shingles(b))
    perms = np.random.default_rng(0).integers(1, PRIME, (2, 256), dtype=np.uint64)
    estimate = np.mean(_minhash(a, 5, perms) == _minhash(b, 5, perms))
    assert abs(estimate - jaccard) <= 0.125


def test_simulated_rewriter_fixes_and_breaks_at_the_set_rates(facts):
    rows = [dataclasses.replace(s, output="wrong") for s in facts.train]
    fixer = SimulatedRewriter(facts, accuracy=0.8, hallucination=0.0, seed=0)
    fixed = np.mean([fixer.rewrite_output(s) == facts.truth[s.fact] for s in rows])
    # binomial: 180 rows, sd = sqrt(0.8 * 0.2 / 180) = 0.03; 4 sd
    assert abs(fixed - 0.8) <= 0.12
    breaker = SimulatedRewriter(facts, accuracy=1.0, hallucination=0.3, seed=0)
    broken = np.mean([breaker.rewrite_output(s) != s.output for s in facts.train])
    assert abs(broken - 0.3) <= 4 * np.sqrt(0.3 * 0.7 / len(facts.train))
    assert breaker.rewrite_output(Sample("u", "q?", "a")) == "a"  # no knowledge of user rows


def test_llm_operators_touch_only_targeted_rows(facts, cfg):
    noisy = inject(facts, {"wrong": 0.3}, seed=1)
    wrong = frozenset(s.id for s in noisy.train if s.bad == "wrong")
    cfg.llm.hallucination = 1.0  # any call on a good row would break it
    counters = crm.Counters()
    env = Processor(Setup(cfg, noisy, seed=0, targets=wrong), None, counters)
    out = apply("optimize_qa_mapper", list(noisy.train), env)
    assert counters.llm_calls == len(wrong)
    assert all(a == b for a, b in zip(out, noisy.train) if a.id not in wrong)


def test_generation_writes_missing_questions(facts, cfg):
    noisy = inject(facts, {"missing_input": 0.2}, seed=1)
    cfg.llm.accuracy = 1.0
    env = Processor(Setup(cfg, noisy, seed=0), None, crm.Counters())
    out = apply("generate_missing_query_mapper", list(noisy.train), env)
    assert all(s.input == facts.questions[s.fact] for s in out if s.bad == "missing_input")
    assert env.counters.llm_calls == sum(s.bad == "missing_input" for s in noisy.train)


def test_loss_selection_drops_the_configured_share(facts, cfg):
    env = Processor(Setup(cfg, facts, seed=0), None, crm.Counters())
    out = apply("model_confidence_selector", list(facts.train), env, drop_fraction=0.25)
    assert len(out) == len(facts.train) - int(0.25 * len(facts.train))
