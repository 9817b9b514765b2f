"""index.html beside REPORT.md: the same content, with every plot inlined (one file to open or mail).

REPORT.md uses a small markdown subset (headings, paragraphs, pipe tables, `code`, **bold**, links
and images); this renders exactly that subset, through Jinja2 so that every text is escaped.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import jinja2

HTML_FILE = "index.html"
_PAGE = jinja2.Environment(autoescape=False).from_string(
    """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ title|e }}</title>
<style>
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
img { max-width: 100%; } code { background: #f4f4f4; }
</style></head><body>
{% for block in blocks %}{{ block }}
{% endfor %}</body></html>
"""
)


def _inline(text: str, base: Path) -> str:
    """Escaped text with `code`, **bold**, images (inlined as data URIs) and links."""
    out = html.escape(text, quote=False).replace("\\|", "|")
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", lambda m: _image(m.group(1), base / m.group(2)), out)
    return re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', out)


def _image(alt: str, path: Path) -> str:
    if not path.is_file():
        return f"[missing image {html.escape(alt)}]"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def render(markdown: str, base: Path, title: str) -> str:
    """HTML for REPORT.md's text; relative image paths are read from `base`."""
    blocks, table = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            head, rows = _cells(table[0]), [_cells(r) for r in table[2:]]
            cells = "".join(f"<th>{_inline(c, base)}</th>" for c in head)
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline(c, base)}</td>" for c in r) + "</tr>" for r in rows
            )
            blocks.append(f"<table><tr>{cells}</tr>{body}</table>")
            table = []
        heading = re.match(r"(#{1,4}) (.*)", line)
        if heading:
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{_inline(heading.group(2), base)}</h{level}>")
        elif line.strip():
            blocks.append(f"<p>{_inline(line, base)}</p>")
    return _PAGE.render(title=title, blocks=blocks)


def write_html(report_md: Path) -> Path:
    """Write index.html beside `report_md`."""
    text = report_md.read_text()
    title = text.splitlines()[0].lstrip("# ") if text else "raylab report"
    out = report_md.parent / HTML_FILE
    out.write_text(render(text, report_md.parent, title))
    return out
