"""Render the claims report (report.md and a self-contained report.html) from the store.

The report is built from stored runs only: re-rendering never recomputes. Every
number in it comes from a run the report describes (configuration, seed, commit,
machine); a claim whose runs were made by other package sources than the ones the
report is rendered with is marked.

The report is a list of *blocks* (`render_report` builds it, `_to_markdown` writes it):

* ``("h1", text)``, ``("h2", text)`` and ``("h3", text)``: headings; the anchor of a
  heading is `anchor(text)` (GitHub's rule, so links work in report.md on GitHub too);
* ``("p", markdown)``: a paragraph, or several, or a list (Markdown source);
* ``("table", header, rows)``: a table from structured rows; every cell is escaped
  in one place (`_md_cell`), so a cell holding ``|S_i|`` stays one cell;
* ``("lines", details)``: a verdict's details, paragraphs (str) and `Table` objects;
* ``("img", filename, caption)``: a figure beside report.md.

Blocks are separated by a blank line. report.html is the same Markdown rendered by
markdown-it-py (CommonMark with tables, raw HTML off), with heading ids, verdict cells
coloured by verdict (the word stays) and the figures inlined as base64 PNG, so the page
references nothing on the network. Figures are cached beside the report (figures.json),
keyed by the runs they draw and the plotting code, so a re-render of unchanged runs
draws nothing.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import json
import re
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from markdown_it import MarkdownIt

from ..bench.provenance import git_commit, machine_info, same_sources, versions
from ..bench.spec import RunRecord
from ..bench.store import ResultStore
from ..ledger.catalog import REFERENCES
from ..ledger.entry import KINDS, Table
from ..ledger.evaluate import evaluate
from ..ledger.plot import Plot
from ..ledger.registry import ENTRIES as CLAIMS
from ..ledger.registry import resolve as resolve_claims
from ..ledger.views import summary_views
from .figures import FigureCache

__all__ = ["PAPERS", "VERDICT_STYLES", "anchor", "reference_verdicts", "render_report"]

#: full references of the paper tags the ledger uses (the catalogue's, in one place)
PAPERS = {**REFERENCES,
          "RQ": "The reviewers' questions on [DHSWZ] (its public ICLR 2025 reviews): each is an "
                "experiment here."}

#: verdict word -> (CSS class, background colour) for the coloured verdict cells; the
#: word is always printed, the colour only helps. Words of other ledgers pass through.
VERDICT_STYLES = {
    "holds": ("v-holds", "#d4edda"),
    "consistent": ("v-holds", "#d4edda"),
    "holds-with-caveat": ("v-caveat", "#fff3cd"),
    "answer": ("v-answer", "#d6e9f8"),
    "inconclusive": ("v-inconclusive", "#e8e8e8"),
    "untestable": ("v-untestable", "#f1f1f1"),
    "fails": ("v-fails", "#f8d7da"),
    "inconsistent": ("v-fails", "#f8d7da"),
}

_LIMITS = """\
The theorems hold for widths
m = Omega(max(lambda^-4 n^4, lambda^-2 n^2 d log(16 n / rho))); with lambda ~ m^(-c/2)
this is astronomically large (the `width.requirement` row gives the number for the data
run here, as a power of two). Every experiment here runs at m <= 2^22.

So the verdicts test the claims' *mechanisms and trends at practical widths*:

- sparsity of the fire sets,
- exactness of the data structure,
- per-step contraction,
- growth of the cost per iteration in m, n and d,

