"""End to end: `verify-sublin run` at the tiny profile (the session's tiny report), the
report, resume, export, compare."""

from __future__ import annotations

import argparse
import csv
import html.parser
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from verify_sublin.bench.store import ResultStore
from verify_sublin.cli import main
from verify_sublin.ledger.plan import plan
from verify_sublin.ledger.registry import ENTRIES as CLAIMS


@pytest.fixture
def tiny_run(tiny_copy):
    """The session's tiny report, copied: these tests run and render into it."""
    return tiny_copy


class _Checker(html.parser.HTMLParser):
    """Collects ids, tags and every URL-bearing attribute; checks nesting of block tags."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self):
        super().__init__()
        self.stack, self.ids, self.urls, self.errors = [], set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("src", "href"):
            if key in attrs:
                self.urls.append(attrs[key])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


#: the report's table of each kind of entry, and the verdict words it may show
_TABLES = {"claim": ("## Claims of the papers",
                     "holds|holds-with-caveat|fails|inconclusive|untestable|not tested"),
           "sanity": ("## Sanity checks of the machinery", "consistent|inconsistent|inconclusive"),
           "question": ("## Reviewers' questions", "answer|inconclusive")}


def test_report_lists_every_entry_in_its_kinds_table_with_its_source(tiny_run):
    md = (tiny_run / "report.md").read_text()
    for cid, claim in CLAIMS.items():
        if "tiny" not in claim.profiles:
            continue
        title, words = _TABLES[claim.kind]
        table = next(b for b in md.split(title)[1].split("\n\n") if b.startswith("|"))
        assert "| source |" in table.splitlines()[0]
        row = next((line for line in table.splitlines() if f"[{cid}]" in line), None)
        assert row is not None, cid
        assert re.search(rf"\*\*({words})\*\*", row), row
        assert claim.source.replace("|", "\\|")[:40] in row
    assert "**fails**" not in md.split("## Reviewers' questions")[1].split("\n\n")[2]
    assert "What these experiments can and cannot say" in md
    assert "indicative" in md


def test_html_parses_is_self_contained_and_links_resolve(tiny_run):
    page = (tiny_run / "report.html").read_text()
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert not checker.errors and not checker.stack
    for url in checker.urls:
        assert url.startswith("data:image/png;base64,") or url.startswith("#"), url
        if url.startswith("#"):
            assert url[1:] in checker.ids, url
    assert "http://" not in page and "https://" not in page
    assert page.count("<img") >= 10


def test_rerun_recomputes_nothing(tiny_run, capsys):
    store = ResultStore(tiny_run / "results.sqlite")
    before = [(r["id"], r["finished"]) for r in store.runs()]
    assert main(["run", "--profile", "tiny", "--out", str(tiny_run), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "0 runs made" in err
    assert [(r["id"], r["finished"]) for r in store.runs()] == before
    # re-rendering from the store alone works and recomputes nothing either
    out2 = tiny_run / "again"
    _with_figures_of(tiny_run, out2)
    assert main(["report", "--store", str(tiny_run / "results.sqlite"), "--out", str(out2),
                 "--profile", "tiny"]) == 0
    assert (out2 / "report.html").exists()
    assert [(r["id"], r["finished"]) for r in store.runs()] == before


def _with_figures_of(report, out):
    """`out` made to hold `report`'s figures (figures.json and the PNGs), so that a test of
    what a re-rendered report says draws none of them again (the figures are tested in
    test_figures.py); the markdown, HTML and verdicts are still written afresh."""
    out.mkdir(parents=True, exist_ok=True)
    for f in [report / "figures.json", *report.glob("*.png")]:
        shutil.copy2(f, out / f.name)
    return out


def test_every_planned_run_is_stored(tiny_run):
    store = ResultStore(tiny_run / "results.sqlite")
    planned = plan(None, "tiny")
    for run in planned:
        row = store.get(run.key)
        assert row is not None and row["git_commit"] and row["machine"]["cores"]
    assert store.count() == len(planned)


def test_export_tidy_tables(tiny_run, tmp_path):
    import json
    assert main(["export", "--store", str(tiny_run / "results.sqlite"), "--out",
                 str(tmp_path)]) == 0
    with (tmp_path / "measurements.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    store = ResultStore(tiny_run / "results.sqlite")
    runs = {r["id"]: r for r in store.runs()}
    assert {int(r["run_id"]) for r in rows} == set(runs)
    assert len(rows[0]) == 17                     # long, not one column per quantity
    # a per-step series comes back element by element, in order
    rid, run = next((i, r) for i, r in runs.items()
                    if r.ok and isinstance((r["result"] or {}).get("sizes"), list))
    got = [float(r["value"]) for r in rows
           if int(r["run_id"]) == rid and r["quantity"] == "sizes"]
    assert got == [float(x) for x in run["result"]["sizes"]]
    planned = {p.key: p.claims for p in plan(None, "tiny")}
    one = next(r for r in rows if int(r["run_id"]) == rid)
    assert one["claims"].split(";") == planned[run["key"]]
    assert json.loads((tmp_path / "measurements.json").read_text())[0].keys() == rows[0].keys()
    with (tmp_path / "verdicts.csv").open() as fh:
        verdicts = list(csv.DictReader(fh))
    assert [v["claim"] for v in verdicts] == list(CLAIMS)
    saved = json.loads((tiny_run / "verdicts.json").read_text())["verdicts"]
    assert [v["verdict"] for v in verdicts] == [v["verdict"] for v in saved]
    assert main(["export", "--store", str(tiny_run / "results.sqlite"), "--out",
                 str(tmp_path), "--format", "xml"]) == 2


def test_run_summary_and_fail_on(tiny_run, capsys):
    import json
    saved = json.loads((tiny_run / "verdicts.json").read_text())["verdicts"]
    present = sorted({v["verdict"] for v in saved})
    absent = sorted({"holds", "fails", "inconclusive", "untestable"} - set(present))
    assert main(["run", "--profile", "tiny", "--out", str(tiny_run), "--quiet",
                 "--fail-on", present[0]]) == 1
    out = capsys.readouterr().out
    counts = dict((v, n) for n, v in re.findall(r"(\d+) ([a-z][a-z -]*[a-z])",
                                                out.split("verdicts: ")[1].split("\n")[0]))
    assert {v: int(n) for v, n in counts.items()} == {
        v: sum(e["verdict"] == v for e in saved) for v in present}
    assert "changed since the last run: none" in out
    from verify_sublin.cli.summary import summarise
    current = json.loads((tiny_run / "verdicts.json").read_text())
    if absent:                      # the same verdicts, gated on words none of them has
        assert summarise(current, None, set(absent)) == 0
    assert summarise(current, None, {present[-1]}) == 1
    other = next(e["claim"] for e in saved if e["verdict"] != present[-1])
    assert summarise(current, None, {present[-1]}, only={other}) == 0   # a subset's own gate
    assert main(["run", "--profile", "tiny", "--out", str(tiny_run), "--fail-on", "nope"]) == 2


def test_compare_marks_changed_verdicts(tiny_run, tmp_path, capsys):
    import json
    other = tmp_path / "other"
    other.mkdir()
    data = json.loads((tiny_run / "verdicts.json").read_text())
    first = data["verdicts"][0]
    first["verdict"] = "fails" if first["verdict"] != "fails" else "holds"
    (other / "verdicts.json").write_text(json.dumps(data))
    assert main(["compare", str(tiny_run), str(other)]) == 0
    lines = capsys.readouterr().out.splitlines()
    marked = [line for line in lines if line.startswith("!")]
    assert len(marked) == 1 and first["claim"] in marked[0]
    assert main(["compare", str(tiny_run), str(other), "--fail-on-change"]) == 1
    # a store and its own report agree
    capsys.readouterr()
    assert main(["compare", str(tiny_run / "results.sqlite"), str(tiny_run)]) == 0
    assert not [x for x in capsys.readouterr().out.splitlines() if x[:1] in "!~+-" and x[1:2] == " "]


def test_version_and_every_help_has_defaults_and_examples(capsys):
    from verify_sublin import __version__
    from verify_sublin.cli import parser as make_parser
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"verify-sublin {__version__}"
    parser = make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        text = p.format_help()
        assert "examples:\n  verify-sublin " + name.split()[0] in text, name
        for action in p._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, (name, action.dest)


@pytest.mark.slow
def test_killed_run_loses_no_finished_run(tmp_path):
    """SIGKILL a run in the middle; every run recorded before the kill survives intact
    and is not recomputed when the run is resumed."""
    out = tmp_path / "out"
    db = out / "results.sqlite"
    cmd = [sys.executable, "-m", "verify_sublin.cli", "run", "--profile", "tiny",
           "--claims", "width.requirement,convergence.rate", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ))
    deadline = time.time() + 120
    count = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as con:
                    count = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
            except sqlite3.Error:
                count = 0
            if count >= 3:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert count >= 3, "the run never recorded three runs"
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = ResultStore(db)
    survived = {r["key"]: (r["id"], r["finished"], r["result"]) for r in store.runs()
                if r["status"] == "done"}
    assert len(survived) >= 3
    assert main(["run", "--profile", "tiny", "--claims", "width.requirement,convergence.rate",
                 "--out", str(out), "--quiet"]) == 0
    after = {r["key"]: (r["id"], r["finished"], r["result"]) for r in store.runs()}
    for key, value in survived.items():
        assert after[key] == value
    planned = plan(["width.requirement", "convergence.rate"], "tiny")
    assert set(after) == {p.key for p in planned}


@pytest.mark.parametrize(("argv", "param"), [
    (["run", "--profile", "huge"], "--profile"),
    (["run", "--profile", "tiny", "--claims", "no.such.claim"], "--claims"),
    (["report", "--store", "/nonexistent/x.sqlite", "--out", "/tmp/x"], "--store"),
])
def test_cli_errors_are_one_line_with_status_2(argv, param, capsys, tmp_path):
    if argv[0] == "run":
        argv = [*argv, "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"verify-sublin: error: {param}:")


def test_claims_listing(capsys):
    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    for cid, claim in CLAIMS.items():
        line = next(x for x in out.splitlines() if x.startswith(cid + " "))
        assert claim.kind in line.split()
        assert f"source: {claim.source}" in out


def test_report_marks_the_entries_whose_runs_stale_code_computed(tiny_run, tmp_path,
                                                                   monkeypatch):
    """A run is stale when the code computing its experiment changed since its commit
    (`bench.fingerprint`): the report daggers exactly the entries holding such a run."""
    from verify_sublin.ledger import outcome

    monkeypatch.setenv("VERIFY_SUBLIN_COMMIT", "0" * 40)      # not the runs' commit
    monkeypatch.setattr(outcome, "stale_experiments",
                        lambda commit, experiments: {"tree_check"} & set(experiments))
    _with_figures_of(tiny_run, tmp_path)
    assert main(["report", "--store", str(tiny_run / "results.sqlite"), "--out", str(tmp_path),
                 "--profile", "tiny"]) == 0
    md = (tmp_path / "report.md").read_text()
    marked = {line.split("](")[0][3:] for line in md.splitlines()
              if line.startswith("| [") and " †" in line}
    want = {cid for cid, e in CLAIMS.items()
            if any(s.experiment == "tree_check" for s in e.planned("tiny"))}
    assert marked == want == {"tree.correctness"}
    assert "† the code that computes some of these runs differs" in md
    assert "changed: tree_check" in md


def test_stored_seconds_are_the_runs_own(tiny_run):
    """Every stored run records the time it took (the in-process executor used to start
    the clock after the run)."""
    store = ResultStore(tiny_run / "results.sqlite")
    rows = [r for r in store.runs() if r["experiment"] == "tree_check"]
    assert rows and all(r["seconds"] > 0.01 for r in rows)


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                   check=True, capture_output=True)
    if args[0] != "commit":
        return None
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_report_says_which_commits_made_the_runs(tiny_run, tmp_path, monkeypatch):
    monkeypatch.setenv("VERIFY_SUBLIN_COMMIT", "0" * 40)
    _with_figures_of(tiny_run, tmp_path)
    assert main(["report", "--store", str(tiny_run / "results.sqlite"), "--out", str(tmp_path),
                 "--profile", "tiny"]) == 0
    md = (tmp_path / "report.md").read_text()
    store = ResultStore(tiny_run / "results.sqlite")
    n = sum(1 for r in store.runs() if r["profile"] == "tiny")
    commits = {r["git_commit"] for r in store.runs()}
    line = re.search(r"Runs of this store by commit: (.*)", md).group(1)
    assert sum(int(k) for k in re.findall(r" (\d+) runs,", line)) == n
    assert all(f"`{c[:12]}`" in line for c in commits)
    # the runs' commit is not the (made-up) rendering one: what changed since is stated
    assert "could not be checked" in line or "is unchanged at the rendering commit" in line


def test_only_package_sources_make_a_commit_dirty(tmp_path):
    from verify_sublin.bench.provenance import sources_dirty
    repo = tmp_path / "repo"
    (repo / "src" / "pkg").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "src" / "pkg" / "a.py").write_text("x = 1\n")
    (repo / "pyproject.toml").write_text("[project]\n")
    (repo / "README").write_text("docs\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "one")
    assert not sources_dirty(repo / "src" / "pkg")
    (repo / "README").write_text("edited docs\n")        # a report or doc: not the code
    assert not sources_dirty(repo / "src" / "pkg")
    (repo / "src" / "pkg" / "a.py").write_text("x = 2\n")
    assert sources_dirty(repo / "src" / "pkg")             # asked from inside src/ too
    _git(repo, "checkout", "-q", "--", "src")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert sources_dirty(repo)


def test_summary_figures_draw_one_backend(tmp_path):
    """The summary figures take the runs of the report's backend only, as every entry
    section does: a store holding numpy and CuPy runs of one experiment gives each
    backend's report its own points."""
    from verify_sublin.ledger.outcome import profile_rows

    store = ResultStore(tmp_path / "mixed.sqlite")
    params = {"method": "ggn", "m": 1024, "n": 8, "d": 4, "c": 0.4}
    for i, backend in enumerate(["numpy", "cupy", "numpy"]):
        store.record(f"k{i}", "step_speed", dict(params, seed_index=i), 0, backend, "tiny",
                     "done", result={"median": 0.1 * (i + 1)})
    store.record("k3", "step_speed", params, 0, "numpy", "quick", "done",
                 result={"median": 9.0})
    for backend, want in (("numpy", [0.1, 0.3]), ("cupy", [0.2])):
        rows = profile_rows(store, "tiny", backend)
        assert [r["result"]["median"] for r in rows] == pytest.approx(want)
        assert {r["backend"] for r in rows} == {backend}


