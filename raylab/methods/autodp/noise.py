"""Typed noise injected into the training rows: each type hits its own disjoint share of
the original rows (duplicates add copies); the type is kept on the sample as hidden truth."""

from __future__ import annotations

import dataclasses

import numpy as np

from raylab.methods.autodp.data import NOISE_TYPES, Dataset, Sample

SPECIALS = "#@$%^&*~|<>{}[]"
HTML_WRAPS = ("<p>{}</p>", '<div class="q"><b>{}</b></div>', "<span>{}</span>&nbsp;", "<li><i>{}</i></li>")


def _near_duplicate(text: str, rng: np.random.Generator) -> str:
    """A small edit: one word repeated or two adjacent words swapped (Jaccard stays high)."""
    words = text.split()
    if len(words) < 3:
        return text + " " + text
    i = int(rng.integers(len(words) - 1))
    if rng.random() < 0.5:
        words[i], words[i + 1] = words[i + 1], words[i]
    else:
        words.insert(i, words[i])
    return " ".join(words)


def _garbage(text: str, rng: np.random.Generator) -> str:
    """Half special-character spam, half a repeated phrase (what the two filters look for)."""
    if rng.random() < 0.5:
        junk = "".join(rng.choice(list(SPECIALS), size=max(12, len(text))))
        return " ".join(a + b for a, b in zip(text.split(), junk.split() or [junk])) + " " + junk
    words = text.split()[:3]
    return " ".join(words * 6)


def _wrong(sample: Sample, outputs: list[str], rng: np.random.Generator) -> str:
    choices = [o for o in outputs if o != sample.output]
    return choices[int(rng.integers(len(choices)))] if choices else sample.output


def corrupt(sample: Sample, kind: str, task: str, outputs: list[str], rng: np.random.Generator) -> Sample:
    """The sample with noise `kind` (inputs and outputs as an SFT set would carry it)."""
    x, y = sample.input, sample.output
    if kind == "html":
        x = HTML_WRAPS[int(rng.integers(len(HTML_WRAPS)))].format(x.replace("&", "&amp;"))
        if task == "qa":  # an answer with markup teaches the model to emit markup
            y = HTML_WRAPS[int(rng.integers(len(HTML_WRAPS)))].format(y)
    elif kind == "garbage":
        x = _garbage(x, rng)
    elif kind == "truncated":
        if task == "qa":
            y = y[: int(rng.integers(2))]  # empty or one character
        else:
            x = " ".join(x.split()[:2])
    elif kind == "wrong":
        y = _wrong(sample, outputs, rng)
    elif kind == "missing_input":
        x = ""
    elif kind == "near_duplicate":
        x = _near_duplicate(x, rng)
    return dataclasses.replace(sample, input=x, output=y, bad=kind)


def inject(data: Dataset, rates: dict[str, float], seed: int) -> Dataset:
    """Apply `rates` (fraction of the original training rows per type) with one seeded stream.
    Wrong outputs are drawn among the outputs of the same relation (QA) or the other labels (cls)."""
    unknown = set(rates) - set(NOISE_TYPES)
    if unknown:
        raise ValueError(f"data.noise: unknown noise types {sorted(unknown)}; known: {list(NOISE_TYPES)}")
    rng = np.random.default_rng(seed)
    rows = list(data.train)
    n = len(rows)
    counts = {kind: int(round(rates.get(kind, 0.0) * n)) for kind in NOISE_TYPES}
    in_place = [k for k in NOISE_TYPES if k not in ("duplicate", "near_duplicate")]
    if sum(counts[k] for k in in_place) > n:
        raise ValueError("data.noise: the in-place noise rates add up to more than 1")
    order = rng.permutation(n)
    by_relation = _outputs_by_group(data)
    start = 0
    for kind in in_place:
        for i in order[start : start + counts[kind]]:
            rows[i] = corrupt(rows[i], kind, data.task, by_relation(rows[i]), rng)
        start += counts[kind]
    extra = []
    for kind in ("duplicate", "near_duplicate"):
        for j, i in enumerate(rng.choice(n, counts[kind], replace=False) if counts[kind] else []):
            copy = dataclasses.replace(rows[i], id=f"{rows[i].id}{kind[0]}{j}", bad=kind)
            extra.append(copy if kind == "duplicate" else corrupt(copy, kind, data.task, [], rng))
    merged = rows + extra
    positions = rng.permutation(len(merged))  # copies are not all at the end
    return dataclasses.replace(data, train=tuple(merged[p] for p in positions))


def _outputs_by_group(data: Dataset):
    """Outputs a wrong answer is drawn from: the same relation's answers (QA), the other labels (cls)."""
    if data.task == "cls":
        labels = sorted({s.output for s in data.train})
        return lambda sample: labels
    groups: dict[str, list[str]] = {}
    for s in data.train:
        groups.setdefault(_relation(s.input), []).append(s.output)
    return lambda sample: groups[_relation(sample.input)]


def _relation(question: str) -> str:
    """The relation phrase of a templated question ('capital', 'plural', ...)."""
    for marker in (" the ", " its "):
        if marker in question:
            return question.split(marker, 1)[1].split(" of ")[0].split(" is ")[0]
    return ""