never the theorems in their own regime. Exponents are local slopes over the sizes run;
an asymptotic exponent is compared with the finite-size prediction where one exists. A
quick-profile report uses small sizes and its verdicts are indicative only."""

# ------------------------------------------------------------------ text
def anchor(text: str) -> str:
    """The anchor of a heading, by GitHub's rule (lower case, punctuation but '-' and
    '_' dropped, spaces to '-'), so that report.md's links also work on GitHub.

    >>> anchor("sparsity.init"), anchor("What these experiments can and cannot say")
    ('sparsityinit', 'what-these-experiments-can-and-cannot-say')
    """
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _pow2_or_number(v) -> str:
    """2^k for a power of two of at least 2^4, else the number as is."""
    if isinstance(v, int) and not isinstance(v, bool) and v >= 16 and v & (v - 1) == 0:
        return f"2^{v.bit_length() - 1}"
    return f"{v:g}" if isinstance(v, float) else str(v)


#: One table per kind of ledger entry: title, what it holds, columns.
_KIND_TABLES = {
    "claim": ("Claims of the papers",
              "Statements the papers make. Verdicts: holds, holds-with-caveat, fails, "
              "inconclusive (the sizes run cannot decide), untestable (no experiment can "
              "refute it). Every rule here has a configuration of its own experiment on "
              "which it fails (listed in the test suite).",
              ["claim", "source", "claimed", "measured", "verdict"]),
    "sanity": ("Sanity checks of the machinery",
               "Identities and known facts the experiments rely on. They check this project's "
               "code and sampling, not the papers: consistent or inconsistent.",
               ["check", "source", "expected", "measured", "verdict"]),
    "question": ("Reviewers' questions",
                 "Questions the reviewers asked. Each gets an answer in one sentence with the "
                 "measured figures; the premise behind a question is this project's, so it is "
                 "never marked as failing.",
                 ["question", "source", "premise", "answer", "verdict"]),
}


def _fmt_params(records: list[RunRecord]) -> str:
    """A compact summary of the configurations behind a claim: key -> values.

    >>> from verify_sublin.ledger.ledger import RunRecord, RunSpec
    >>> recs = [RunRecord(i, "", RunSpec("x", {"m": 2**k, "opts": {"a": [1, 2]}}), "done",
    ...                   {}, None, "c", 0.0) for i, k in enumerate(range(12, 24, 2))]
    >>> _fmt_params(recs)
    'm: 2^12..2^22 (6 values); opts: {"a": [1, 2]}; seed: 0'
    """
    values: dict[str, set] = defaultdict(set)
    for r in records:
        for k, v in r.spec.params.items():
            if isinstance(v, (list, dict)):
                v = json.dumps(v, sort_keys=True)
            values[k].add(v)
        values["seed"].add(r.spec.seed)
    parts = []
    for k in sorted(values):
        vs = sorted(values[k], key=lambda v: (isinstance(v, str), v if not isinstance(v, str)
                                              else 0, str(v)))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vs)
        fmt = _pow2_or_number if k == "m" else (lambda v: f"{v:g}" if isinstance(v, float)
                                                  else str(v))
        if numeric and len(vs) > 3:
            parts.append(f"{k}: {fmt(min(vs))}..{fmt(max(vs))} ({len(vs)} values)")
        else:
            parts.append(f"{k}: " + ", ".join(fmt(v) for v in vs))
    return "; ".join(parts)


def _verdict_word(cell: str) -> str | None:
    """The verdict a table cell states, if it starts with one ('**fails** (indicative)')."""
    m = re.match(r"\W*([a-z][a-z\-]*)", cell.strip().lower())
    return m.group(1) if m and m.group(1) in VERDICT_STYLES else None


# ------------------------------------------------------------------ figures
class _FigureCache(FigureCache):
    """The figures' cache, with keys for the figures of legacy claims (drawn by their own
    plot functions)."""

    @staticmethod
    def key(*parts) -> str:
        text = json.dumps([_CODE_KEY, *parts], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _code_key() -> str:
    """A fingerprint of the plotting code: this module and the claim catalogues."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(matplotlib.__version__.encode())
    for path in [here / "report.py", *sorted((here.parent / "ledger").glob("catalog*.py"))]:
        try:
            h.update(path.read_bytes())
        except OSError:
            pass
    return h.hexdigest()


