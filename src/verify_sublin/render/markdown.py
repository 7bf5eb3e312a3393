"""Markdown and HTML of the report: blocks to Markdown (every table cell escaped in one
place, `md_cell`), Markdown to a self-contained HTML page with markdown-it-py.

The report is a list of *blocks*:

* ``("h1", text)``, ``("h2", text)`` and ``("h3", text)``: headings; the anchor of a
  heading is `anchor(text)` (GitHub's rule, so links work in report.md on GitHub too);
* ``("p", markdown)``: a paragraph, or several, or a list (Markdown source);
* ``("table", header, rows)``: a table from structured rows;
* ``("lines", details)``: a verdict's details, paragraphs (str) and `Table` objects;
* ``("img", filename, caption)``: a figure beside report.md.

report.html is the same Markdown rendered by markdown-it-py (CommonMark with tables, raw
HTML off), with heading ids, verdict cells coloured by verdict (the word stays) and the
figures inlined as base64 PNG, so the page references nothing on the network. Cost:
O(size of the text).
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from markdown_it import MarkdownIt

from ..ledger.entry import Table

__all__ = ["VERDICT_STYLES", "anchor", "md_cell", "md_table", "to_html", "to_markdown",
           "verdict_word"]


#: verdict word -> (CSS class, background colour) for the coloured verdict cells; the
#: word is always printed, the colour only helps. Words of other ledgers pass through.
VERDICT_STYLES = {
    "holds": ("v-holds", "#d4edda"),
    "consistent": ("v-holds", "#d4edda"),
    "holds-with-caveat": ("v-caveat", "#fff3cd"),
    "answer": ("v-answer", "#d6e9f8"),
    "inconclusive": ("v-inconclusive", "#e8e8e8"),
    "untestable": ("v-untestable", "#f1f1f1"),
    "not tested": ("v-untestable", "#f1f1f1"),
    "fails": ("v-fails", "#f8d7da"),
    "inconsistent": ("v-fails", "#f8d7da"),
}

def anchor(text: str) -> str:
    """The anchor of a heading, by GitHub's rule (lower case, punctuation but '-' and
    '_' dropped, spaces to '-'), so that report.md's links also work on GitHub.

    >>> anchor("sparsity.init"), anchor("What these experiments can and cannot say")
    ('sparsityinit', 'what-these-experiments-can-and-cannot-say')
    """
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")

def verdict_word(cell: str) -> str | None:
    """The verdict a table cell states, if it starts with one ('**fails** (indicative)').

    >>> verdict_word("**not tested**"), verdict_word("**holds-with-caveat** (indicative)")
    ('not tested', 'holds-with-caveat')
    >>> verdict_word("2^12") is None
    True
    """
    text = re.sub(r"^\W+", "", cell.strip().lower())
    for word in sorted(VERDICT_STYLES, key=len, reverse=True):
        if text.startswith(word) and not text[len(word):len(word) + 1].isalnum():
            return word
    return None


def md_cell(text) -> str:
    """One table cell as Markdown: the one place where cells are escaped (a '|' would
    end the cell, a line break the row).

    >>> md_cell("mean |S_i|")
    'mean \\\\|S_i\\\\|'
    """
    return str(text).replace("\\|", "|").replace("|", "\\|").replace("\n", " ").strip()

def md_table(header, rows) -> str:
    """A GitHub-flavoured Markdown table from a header and rows of cells."""
    width = len(header)
    lines = ["| " + " | ".join(md_cell(c) for c in header) + " |",
             "|" + "---|" * width]
    for row in rows:
        cells = [md_cell(c) for c in row]
        if len(cells) != width:
            raise ValueError(f"a table row of {len(cells)} cells under a header of {width}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

def to_markdown(blocks: list[tuple]) -> str:
    """The report's Markdown: the blocks in order, a blank line between any two."""
    out = []
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + b[1])
        elif kind == "p":
            out.append(b[1].strip())
        elif kind == "table":
            out.append(md_table(b[1], b[2]))
        elif kind == "lines":
            for item in b[1]:
                if isinstance(item, Table):
                    out.append(md_table(item.header, item.rows))
                elif str(item).strip():
                    out.append(str(item).strip())
        elif kind == "img":
            out.append(f"![{_alt(b[2])}]({b[1]})\n\n*{b[2].strip()}*")
        else:
            raise ValueError(f"unknown report block {kind!r}")
    return "\n\n".join(out) + "\n"

def _alt(text: str) -> str:
    return re.sub(r"[\[\]*_`]", "", text).strip()

def markdown_it() -> MarkdownIt:
    """CommonMark with tables, raw HTML off (every '<' of a formula is text)."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")

    def ids_and_verdicts(state) -> None:
        tokens = state.tokens
        for i, tok in enumerate(tokens):
            if tok.type == "heading_open" and i + 1 < len(tokens):
                tok.attrSet("id", anchor(tokens[i + 1].content))
            elif tok.type == "td_open" and i + 1 < len(tokens):
                word = verdict_word(tokens[i + 1].content)
                if word:
                    tok.attrSet("class", VERDICT_STYLES[word][0])

    md.core.ruler.push("ids_and_verdicts", ids_and_verdicts)
    return md

_CSS = """body{font-family:sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
line-height:1.45;color:#222}table{border-collapse:collapse;margin:0.8em 0;font-size:0.85em}
td,th{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}img{max-width:100%}p>em:only-child{font-size:0.9em;color:#444}
code{background:#f3f3f3;padding:0 2px}h2{border-bottom:1px solid #ccc;margin-top:2em}
a{color:#0645ad}""" + "".join(
    f".{cls}{{background:{colour}}}" for cls, colour in dict(VERDICT_STYLES.values()).items())

def to_html(markdown: str, outdir: Path, title: str) -> str:
    """report.html: `markdown` rendered by markdown-it-py, figures inlined as base64."""
    md = markdown_it()

    def image(self, tokens, idx, options, env):
        tok = tokens[idx]
        src = tok.attrGet("src") or ""
        try:
            data = base64.b64encode((outdir / src).read_bytes()).decode("ascii")
        except OSError:
            return html.escape(f"(missing figure {src})")
        alt = html.escape(tok.content or "")
        return f'<img alt="{alt}" src="data:image/png;base64,{data}">'

    md.add_render_rule("image", image)
    body = md.render(markdown)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + body + "</body></html>\n")