def test_a_run_of_a_few_entries_updates_them_in_the_fuller_report(tiny_run, capsys):
    """`run --claims a,b` into a folder holding the full report of the same store and
    profile keeps every other entry in it (and its figures), updating those two."""
    import json
    before = json.loads((tiny_run / "verdicts.json").read_text())["verdicts"]
    figures = sorted(p.name for p in tiny_run.glob("fig_*.png"))
    assert main(["run", "--profile", "tiny", "--claims", "sparsity.init,tree.cost", "--out",
                 str(tiny_run), "--quiet"]) == 0
    after = json.loads((tiny_run / "verdicts.json").read_text())["verdicts"]
    assert [v["claim"] for v in after] == [v["claim"] for v in before]
    assert sorted(p.name for p in tiny_run.glob("fig_*.png")) == figures
    assert "changed since the last run: none" in capsys.readouterr().out
    # `report --claims` renders exactly those entries and leaves no other figure behind
    assert main(["report", "--store", str(tiny_run / "results.sqlite"), "--out", str(tiny_run),
                 "--profile", "tiny", "--claims", "tree.cost"]) == 0
    names = {p.name for p in tiny_run.glob("fig_*.png")}
    assert names == {"fig_tree_cost.png"} | ({"fig_cost_per_iteration.png",
                                              "fig_residual_and_time_to_eps.png"} & names)


def test_a_subset_run_keeps_only_the_previous_entries_that_still_run_at_its_profile():
    """A run of a few entries merges the folder's earlier entries into its report, but not
    one that no longer runs at that profile (it would be refused after the whole sweep)."""
    from verify_sublin.api import _merged
    previous = {"verdicts": [{"claim": "cpi.alpha_joint"}, {"claim": "union.size"},
                             {"claim": "no.longer.an.entry"}]}
    assert _merged(["cpi.sublinear_gn"], previous, "large") == ["union.size", "cpi.sublinear_gn"]
    assert _merged(["cpi.sublinear_gn"], previous, "full") == [
        "union.size", "cpi.sublinear_gn", "cpi.alpha_joint"]
