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
from verify_sublin.ledger import outcome
from verify_sublin.ledger.registry import ENTRIES as CLAIMS
from verify_sublin.ledger.verdict import Table
from verify_sublin.render import markdown
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
    model = outcome.assemble(ResultStore(tmp / "results.sqlite", readonly=True), "full")
    model.views = []                                       # tables only: no drawing
    for o in model.outcomes:
        o.verdict.plot = None
    md, page = rp.write_report(model, tmp / "out")
    return md.read_text(), page.read_text(), [(o.verdict, o.records) for o in model.outcomes]


def test_every_table_of_the_full_report_is_well_formed(full_report):
    text, page, results = full_report
    tables = _md_tables(text)
    # every table the claims produce, plus the methods table, one verdict table per kind
    # (claims, sanity checks, questions) and the failed runs' table if any, reaches the
    # report
    kinds = len({CLAIMS[v.claim_id].kind for v, _ in results})
    failed = any(not r.ok for _, records in results for r in records)
    expected = 1 + kinds + failed + sum(isinstance(d, Table) for v, _ in results
                                        for d in v.details)
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
    assert sum(len(t) for t in parsed.tables[1:kinds + 1]) == kinds + len(CLAIMS)
    assert page.count('class="v-') >= len(CLAIMS)


def test_limits_render_as_paragraphs_and_a_list(full_report):
    _, page, _ = full_report
    parsed = _Rows()
    parsed.feed(page)
    key = markdown.anchor("What these experiments can and cannot say")
    assert "*" not in parsed.sections[key]
    tags = parsed.tags[key]
    assert tags.count("p") >= 2 and "ul" in tags and tags.count("li") >= 3 and "em" in tags


def test_links_resolve_and_each_claim_links_back(full_report):
    text, page, _ = full_report
    for cid, claim in CLAIMS.items():
        section = text.split(f"\n## {cid}\n")[1].split("\n## ")[0]
        table_title = rp.KIND_TABLES[claim.kind][0]
        assert f"](#{markdown.anchor(table_title)})" in section
        assert f'id="{markdown.anchor(table_title)}"' in page
        assert f'id="{markdown.anchor(cid)}"' in page
    for tag in {c.paper for c in CLAIMS.values()}:
        assert f"**[{tag}]**" in text.split("## Claims of the papers")[0]


def test_table_blocks_are_separated_and_cells_escaped():
    md = markdown.to_markdown([("lines", ["intro", Table(["a", "|S_i|"], [["1", "x | y"]]),
                                     Table(["c"], [["2"]]), "a note after the tables"])])
    assert md.split("\n\n") == ["intro", "| a | \\|S_i\\| |\n|---|---|\n| 1 | x \\| y |",
                                "| c |\n|---|\n| 2 |", "a note after the tables\n"]
    assert _md_tables(md) == [(2, [2]), (1, [1])]
    with pytest.raises(ValueError, match="3 cells under a header of 2"):
        markdown.to_markdown([("table", ["a", "b"], [["1", "2", "3"]])])


def test_quick_report_shows_the_full_verdict_and_flags_differences(tmp_path, monkeypatch):
    ref = tmp_path / "full"
    ref.mkdir()
    (ref / "verdicts.json").write_text(json.dumps({"verdicts": [
        {"claim": "sparsity.init", "verdict": "fails"},          # the empty store: inconclusive
        {"claim": "tree.correctness", "verdict": "inconclusive"}]}))
    from verify_sublin.api import write
    store = ResultStore(tmp_path / "empty.sqlite")
    md, _ = write(store, tmp_path / "out", "tiny", ["sparsity.init", "tree.correctness"],
                  reference=ref)
    rows = [line for line in md.read_text().splitlines() if line.startswith("| [")]
    assert rows[0].endswith("| fails (differs) |") and "**inconclusive**" in rows[0]
    assert rows[1].endswith("| inconclusive (same) |")
    assert "1 of 2 differ (sparsity.init)" in md.read_text()
    saved = json.loads((tmp_path / "out" / "verdicts.json").read_text())
    assert [v["verdict"] for v in saved["verdicts"]] == ["inconclusive", "inconclusive"]


def test_provenance_reads_as_ranges_and_lists():
    from verify_sublin.bench.spec import RunRecord, RunSpec
    recs = [RunRecord(i, "", RunSpec("x", {"m": 2**k, "c": 0.4, "sizes": [1, 2, 3]}), "done",
                      {}, None, "c", 0.0) for i, k in enumerate(range(12, 24, 2))]
    text = rp.fmt_params(recs)
    assert "m: 2^12..2^22 (6 values)" in text
    assert "sizes: [1, 2, 3]" in text and "(list)" not in text


def test_an_entry_is_stale_when_the_code_of_one_of_its_runs_experiments_changed(monkeypatch):
    """`outcome._stale` asks the fingerprint about each (run commit, experiment) once: a
    run at the assembling commit is current; at another commit it is stale if its
    experiment's code changed, or if that cannot be told."""
    from verify_sublin.bench.spec import RunRecord, RunSpec
    answers, asked = {}, []

    def stale(commit, experiments):
        asked.append((commit, tuple(experiments)))
        return answers[commit]

    monkeypatch.setattr(outcome, "stale_experiments", stale)

    def rec(exp, commit):
        return RunRecord(1, "", RunSpec(exp, {}), "done", {}, None, commit, 0.0)

    answers["a" * 40] = {"training"}
    cache = {}
    assert outcome._stale([rec("tree_check", "a" * 40)], "b" * 40, cache) is False
    assert outcome._stale([rec("training", "a" * 40)], "b" * 40, cache) is True
    assert outcome._stale([rec("training", "b" * 40)], "b" * 40, cache) is False
    answers["c" * 40] = None                               # cannot tell: marked
    assert outcome._stale([rec("tree_check", "c" * 40)], "b" * 40, cache) is True
    assert outcome._stale([rec("training", "a" * 40)], "b" * 40, cache) is True
    assert len(asked) == 3                                 # each pair asked once


