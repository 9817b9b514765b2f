"""index.html beside REPORT.md: the same content, with every plot inlined (one file to open or mail).

The Markdown is rendered by markdown-it-py (CommonMark plus GitHub's pipe tables) with raw HTML off
and its link validation on: records may come from shared storage that others write, so no text of
theirs becomes markup, an attribute or a `javascript:` link. Images are read from the report's folder
and inlined as PNG data URIs.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markdown_it import MarkdownIt

if TYPE_CHECKING:
    from markdown_it.renderer import RendererProtocol
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

HTML_FILE = "index.html"
_PAGE = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
img { max-width: 100%; } code { background: #f4f4f4; }
</style></head><body>
{{ body|safe }}</body></html>
"""
)


def _parser(base: Path) -> MarkdownIt:
    """CommonMark + tables, raw HTML escaped, images inlined from `base` (a missing one is named)."""
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")

    def image(
        renderer: RendererProtocol, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[index]
        alt = html.escape(token.content)
        path = base / str(token.attrGet("src") or "")
        if not path.is_file():
            return f"[missing image {alt}]"
        data = base64.b64encode(path.read_bytes()).decode()
        return f'<img alt="{alt}" src="data:image/png;base64,{data}">'

    parser.add_render_rule("image", image)
    return parser


def render(markdown: str, base: Path, title: str) -> str:
    """HTML for REPORT.md's text; relative image paths are read from `base`."""
    return _PAGE.render(title=title, body=_parser(base).render(markdown))


def write_html(report_md: Path) -> Path:
    """Write index.html beside `report_md`."""
    text = report_md.read_text()
    title = text.splitlines()[0].lstrip("# ") if text else "raylab report"
    out = report_md.parent / HTML_FILE
    out.write_text(render(text, report_md.parent, title))
    return out
