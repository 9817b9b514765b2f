"""LLM access: the endpoint (official `openai` client) and the simulated rewriter used offline.

The API key comes from `llm.api_key_file` or the OPENAI_API_KEY environment variable, never from a
config value; it is handed to the client and never logged or written.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from raylab import RaylabError
from raylab.methods.autodp.config import LLMConfig
from raylab.methods.autodp.data import Dataset, Sample
from raylab.seeding import derive_seed

log = logging.getLogger("raylab")


def endpoint_url(cfg: LLMConfig) -> str:
    """The configured endpoint, else OPENAI_BASE_URL, else "" (no endpoint: offline agent)."""
    return cfg.base_url or os.environ.get("OPENAI_BASE_URL", "")


def api_key(cfg: LLMConfig) -> str:
    if cfg.api_key_file:
        path = Path(cfg.api_key_file).expanduser()
        if not path.is_file():
            raise RaylabError(f"llm.api_key_file {path} does not exist")
        return path.read_text().strip()
    key = os.environ.get("OPENAI_API_KEY", "")
    if not key:
        raise RaylabError("an LLM endpoint is configured but no key: set OPENAI_API_KEY or llm.api_key_file")
    return key


def make_client(cfg: LLMConfig):
    """An `openai.OpenAI` client with bounded retries (429s and timeouts are retried with back-off)."""
    from openai import OpenAI

    return OpenAI(
        base_url=endpoint_url(cfg), api_key=api_key(cfg), timeout=cfg.timeout_s, max_retries=cfg.max_retries
    )


def chat(client, model: str, messages: list[dict]) -> str:
    """One chat completion asking for a JSON object; the reply text."""
    reply = client.chat.completions.create(
        model=model, messages=messages, temperature=0, response_format={"type": "json_object"}
    )
    return reply.choices[0].message.content or ""


# DEVIATION: [R] offline, LLM operators are simulated; the hidden fact id stands in for
# an LLM's world knowledge.
class SimulatedRewriter:
    """An LLM stand-in backed by the generator's knowledge: it fixes a wrong output with
    probability `accuracy`, breaks a right one with probability `hallucination`, and writes a missing
    input correctly with probability `accuracy`. Each call is seeded by (seed, operator, sample), so
    a rewrite is the same on every worker and in every run. Rows of unknown provenance (user data)
    are returned unchanged: without an endpoint there is no knowledge to rewrite them with."""

    def __init__(self, data: Dataset, accuracy: float, hallucination: float, seed: int):
        self.truth, self.questions = data.truth, data.questions
        self.accuracy, self.hallucination, self.seed = accuracy, hallucination, seed
        self.fingerprint = json.dumps(["simulated", accuracy, hallucination, seed, len(self.truth)])

    def _draws(self, op: str, sample: Sample) -> np.random.Generator:
        return np.random.default_rng(
            derive_seed(self.seed, "llm", op, sample.input, sample.output, sample.fact)
        )

    def rewrite_output(self, sample: Sample) -> str:
        if sample.fact < 0 or not self.truth:
            return sample.output
        rng, truth = self._draws("output", sample), self.truth[sample.fact]
        if sample.output != truth:
            return truth if rng.random() < self.accuracy else sample.output
        if rng.random() < self.hallucination:
            return self.truth[(sample.fact + 1 + int(rng.integers(len(self.truth) - 1))) % len(self.truth)]
        return sample.output

    def write_input(self, sample: Sample) -> str:
        if sample.fact < 0 or not self.questions:
            return sample.input
        rng = self._draws("input", sample)
        if rng.random() < self.accuracy:
            return self.questions[sample.fact]
        return self.questions[
            (sample.fact + 1 + int(rng.integers(len(self.questions) - 1))) % len(self.questions)
        ]


class EndpointRewriter:
    """Operator calls to the configured endpoint; a failed call keeps the sample and is logged."""

    def __init__(self, cfg: LLMConfig, task: str):
        self.client, self.model, self.task = make_client(cfg), cfg.model, task
        self.fingerprint = json.dumps(["endpoint", endpoint_url(cfg), cfg.model])

    def _ask(self, instruction: str, sample: Sample, field: str, fallback: str) -> str:
        messages = [
            {
                "role": "system",
                "content": f"You repair fine-tuning records ({self.task}). Reply with JSON "
                f'{{"{field}": "..."}} only.',
            },
            {
                "role": "user",
                "content": json.dumps(
                    {"instruction": instruction, "input": sample.input, "output": sample.output}
                ),
            },
        ]
        try:
            value = json.loads(chat(self.client, self.model, messages)).get(field)
        except Exception as exc:  # the endpoint is outside our control: keep the row, say why
            log.warning(
                "autodp: LLM operator call failed (%s: %s); the sample is kept", type(exc).__name__, exc
            )
            return fallback
        return value if isinstance(value, str) and value.strip() else fallback

    def rewrite_output(self, sample: Sample) -> str:
        return self._ask(
            "Correct the output for this input; keep it if it is right.", sample, "output", sample.output
        )

    def write_input(self, sample: Sample) -> str:
        return self._ask("Write the missing input for this output.", sample, "input", sample.input)