def test_progress_line_keeps_the_sizes_and_waits_for_the_eta():
    import io

    from verify_sublin.cli.progress import ETA_AFTER_RUNS, printer
    from verify_sublin.ledger.plan import plan
    run = next(r for r in plan(None, "tiny") if "m" in r.spec.params and "n" in r.spec.params)
    stream = io.StringIO()
    show = printer(stream)
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


def test_speed_progress_estimates_the_time_left_from_the_pace(monkeypatch):
    """step_printer: no estimate before the first measurement of a series ends; after
    `done` of `total` took t seconds since the series began, t / done x (total - done)
    is left."""
    import io
    import time

    from verify_sublin.cli.progress import step_printer
    clock = iter([90.0, 100.0, 130.0])
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    stream = io.StringIO()
    show = step_printer(stream)
    show("ggn", 0, 4)
    show("paper sublinear", 3, 4)            # 30 s for 3 of 4: 10 s left
    first, last = stream.getvalue().splitlines()
    assert first == "  [0:10] ggn (1/4)"
    assert last == "  [0:40] paper sublinear (4/4, about 0:10 left at the pace so far)"


def test_every_method_and_preset_is_described_in_the_methods_table():
    """The report's methods table has a row for every registered method and preset, so
    a new one cannot reach the report undescribed."""
    from verify_sublin.core.trainers import METHODS, PRESETS
    from verify_sublin.ledger.notation import METHOD_ROWS
    names = {row.name for row in METHOD_ROWS}
    assert set(METHODS) | set(PRESETS) <= names | {"sublinear_gn"}, (
        (set(METHODS) | set(PRESETS)) - names)
    assert all(row.ingredient and row.memory and row.cost for row in METHOD_ROWS)


def test_the_report_defines_its_notation_and_methods(full_report):
    text, _, _ = full_report
    section = text.split("## Notation and methods\n")[1].split("\n## ")[0]
    for symbol in ("Q(b)", "S_i", "U = S_1", "floor", "alpha = c/2"):
        assert symbol in section, symbol
    assert "| sublinear cache implicit |" in section and "this project's" in section


def test_what_was_learned_is_built_from_the_entries_figures(full_report):
    """The report opens with findings; each follows its entry's figures: change a figure
    and the sentence changes with it, remove it and the sentence goes."""
    from verify_sublin.ledger.learned import findings
    text, _, results = full_report
    figures = {v.claim_id: dict(v.figures) for v, _ in results}
    said = findings(figures)
    assert len(said) >= 5
    section = text.split("## What was learned\n")[1].split("\n## ")[0]
    assert all(s in section for s in said)
    assert text.index("## What was learned") < text.index("## Papers")
    figures["union.size"]["fraction_c0.4"] = 0.125
    union = next(s for s in findings(figures) if "(union.size)" in s)
    assert "|U| = 0.12 m" in union and "m / |U| = 8.0x" in union and union not in said
    figures["cpi.sublinear_gn"].update({"paper_ops_exp_m_c0.4": 0.625,
                                        "paper_ops_exp_n_c0.4": 2.125})
    work = next(s for s in findings(figures) if "(cpi.sublinear_gn)" in s)
    assert "as m^0.62 (sublinear in m) but n^2.12 (about quadratic in n) at c = 0.4" in work
    assert work not in said
    figures["cpi.alpha_joint"] = {"alpha_eff_sparse_c0.48": 0.25, "beta_n_sparse_c0.48": 1.75}
    joint = next(s for s in findings(figures) if "(cpi.alpha_joint)" in s)
    assert "m^0.75 n^1.75 at c = 0.48 (alpha_eff 0.25; the reconstructed alpha = c/2 is 0.24)" in joint
    del figures["cpi.alpha_joint"]["beta_n_sparse_c0.48"]
    assert not any("(cpi.alpha_joint)" in s for s in findings(figures))
    figures["tree.benefit"]["tree_over_cache_min"] = 7.25
    assert any("7.2-" in s or "7.3-" in s for s in findings(figures))
    figures["cost.end_to_end"] = {"e2e_gain_c0.4": 0.5, "step_gain_c0.4": 0.25, "cap_c0.4": 4.0,
                                  "e2e_gain_c0.85": 2.0, "step_gain_c0.85": 3.0, "cap_c0.85": 2.5,
                                  "e2e_gain_variant_c0.85": 4.0}
    e2e = next(s for s in findings(figures) if "(cost.end_to_end)" in s)
    assert "0.25x ggn's speed per step and 0.50x end to end at c = 0.4 (at most 4.0x" in e2e
    assert "at c = 0.85 (at most 2.5x were its steps free), this project's cache variant 4.00x" in e2e
    del figures["cost.end_to_end"]
    assert not any("(cost.end_to_end)" in s for s in findings(figures))
    figures["rq.shift_generalisation"] = {"cost": {"a": [0.5, 0.2, 0.8], "b": [-0.1, -0.3, 0.1]}}
    shift = next(s for s in findings(figures) if "(rq.shift_generalisation)" in s)
    assert "+50% [+20, +80] on a" in shift and "-10% [-30, +10] on b" in shift
    assert "on 1 of 2 data sets" in shift
    figures["rq.ntk_krr"] = {"agreement": [("a", 0.3, 0.05)], "seconds": [("a", 2.0, 0.1)]}
    krr = next(s for s in findings(figures) if "(rq.ntk_krr)" in s)
    assert "within 0.05" in krr and "at most 5% of its time" in krr