_CODE_KEY = _code_key()


def _summary_rows(store: ResultStore, profile: str, backend: str) -> list:
    """The finished runs of one profile and backend: what the summary figures draw (a
    figure never mixes backends, as the claims' own sections do not)."""
    return [r for r in store.runs()
            if r["profile"] == profile and r["backend"] == backend and r.ok]


def _summary_figures(store: ResultStore, profile: str, backend: str, cache: _FigureCache
                     ) -> list[tuple[str, str]]:
    """Figures across claims (`ledger.views`): cost per iteration against m per method
    family, residual against iteration for every method, time-to-eps against m (runs of
    `backend`)."""
    return [cache.plot(name, plot)
            for name, plot in summary_views(_summary_rows(store, profile, backend))]


def _claim_figure(verdict, profile: str, cache: _FigureCache) -> tuple[str, str] | None:
    """The entry's figure: its plot specification drawn (or a legacy claim's own plot
    function called), cached by content."""
    plot = verdict.plot
    if plot is None:
        return None
    name = f"fig_{verdict.claim_id.replace('.', '_')}.png"
    if isinstance(plot, Plot):
        return cache.plot(name, plot)
    key = cache.key(name, *plot.key)
    hit = cache.get(name, key)
    if hit:
        return hit
    fig = plt.figure(figsize=(10, 4))
    try:
        caption = plot.draw(fig)
    except Exception as exc:  # a broken plot must not lose the report
        plt.close(fig)
        return "", f"(figure failed: {type(exc).__name__}: {exc})"
    if caption is None:
        plt.close(fig)
        return None
    return cache.put(name, key, fig, caption)


# ------------------------------------------------------------------ the full-profile reference
def _repo_reports() -> list[Path]:
    here = Path(__file__).resolve().parents[3] / "reports" / "full"
    return [Path.cwd() / "reports" / "full", here]


def reference_verdicts(where: str | Path | None = None, backend: str = "numpy"
                       ) -> dict[str, str] | None:
    """The committed full-profile verdicts, claim id -> verdict: from `where` (a report
    directory), else from reports/full/ under the working directory or the source tree.
    Read from verdicts.json, else evaluated from a temporary copy of results.sqlite (the
    committed store is never opened for writing). None when there is no such report.
    Cost: one evaluation of the ledger at most."""
    for d in ([Path(where)] if where else _repo_reports()):
        vj = d / "verdicts.json"
        if vj.exists():
            try:
                data = json.loads(vj.read_text())
                return {e["claim"]: e["verdict"] for e in data["verdicts"]}
            except (ValueError, KeyError, TypeError):
                pass
        db = d / "results.sqlite"
        if db.exists():
            results = evaluate(None, ResultStore(db, readonly=True), "full", backend)
            # a claim the full store has no runs for (a plugin's, say) is not in it
            return {v.claim_id: v.verdict for v, recs in results
                    if recs or not CLAIMS[v.claim_id].planned("full")}
    return None


