"""The report renderer: well-formed tables in a full report, paragraphs and lists,
coloured verdicts, the full-profile reference beside a quick report.

The full report is re-rendered (figures off) from a copy of the committed
reports/full/results.sqlite; the committed file is never opened.
"""

from __future__ import annotations

import html.parser
import json
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from verify_sublin.bench.store import ResultStore
from verify_sublin.ledger import CLAIMS, Table, evaluate
from verify_sublin.render import report as rp

FULL = Path(__file__).resolve().parents[1] / "reports" / "full" / "results.sqlite"


def _md_tables(text: str) -> list[tuple[int, list[int]]]:
    """(header cells, [cells of each body row]) of every table markdown-it finds."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    out, header, rows, count, in_head = [], 0, [], 0, False
    for tok in tokens:
        if tok.type == "table_open":
            header, rows = 0, []
        elif tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            count = 0
        elif tok.type in ("th_open", "td_open"):
            count += 1
        elif tok.type == "tr_close":
            if in_head:
                header = count
            else:
                rows.append(count)
        elif tok.type == "table_close":
            out.append((header, rows))
    return out


class _Rows(html.parser.HTMLParser):
    """Cells per row of every <table>, and the text of the section after an <h2 id=...>."""

    def __init__(self):
        super().__init__()
        self.tables, self.cur, self.section, self.sections = [], None, None, {}
        self.tags: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.cur = 0
        elif tag in ("td", "th"):
            self.cur += 1
        elif tag == "h2":
            self.section = attrs.get("id")
            self.sections[self.section] = ""
        if self.section:
            self.tags.setdefault(self.section, []).append(tag)

    def handle_endtag(self, tag):
        if tag == "tr":
            self.tables[-1].append(self.cur)

    def handle_data(self, data):
        if self.section:
            self.sections[self.section] += data


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    if not FULL.exists():
        pytest.skip("reports/full/results.sqlite is not in this checkout")
    tmp = tmp_path_factory.mktemp("full")
    shutil.copyfile(FULL, tmp / "results.sqlite")      # never touch the committed file
    mp = pytest.MonkeyPatch()
    mp.setattr(rp, "_claim_figure", lambda *a, **k: None)      # tables only: no drawing
    mp.setattr(rp, "_summary_figures", lambda *a, **k: [])
    seen = []
    mp.setattr(rp, "evaluate", lambda *a, **k: seen.append(evaluate(*a, **k)) or seen[-1])
    try:
        md, page = rp.render_report(ResultStore(tmp / "results.sqlite"), tmp / "out", "full")
    finally:
        mp.undo()
    return md.read_text(), page.read_text(), seen[0]


def test_every_table_of_the_full_report_is_well_formed(full_report):
    text, page, results = full_report
    tables = _md_tables(text)
    # every table the claims produce, plus one verdict table per kind (claims, sanity
    # checks, questions) and the failed runs' table if any, reaches the report
    kinds = len({CLAIMS[v.claim_id].kind for v, _ in results})
    failed = any(not r.ok for _, records in results for r in records)
    expected = kinds + failed + sum(isinstance(d, Table) for v, _ in results for d in v.details)
    assert len(tables) == expected
    assert any("\\|S_i" in line for line in text.splitlines() if line.startswith("|"))
    for header, rows in tables:
        assert header >= 2 and rows
        assert all(r == header for r in rows), (header, rows)
    parsed = _Rows()
    parsed.feed(page)
    assert len(parsed.tables) == expected
    for rows in parsed.tables:
        assert len(set(rows)) == 1, rows
    # the verdict tables have one row per entry, a verdict class on each verdict cell
    assert sum(len(t) for t in parsed.tables[:kinds]) == kinds + len(CLAIMS)
    assert page.count('class="v-') >= len(CLAIMS)


def test_limits_render_as_paragraphs_and_a_list(full_report):
    _, page, _ = full_report
    parsed = _Rows()
    parsed.feed(page)
    key = rp.anchor("What these experiments can and cannot say")
    assert "*" not in parsed.sections[key]
    tags = parsed.tags[key]
    assert tags.count("p") >= 2 and "ul" in tags and tags.count("li") >= 3 and "em" in tags


def test_links_resolve_and_each_claim_links_back(full_report):
    text, page, _ = full_report
    for cid, claim in CLAIMS.items():
        section = text.split(f"\n## {cid}\n")[1].split("\n## ")[0]
        table_title = rp._KIND_TABLES[claim.kind][0]
        assert f"](#{rp.anchor(table_title)})" in section
        assert f'id="{rp.anchor(table_title)}"' in page and f'id="{rp.anchor(cid)}"' in page
    for tag in {c.paper for c in CLAIMS.values()}:
        assert f"**[{tag}]**" in text.split("## Claims of the papers")[0]


def test_table_blocks_are_separated_and_cells_escaped():
    md = rp._to_markdown([("lines", ["intro", Table(["a", "|S_i|"], [["1", "x | y"]]),
                                     Table(["c"], [["2"]]), "a note after the tables"])])
    assert md.split("\n\n") == ["intro", "| a | \\|S_i\\| |\n|---|---|\n| 1 | x \\| y |",
                                "| c |\n|---|\n| 2 |", "a note after the tables\n"]
    assert _md_tables(md) == [(2, [2]), (1, [1])]
    with pytest.raises(ValueError, match="3 cells under a header of 2"):
        rp._to_markdown([("table", ["a", "b"], [["1", "2", "3"]])])


def test_quick_report_shows_the_full_verdict_and_flags_differences(tmp_path, monkeypatch):
    ref = tmp_path / "full"
    ref.mkdir()
    (ref / "verdicts.json").write_text(json.dumps({"verdicts": [
        {"claim": "sparsity.init", "verdict": "fails"},          # the empty store: inconclusive
        {"claim": "tree.correctness", "verdict": "inconclusive"}]}))
    monkeypatch.setattr(rp, "_summary_figures", lambda *a, **k: [])
    store = ResultStore(tmp_path / "empty.sqlite")
    md, _ = rp.render_report(store, tmp_path / "out", "tiny", ["sparsity.init",
                                                               "tree.correctness"],
                             reference=ref)
    rows = [line for line in md.read_text().splitlines() if line.startswith("| [")]
    assert rows[0].endswith("| fails (differs) |") and "**inconclusive**" in rows[0]
    assert rows[1].endswith("| inconclusive (same) |")
    assert "1 of 2 differ (sparsity.init)" in md.read_text()
    saved = json.loads((tmp_path / "out" / "verdicts.json").read_text())
    assert [v["verdict"] for v in saved["verdicts"]] == ["inconclusive", "inconclusive"]


def test_provenance_reads_as_ranges_and_lists():
    from verify_sublin.ledger.ledger import RunRecord, RunSpec
    recs = [RunRecord(i, "", RunSpec("x", {"m": 2**k, "c": 0.4, "sizes": [1, 2, 3]}), "done",
                      {}, None, "c", 0.0) for i, k in enumerate(range(12, 24, 2))]
    text = rp._fmt_params(recs)
    assert "m: 2^12..2^22 (6 values)" in text
    assert "sizes: [1, 2, 3]" in text and "(list)" not in text


def test_runs_are_stale_only_when_the_computing_sources_differ(monkeypatch):
    from verify_sublin.ledger.ledger import RunRecord, RunSpec
    rec = RunRecord(1, "", RunSpec("x", {}), "done", {}, None, "a" * 40, 0.0)
    answers = {}
    monkeypatch.setattr(rp, "same_sources", lambda commits: answers[tuple(commits)])
    answers[("a" * 40, "b" * 40)] = True           # only the renderer changed
    assert rp._stale_flags([(None, [rec])], "b" * 40) == [False]
    answers[("a" * 40, "c" * 40)] = False          # the code that computes runs changed
    assert rp._stale_flags([(None, [rec])], "c" * 40) == [True]
    answers[("a" * 40, "d" * 40)] = None           # cannot tell: marked
    assert rp._stale_flags([(None, [rec])], "d" * 40) == [True]
    assert rp._stale_flags([(None, [rec])], "a" * 40) == [False]
    from verify_sublin.bench.provenance import RENDER_ONLY
    assert "src/verify_sublin/report.py" in RENDER_ONLY
    assert not any("experiments" in p or "trainers" in p for p in RENDER_ONLY)


def test_progress_line_keeps_the_sizes_and_waits_for_the_eta():
    import io

    from verify_sublin.cli import ETA_AFTER_RUNS, _progress_printer
    from verify_sublin.ledger import plan
    run = next(r for r in plan(None, "tiny") if "m" in r.spec.params and "n" in r.spec.params)
    stream = io.StringIO()
    show = _progress_printer(stream)
    for i in range(ETA_AFTER_RUNS + 1):
        show({"index": i + 1, "total": 9, "run": run, "status": "done", "id": i,
              "seconds": 1.0, "error": None, "elapsed": 10.0 * (i + 1), "eta": 42.0})
    lines = stream.getvalue().splitlines()
    m = run.spec.params["m"]
    assert all(f"m=2^{m.bit_length() - 1}" in line.split(run.spec.experiment)[0]
               for line in lines)
    assert [line.endswith("ETA ?)") for line in lines] == (
        [True] * (ETA_AFTER_RUNS - 1) + [False, False])
    assert lines[-1].endswith("ETA 0:42)")
