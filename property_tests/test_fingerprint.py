"""Staleness of stored runs: the fingerprint of the code that computes an experiment.

Each test builds a small git repository with a package laid out like this one (a
registered experiment calling a helper, a helper module, a class with a constant, a
numba kernel, an executor, a render-only module), commits it, edits the working tree
and asks whether the experiment's runs at the commit are stale. The package is never
imported: the fingerprint reads its source.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest

from verify_sublin.bench.fingerprint import (
    differing_definitions,
    experiment_fingerprint,
    is_plumbing,
    package_sources,
    stale_experiments,
    staleness_report,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

PKG = "src/verify_sublin"

FILES = {
    "__init__.py": '"""A tiny package laid out like verify_sublin."""\n',
    "core/__init__.py": "",
    "core/helpers.py": '''
        """Helpers the experiments call."""

        import numba

        #: the scale of every result
        FACTOR = 3.0


        def scaled(x):
            """x scaled by FACTOR (after the kernel)."""
            return FACTOR * _kernel(x)     # the kernel adds one


        @numba.njit(cache=True)
        def _kernel(x):
            return x + 1.0


        def unrelated(p):
            """Used by another experiment only."""
            return p["n"] * 2


        class Counter:
            def out(self, seed):
                return seed + 1
        ''',
    "core/model.py": '''
        """The model."""


        class Net:
            """A network of width m."""

            BLOCK = 4

            def __init__(self, m):
                if m < 1:
                    raise ValueError(f"m = {m}: see verify_sublin.core.model.Net")
                self.m = m

            def out(self, seed):
                return self.m * self.BLOCK + seed
        ''',
    "bench/__init__.py": "",
    "bench/experiments.py": '''
        """Experiments: registered functions from parameters to results."""

        from ..core.helpers import Counter, scaled, unrelated
        from ..core.model import Net

        EXPERIMENTS = {}


        def register(name, timing=False):
            def deco(fn):
                EXPERIMENTS[name] = (fn, timing)
                return fn
            return deco


        @register("demo")
        def demo(p, seed):
            """The demo experiment."""
            net = Net(p["m"])
            return {"y": scaled(p["x"]) + net.out(seed)}


        @register("other")
        def other(p, seed):
            counter = Counter()
            return {"z": unrelated(p) + counter.out(seed)}


        @register("timed", timing=True)
        def timed(p, seed):
            from ..core.helpers import scaled as scale    # imported when it runs

            return {"t": scale(1.0)}
        ''',
    "bench/executors.py": '''
        """Where runs execute."""


        def run_isolated(experiment, params, seed, threads=1):
            _limit(threads)
            return experiment(params, seed)


        def _limit(threads):
            return threads
        ''',
    "render/__init__.py": "",
    "render/report.py": '''
        """The report (render-only)."""

        from ..core.helpers import FACTOR


        def render(rows):
            return f"{len(rows)} rows at scale {FACTOR}"


        def scaled(x):
            """A figure as a table shows it (the helper's name, in a render-only module)."""
            return f"{x:.2f}"
        ''',
}


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _write(repo: Path, rel: str, text: str) -> None:
    path = repo / PKG / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def _edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / PKG / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new))


@pytest.fixture
def repo(tmp_path) -> tuple[Path, str]:
    """(working tree, commit) of the tiny package, committed once."""
    _git(tmp_path, "init", "-q")
    for rel, text in FILES.items():
        _write(tmp_path, rel, text)
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "tiny package")
    return tmp_path, _git(tmp_path, "rev-parse", "HEAD")


def _stale(repo, names=("demo", "other", "timed")) -> set[str] | None:
    tree, commit = repo
    return stale_experiments(commit, names, repo=tree)


def test_unchanged_tree_is_current(repo):
    tree, commit = repo
    assert _stale(repo) == set()
    assert experiment_fingerprint("demo", commit, repo=tree) == \
        experiment_fingerprint("demo", None, repo=tree) is not None
    assert experiment_fingerprint("demo", None, repo=tree) != \
        experiment_fingerprint("other", None, repo=tree)


def test_docstring_and_comment_edits_are_not_stale(repo):
    """(a) prose changes nothing that runs."""
    _edit(repo[0], "core/helpers.py", '"""x scaled by FACTOR (after the kernel)."""',
          '"""Return x, scaled.\n\n    Cost O(1)."""')
    _edit(repo[0], "core/helpers.py", "# the kernel adds one", "# see _kernel")
    _edit(repo[0], "core/helpers.py", '"""Helpers the experiments call."""', '"""Helpers."""')
    _edit(repo[0], "bench/experiments.py", '"""The demo experiment."""',
          '"""The demo experiment: one run per (m, x)."""')
    _edit(repo[0], "core/model.py", '    """A network of width m."""\n', "")
    assert _stale(repo) == set()


def test_moving_a_helper_and_its_file_is_not_stale(repo):
    """(b) definitions are keyed by name: `scaled` moves to the model module, and that
    file to another folder; imports and a message naming the module follow."""
    tree, _ = repo
    helpers = (tree / PKG / "core/helpers.py").read_text()
    start, end = helpers.index("def scaled"), helpers.index("@numba.njit")
    (tree / PKG / "core/helpers.py").write_text(helpers[:start] + helpers[end:])
    model = (tree / PKG / "core/model.py").read_text()
    (tree / PKG / "core/model.py").unlink()
    _write(tree, "nn/__init__.py", "")
    (tree / PKG / "nn/model.py").write_text(
        model.replace('"""The model."""\n',
                      '"""The model."""\n\nfrom ..core.helpers import FACTOR, _kernel\n')
        .replace("verify_sublin.core.model.Net", "verify_sublin.nn.model.Net")
        + "\n\n" + helpers[start:end].rstrip() + "\n")
    _edit(tree, "bench/experiments.py",
          "from ..core.helpers import Counter, scaled, unrelated\nfrom ..core.model import Net\n",
          "from ..core.helpers import Counter, unrelated\nfrom ..nn.model import Net, scaled\n")
    _edit(tree, "bench/experiments.py", "from ..core.helpers import scaled as scale",
          "from ..nn.model import scaled as scale")
    _git(tree, "add", "-A")                          # a move git sees as one (no matter)
    assert _stale(repo) == set()


def test_changing_a_constant_the_helper_uses_is_stale(repo):
    """(c) a module-level constant reached through the helper."""
    _edit(repo[0], "core/helpers.py", "FACTOR = 3.0", "FACTOR = 3.5")
    assert _stale(repo) == {"demo", "timed"}
    assert differing_definitions("demo", repo[1], repo=repo[0]) == {"FACTOR": "changed"}


def test_changing_a_class_constant_is_stale(repo):
    """A class attribute read as self.BLOCK belongs to the closure."""
    _edit(repo[0], "core/model.py", "BLOCK = 4", "BLOCK = 8")
    assert _stale(repo) == {"demo"}


def test_changing_an_unrelated_function_is_not_stale(repo):
    """(d) only the experiment that calls it is stale."""
    _edit(repo[0], "core/helpers.py", 'return p["n"] * 2', 'return p["n"] * 3')
    assert _stale(repo) == {"other"}


def test_a_method_is_looked_up_in_the_class_that_made_the_object(repo):
    """`net = Net(...); net.out(...)` reaches Net.out, not every method named `out`."""
    _edit(repo[0], "core/helpers.py", "return seed + 1", "return seed + 2")
    assert _stale(repo) == {"other"}
    _edit(repo[0], "core/model.py", "self.m * self.BLOCK + seed", "self.m * self.BLOCK - seed")
    assert _stale(repo) == {"demo", "other"}


def test_changing_a_render_only_module_is_not_stale(repo):
    """(e) the renderer never computes a stored figure, even where it defines a name the
    experiment reaches (`scaled`) or reads a constant the experiment uses."""
    _edit(repo[0], "render/report.py", "rows at scale", "rows, scale")
    _edit(repo[0], "render/report.py", "def render(rows):", "def render(rows, FACTOR=2.0):")
    _edit(repo[0], "render/report.py", 'f"{x:.2f}"', 'f"{x:.3f}"')
    assert _stale(repo) == set()
    assert is_plumbing("verify_sublin/render/report.py")
    assert is_plumbing("verify_sublin/claims/catalog_rq.py")       # the flat layout
    assert not is_plumbing("verify_sublin/core/helpers.py")


def test_changing_a_numba_directive_is_stale(repo):
    """(f) numba decorators change the compiled code; other decorators do not count."""
    _edit(repo[0], "core/helpers.py", "@numba.njit(cache=True)",
          "@numba.njit(cache=True, fastmath=True)")
    assert _stale(repo) == {"demo", "timed"}


def test_executor_changes_reach_timing_experiments_only(repo):
    """run_isolated (plumbing) sets the threads timed code runs with: timing only."""
    _edit(repo[0], "bench/executors.py", "return threads", "return threads or 1")
    assert _stale(repo) == {"timed"}
    assert differing_definitions("timed", repo[1], repo=repo[0]) == {"executor:_limit": "changed"}


def test_explicit_registry_calls_match_the_decorator(repo):
    """The new registry form, Experiment("name", fn, timing=...), names the same code."""
    tree, _ = repo
    text = (tree / PKG / "bench/experiments.py").read_text()
    for name in ("demo", "other"):
        text = text.replace(f'@register("{name}")\n', "")
    text = text.replace('@register("timed", timing=True)\n', "")
    text += ('\n\nREGISTRY = [Experiment("demo", demo), experiment("other", other),\n'
             '            Experiment("timed", timed, timing=True)]\n')
    (tree / PKG / "bench/experiments.py").write_text(text)
    assert _stale(repo) == set()
    text = text.replace('Experiment("timed", timed, timing=True)', 'Experiment("timed", timed)')
    (tree / PKG / "bench/experiments.py").write_text(text)
    assert _stale(repo) == {"timed"}                 # no longer timing: other code runs it


def test_dirty_unknown_and_missing_cannot_be_told(repo):
    """(g) a "+dirty" commit, "unknown", a commit not in the history, no experiment."""
    tree, commit = repo
    for bad in (commit + "+dirty", "unknown", "", "0" * 40, "not-a-commit"):
        assert experiment_fingerprint("demo", bad, repo=tree) is None, bad
        assert stale_experiments(bad, ["demo"], repo=tree) is None, bad
        assert package_sources(bad, repo=tree) is None, bad
    assert experiment_fingerprint("nosuch", commit, repo=tree) is None
    assert stale_experiments(commit, ["nosuch"], repo=tree) == {"nosuch"}  # conservative


def test_sources_of_a_commit_and_of_the_working_tree(repo):
    tree, commit = repo
    then, now = package_sources(commit, repo=tree), package_sources(None, repo=tree)
    assert then == now
    assert set(then) == {f"verify_sublin/{rel}" for rel in FILES}
    assert then["verify_sublin/core/model.py"].startswith('"""The model."""')


def test_staleness_report_reads_a_store(repo):
    tree, commit = repo
    store = tree / "results.sqlite"
    con = sqlite3.connect(store)
    con.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, experiment TEXT, git_commit TEXT)")
    con.executemany("INSERT INTO runs (experiment, git_commit) VALUES (?, ?)",
                    [("demo", commit), ("demo", commit), ("other", commit),
                     ("demo", commit + "+dirty")])
    con.commit()
    con.close()
    _edit(tree, "core/helpers.py", 'return p["n"] * 2', 'return p["n"] * 3')
    assert staleness_report(store, repo=tree) == [
        (commit, "demo", False), (commit, "other", True), (commit + "+dirty", "demo", None)]
