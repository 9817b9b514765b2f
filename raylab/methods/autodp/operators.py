"""The operators, named like data-juicer's, grouped into the paper's four teams (its
Table 1, as we reconstruct it).

Each operator is `fn(rows, params, env) -> rows` over `Sample`s, deterministic given its inputs. LLM
operators (optimization, generation) run only on the rows `env.targets` flags (processing-target
selection) and go through `env.llm` (the endpoint or the simulated rewriter) with a per-sample memo.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
from collections.abc import Callable

import numpy as np

from raylab.methods.autodp.model import neighbour_agreement

TAG = re.compile(r"<[^>]+>")
WORD = re.compile(r"\w+")


@dataclasses.dataclass(frozen=True)
class Operator:
    name: str
    team: str
    fn: Callable
    defaults: dict
    doc: str
    uses_llm: bool = False
    version: int = 1  # bump when the operator's output changes: every cache key that used it misses


def clean_html_mapper(rows, params, env):
    """Strip markup and unescape entities in both fields (answers too: markup in a label is noise)."""

    def clean(text: str) -> str:
        return " ".join(html.unescape(TAG.sub(" ", text)).split())

    return [dataclasses.replace(s, input=clean(s.input), output=clean(s.output)) for s in rows]


def special_characters_filter(rows, params, env):
    """Drop rows whose input has more than `max_ratio` characters that are neither alphanumeric,
    whitespace nor common punctuation."""
    plain = set(" .,;:?!'\"()-/")

    def ratio(text: str) -> float:
        return sum(not (c.isalnum() or c in plain) for c in text) / max(1, len(text))

    return [s for s in rows if ratio(s.input) <= params["max_ratio"]]


def word_repetition_filter(rows, params, env):
    """Drop rows whose word `rep_len`-grams repeat: fraction of repeated n-grams > `max_ratio`."""

    def ratio(text: str) -> float:
        words = text.lower().split()
        grams = [tuple(words[i : i + params["rep_len"]]) for i in range(len(words) - params["rep_len"] + 1)]
        return 1 - len(set(grams)) / len(grams) if grams else 0.0

    return [s for s in rows if ratio(s.input) <= params["max_ratio"]]


def text_length_filter(rows, params, env):
    """Drop rows with fewer than `min_input_words` input words or `min_output_chars` output characters."""
    return [
        s
        for s in rows
        if len(s.input.split()) >= params["min_input_words"]
        and len(s.output.strip()) >= params["min_output_chars"]
    ]


def document_deduplicator(rows, params, env):
    """Exact duplicates of (input, output), compared lowercased with whitespace collapsed; first kept."""
    seen, kept = set(), []
    for s in rows:
        key = (
            " ".join(f"{s.input}\x1f{s.output}".lower().split())
            if params["lowercase"]
            else s.input + s.output
        )
        if key not in seen:
            seen.add(key)
            kept.append(s)
    return kept


def document_minhash_deduplicator(rows, params, env):
    """Near duplicates by MinHash-LSH over character shingles of input + output: rows whose estimated
    Jaccard similarity with an earlier kept row is >= `jaccard_threshold` are dropped."""
    perms = np.random.default_rng(1).integers(1, PRIME, (2, params["num_permutations"]), dtype=np.uint64)
    signatures = np.array(
        [_minhash(f"{s.input} || {s.output}".lower(), params["window_size"], perms) for s in rows]
    )
    width = params["rows_per_band"]
    buckets: dict = {}
    kept = []
    for i, signature in enumerate(signatures):
        keys = [(b, signature[b * width : (b + 1) * width].tobytes()) for b in range(len(signature) // width)]
        candidates = sorted({j for key in keys for j in buckets.get(key, ())})
        agreement = (signatures[candidates] == signature).mean(axis=1)  # estimated Jaccard similarity
        if (agreement >= params["jaccard_threshold"]).any():
            continue
        kept.append(rows[i])
        for key in keys:
            buckets.setdefault(key, []).append(i)
    return kept


PRIME = (1 << 31) - 1


def _minhash(text: str, width: int, perms: np.ndarray) -> np.ndarray:
    """MinHash signature: min over shingles h of (a h + b) mod p, for the fixed seeded (a, b) pairs
    (the permutations are part of the operator, not of a run)."""
    shingles = {text[i : i + width] for i in range(max(1, len(text) - width + 1))}
    digest = lambda s: int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little") % PRIME  # noqa: E731
    hashes = np.array([digest(s) for s in shingles], dtype=np.uint64)
    return ((np.outer(hashes, perms[0]) + perms[1]) % np.uint64(PRIME)).min(axis=0)


def optimize_qa_mapper(rows, params, env):
    """LLM rewrite of the output (answer / label) of each targeted row that has an input."""
    return [env.llm_call("optimize_qa_mapper", s, params) if s.input and env.targets(s) else s for s in rows]


def generate_missing_query_mapper(rows, params, env):
    """LLM synthesis of a missing input (question / text) from the output, for targeted rows whose
    input has fewer than `min_words` words."""
    return [
        env.llm_call("generate_missing_query_mapper", s, params)
        if len(s.input.split()) < params["min_words"] and env.targets(s)
        else s
        for s in rows
    ]


# DEVIATION: [R] the paper names gradient- or confidence-based selection; the kNN model is ours.
def model_confidence_selector(rows, params, env):
    """Confidence selection: drop the `drop_fraction` of rows whose output a leave-one-out
    k-nearest-neighbour model (`neighbours` most similar inputs) is least confident in."""
    if len(rows) <= params["neighbours"]:
        return list(rows)
    confidence = neighbour_agreement([s.input for s in rows], [s.output for s in rows], params["neighbours"])
    drop = set(np.argsort(confidence, kind="stable")[: int(params["drop_fraction"] * len(rows))].tolist())
    return [s for i, s in enumerate(rows) if i not in drop]


OPERATORS = {
    op.name: op
    for op in (
        Operator("clean_html_mapper", "cleaning", clean_html_mapper, {}, "remove HTML tags and entities"),
        Operator(
            "special_characters_filter",
            "cleaning",
            special_characters_filter,
            {"max_ratio": 0.25},
            "drop rows dominated by special characters",
        ),
        Operator(
            "word_repetition_filter",
            "cleaning",
            word_repetition_filter,
            {"rep_len": 2, "max_ratio": 0.4},
            "drop rows with repeated word n-grams",
        ),
        Operator(
            "text_length_filter",
            "cleaning",
            text_length_filter,
            {"min_input_words": 4, "min_output_chars": 2},
            "drop too-short inputs or outputs",
        ),
        Operator(
            "document_deduplicator",
            "cleaning",
            document_deduplicator,
            {"lowercase": True},
            "drop exact duplicates",
        ),
        Operator(
            "document_minhash_deduplicator",
            "cleaning",
            document_minhash_deduplicator,
            {"jaccard_threshold": 0.8, "num_permutations": 64, "rows_per_band": 4, "window_size": 5},
            "drop near-duplicates (MinHash-LSH)",
        ),
        Operator(
            "optimize_qa_mapper",
            "optimization",
            optimize_qa_mapper,
            {},
            "LLM rewrites the answer for correctness",
            uses_llm=True,
        ),
        Operator(
            "generate_missing_query_mapper",
            "generation",
            generate_missing_query_mapper,
            {"min_words": 2},
            "LLM writes a missing question / text",
            uses_llm=True,
        ),
        Operator(
            "model_confidence_selector",
            "selection",
            model_confidence_selector,
            {"neighbours": 3, "drop_fraction": 0.1},
            "drop the rows a nearest-neighbour model is least confident in",
        ),
    )
}
