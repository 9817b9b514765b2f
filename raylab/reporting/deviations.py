"""Deviation links: a method README's deviations section names the claims a deviation touches (claim
ids in backticks, e.g. `S3-c.specgd_cos`, or a prefix such as `B1.recovery` for `B1.recovery@t0.5`);
the report links each such claim to that section."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import raylab

_BACKTICKED = re.compile(r"`([A-Za-z0-9][\w.@+=-]*)`")


def readme(method: str) -> Path:
    return Path(raylab.__file__).parent / "methods" / method / "README.md"


def anchor(heading: str) -> str:
    """GitHub's anchor of a markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.lstrip("#").strip().lower())
    return text.replace(" ", "-")


@functools.cache
def deviations(method: str) -> tuple[str, frozenset[str]]:
    """(anchor of the README's deviations section, backticked names in it); ("", {}) if none."""
    path = readme(method)
    if not path.exists():
        return "", frozenset()
    lines = path.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"##+ deviations", line, re.I)), None)
    if start is None:
        return "", frozenset()
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"##? ", lines[i])), len(lines))
    names = {m.group(1) for line in lines[start + 1 : end] for m in _BACKTICKED.finditer(line)}
    return anchor(lines[start]), frozenset(names)


def touches(claim_id: str, names: frozenset[str]) -> bool:
    """Whether a backticked name refers to this claim: the id itself, or a prefix ending where the id
    continues with `@` or `.` (`B4` does not name `B4x`)."""
    return claim_id in names or any(
        claim_id.startswith(name) and claim_id[len(name)] in "@."
        for name in names
        if len(name) < len(claim_id)
    )