# ------------------------------------------------------------------ the report
def render_report(store: ResultStore, outdir: str | Path, profile: str,
                  claim_ids=None, backend: str = "numpy",
                  reference: str | Path | None = None) -> tuple[Path, Path]:
    """Write report.md, report.html, verdicts.json and the figures into `outdir`; return
    the paths of report.md and report.html.

    Below the full profile, the verdicts of the committed full report (`reference`, or
    reports/full/) are shown beside the report's own and differences are flagged.
    Cost: reads the store once per claim; draws only the figures whose runs changed.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ids = resolve_claims(claim_ids, profile)
    results = evaluate(ids, store, profile, backend)
    commit = git_commit()
    indicative = profile in ("tiny", "quick")     # large extends full: not indicative
    full_ref = reference_verdicts(reference, backend) if indicative else None
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine, vers = machine_info(), versions()
    cache = _FigureCache(outdir)
    blocks: list[tuple] = []
    blocks.append(("h1", f"verify_sublin claims report ({profile} profile)"))
    ours = [row for row in store.runs()
            if row["profile"] == profile and row["backend"] == backend]
    devices = sorted({str((row.get("machine") or {}).get("device", "cpu"))
                      for row in ours} or {"cpu"})
    blocks.append(("p", f"Rendered {now} at commit `{commit}` from the store `{store.path.name}` "
                        f"({store.count()} runs, {store.count('failed')} failed). Machine: "
                        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
                        f"{machine['platform']}. Backend: {backend} (device: "
                        f"{', '.join(devices)}). Versions: " +
                        ", ".join(f"{k} {v}" for k, v in vers.items() if v) + "."))
    if indicative:
        top = max((r.spec.params.get("m", 0) for _, recs in results for r in recs), default=0)
        blocks.append(("p", f"**Every verdict below is indicative:** the {profile} profile runs "
                            f"small sizes (m <= {_pow2_or_number(top)}). The committed full "
                            "report is in reports/full/."))
    stale = _stale_flags(results, commit)
    # table of contents
    kinds = [k for k in KINDS if any(CLAIMS[v.claim_id].kind == k for v, _ in results)]
    toc = ["- [Papers](#papers)",
           *(f"- [{_KIND_TABLES[k][0]}](#{anchor(_KIND_TABLES[k][0])})" for k in kinds),
           f"- [What these experiments can and cannot say](#{anchor(_LIMITS_TITLE)})",
           "- [Figures across claims](#figures-across-claims)",
           "- Entries: " + " · ".join(f"[{v.claim_id}](#{anchor(v.claim_id)})"
                                      for v, _ in results),
           "- [Failed runs](#failed-runs)"]
    blocks.append(("p", "**Contents**\n\n" + "\n".join(toc)))
    blocks.append(("h2", "Papers"))
    used = {CLAIMS[v.claim_id].paper for v, _ in results}
    blocks.append(("p", "\n".join(f"- **[{tag}]** {ref}" for tag, ref in PAPERS.items()
                                  if tag in used or tag == "DHSWZ")))
    differ, rows_total = [], 0
    for kind in kinds:
        title, intro, header = _KIND_TABLES[kind]
        header = list(header) + (["full profile"] if full_ref is not None else [])
        table = []
        for (v, _), old in zip(results, stale):
            if CLAIMS[v.claim_id].kind != kind:
                continue
            mark = " (indicative)" if indicative else ""
            measured = v.measured + (" †" if old else "")
            row = [f"[{v.claim_id}](#{anchor(v.claim_id)})", CLAIMS[v.claim_id].source,
                   v.claimed, measured, f"**{v.verdict}**{mark}"]
            if full_ref is not None:
                ref = full_ref.get(v.claim_id)
                if ref is None:
                    row.append("(not in the full report)")
                elif ref != v.verdict:
                    differ.append(v.claim_id)
                    row.append(f"{ref} (differs)")
                else:
                    row.append(f"{ref} (same)")
            table.append(row)
        rows_total += len(table)
        blocks.append(("h2", title))
        blocks.append(("p", intro))
        blocks.append(("table", header, table))
    notes = []
    if any(stale):
        notes.append("† the figure comes from runs made by other package sources than the "
                     "ones this report is rendered with (see the claim's provenance).")
    if full_ref is not None:
        notes.append(f"The last column is the verdict of the committed full-profile report; "
                     f"{len(differ)} of {rows_total} differ"
                     + (f" ({', '.join(differ)})" if differ else "") + ".")
    notes.append(_commits_summary(ours, commit))
    blocks.append(("p", " ".join(n for n in notes if n)))
    blocks.append(("h2", _LIMITS_TITLE))
    blocks.append(("p", _LIMITS))
    blocks.append(("h2", "Figures across claims"))
    figs = _summary_figures(store, profile, backend, cache)
    for name, caption in figs:
        blocks.append(("img", name, caption))
    if not figs:
        blocks.append(("p", "No timed runs in this store."))
    failed = [(r.id, v.claim_id, r.error) for v, records in results for r in records if not r.ok]
    for (v, records), old in zip(results, stale):
        claim = CLAIMS[v.claim_id]
        blocks.append(("h2", f"{v.claim_id}"))
        blocks.append(("p", f"**Kind:** {claim.kind} ({_KIND_TABLES[claim.kind][0].lower()}). "
                            f"**Paper:** [{claim.paper}](#papers). **Source:** {claim.source}. "
                            f"**Statement:** {claim.statement}"))
        blocks.append(("p", f"**Experiment:** {claim.experiment}"))
        blocks.append(("p", f"**Verdict: {v.verdict}**{' (indicative)' if indicative else ''}. "
                            f"Claimed: {v.claimed}. Measured: {v.measured}."))
        blocks.append(("p", f"**Rule:** {v.rule}"))
        if v.details:
            blocks.append(("lines", v.details))
        fig = _claim_figure(v, profile, cache)
        if fig and fig[0]:
            blocks.append(("img", fig[0], fig[1]))
        elif fig:
            blocks.append(("p", fig[1]))
        blocks.append(("p", _provenance_text(records, commit, old)))
        if v.failed_runs:
            blocks.append(("p", "**Failed runs:** " + "; ".join(
                f"run {i}: {e}" for i, e in v.failed_runs)))
        table_title = _KIND_TABLES[claim.kind][0]
        blocks.append(("p", f"[↑ back to the table: {table_title}](#{anchor(table_title)})"))
    blocks.append(("h2", "Failed runs"))
    blocks.append(("p", "None." if not failed else "Failed runs are listed, never dropped:"))
    if failed:
        blocks.append(("table", ["run", "claim", "reason"],
                       [[str(i), c, e or ""] for i, c, e in failed]))
    cache.save()
    md = outdir / "report.md"
    text = _to_markdown(blocks)
    md.write_text(text)
    page = outdir / "report.html"
    page.write_text(_to_html(text, outdir, f"verify_sublin report ({profile})"))
    (outdir / "verdicts.json").write_text(json.dumps(
        {"profile": profile, "backend": backend, "commit": commit, "rendered": now,
         "store": str(Path(store.path).resolve()),
         "verdicts": [{"claim": v.claim_id, "paper": CLAIMS[v.claim_id].paper,
                       "verdict": v.verdict, "claimed": v.claimed, "measured": v.measured,
                       "figures": v.figures, "runs": v.runs}
                      for v, _ in results]}, indent=1, default=_json_default) + "\n")
    return md, page


_LIMITS_TITLE = "What these experiments can and cannot say"


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def _stale_flags(results, commit: str) -> list[bool]:
    """Per claim: whether any of its runs was made by package sources other than the
    rendering ones (a different commit whose run-computing sources differ, or cannot be
    compared). A change to the renderer alone does not make runs stale."""
    verdict_of: dict[str, bool] = {}

    def differs(c: str) -> bool:
        if c not in verdict_of:
            verdict_of[c] = same_sources([c, commit]) is not True
        return verdict_of[c]

    return [any(r.commit != commit and differs(r.commit) for r in records)
            for _, records in results]


def _commits_summary(rows: list, commit: str) -> str:
    """Which commits the stored `rows` (this profile and backend) were made at, their
    total computation time, and whether the package sources differ between those
    commits and the rendering one."""
    per: dict[str, list[float]] = {}
    for row in rows:
        per.setdefault(str(row["git_commit"]), []).append(float(row["seconds"] or 0.0))
    if not per:
        return ""
    parts = [f"`{c[:12]}` {len(v)} runs, {sum(v):.0f} s" for c, v in sorted(per.items())]
    text = ("Runs of this store by commit: " + "; ".join(parts) +
            f" ({sum(sum(v) for v in per.values()):.0f} s of computation in all).")
    if set(per) != {commit}:
        same = same_sources(sorted(set(per) | {commit}))
        what = ("The package sources that compute runs (src/ but the modules that only render "
                "or describe them)")
        text += {True: f" {what} are identical at all of these commits and the rendering "
                       "commit: the figures are those of the code rendered.",
                 False: f" {what} differ between these commits: rerun with --recompute for "
                        "figures of a single version of the code.",
                 None: " Whether the package sources differ between these commits could "
                       "not be checked here (no git history, or uncommitted changes)."}[same]
    return text


def _provenance_text(records: list[RunRecord], commit: str, stale: bool = False) -> str:
    if not records:
        return "**Provenance:** no runs."
    commits = sorted({r.commit for r in records})
    ids = [r.id for r in records]
    secs = sum(r.seconds for r in records)
    text = (f"**Provenance:** runs {_ranges(ids)} ({len(ids)} runs, {secs:.1f} s of "
            f"computation); commit(s) {', '.join(f'`{c[:12]}`' for c in commits)}")
    if stale:
        text += (f" — † not the rendering commit `{commit[:12]}`, and the sources that "
                 "compute runs differ (or cannot be compared)")
    return text + f". Configurations: {_fmt_params(records)}."


def _ranges(ids: list[int]) -> str:
    ids = sorted(set(ids))
    out, start, prev = [], None, None
    for i in ids:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            out.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = i
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ", ".join(out)


# ------------------------------------------------------------------ writers
def _md_cell(text) -> str:
    """One table cell as Markdown: the one place where cells are escaped (a '|' would
    end the cell, a line break the row).

    >>> _md_cell("mean |S_i|")
    'mean \\\\|S_i\\\\|'
    """
    return str(text).replace("\\|", "|").replace("|", "\\|").replace("\n", " ").strip()


def _md_table(header, rows) -> str:
    """A GitHub-flavoured Markdown table from a header and rows of cells."""
    width = len(header)
    lines = ["| " + " | ".join(_md_cell(c) for c in header) + " |",
             "|" + "---|" * width]
    for row in rows:
        cells = [_md_cell(c) for c in row]
        if len(cells) != width:
            raise ValueError(f"a table row of {len(cells)} cells under a header of {width}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _to_markdown(blocks: list[tuple]) -> str:
    """The report's Markdown: the blocks in order, a blank line between any two."""
    out = []
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + b[1])
        elif kind == "p":
            out.append(b[1].strip())
        elif kind == "table":
            out.append(_md_table(b[1], b[2]))
        elif kind == "lines":
            for item in b[1]:
                if isinstance(item, Table):
                    out.append(_md_table(item.header, item.rows))
                elif isinstance(item, tuple) and len(item) == 2:       # (header, rows)
                    out.append(_md_table(*item))
                elif str(item).strip():
                    out.append(str(item).strip())
        elif kind == "img":
            out.append(f"![{_alt(b[2])}]({b[1]})\n\n*{b[2].strip()}*")
        else:
            raise ValueError(f"unknown report block {kind!r}")
    return "\n\n".join(out) + "\n"


def _alt(text: str) -> str:
    return re.sub(r"[\[\]*_`]", "", text).strip()


def _markdown_it() -> MarkdownIt:
    """CommonMark with tables, raw HTML off (every '<' of a formula is text)."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")

    def ids_and_verdicts(state) -> None:
        tokens = state.tokens
        for i, tok in enumerate(tokens):
            if tok.type == "heading_open" and i + 1 < len(tokens):
                tok.attrSet("id", anchor(tokens[i + 1].content))
            elif tok.type == "td_open" and i + 1 < len(tokens):
                word = _verdict_word(tokens[i + 1].content)
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


def _to_html(markdown: str, outdir: Path, title: str) -> str:
    """report.html: `markdown` rendered by markdown-it-py, figures inlined as base64."""
    md = _markdown_it()

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
