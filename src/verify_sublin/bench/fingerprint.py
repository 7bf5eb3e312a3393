"""Whether a stored run is stale: a fingerprint of the code that computes its experiment.

A run records the git commit of the package that made it. The run is *stale* when the
code that computes its experiment differs between that commit and the package being
imported now, and only then: moving a file or a function, editing a docstring or a
comment, or changing code the experiment never reaches leaves it current.

The fingerprint of an experiment at a commit (or in the working tree):

1. the package's sources (`package_sources`: one `git ls-tree` and one `git cat-file
   --batch` for a commit, cached; the files of the imported package for the working
   tree);
2. the modules that compute runs (`is_plumbing` tells the others: the ledger, the
   renderer, the command line, the store, the runner, ...; at the old flat layout and
   at the layered one);
3. their definitions: every top-level function, class and assignment, every method
   (``Class.method``) and class attribute (``Class.NAME``), each as the `ast.dump` of
   its node without docstrings, positions, decorators (numba compilation directives
   kept: they change what runs), package-internal import paths and package module
   paths inside strings (both change when files move). A definition is keyed by its
   name, never by its module, so that a move keeps its key;
4. the experiment's closure: from its registered function (``@register("name")`` or
   ``Experiment("name", fn, ...)``), every name and attribute it mentions resolved to
   the definitions of that name (``x.step``: every method and definition named
   ``step``), transitively; reaching a class reaches its header (bases, dataclass
   fields) and its dunder methods. Three refinements keep it from reaching the whole
   package: ``self.f`` (or ``cls.f``, ``super().f``) looks in the class, its
   subclasses and their bases; ``x.f`` after ``x = Class(...)`` (the only binding of
   x) looks in Class and its bases; ``np.f`` (any attribute of an outside module)
   reaches nothing; names local to a function reach nothing. For a timing experiment,
   the executor's `run_isolated` and what it reaches in executors.py belong to it
   too (it sets the threads the timed code runs with);
5. sha256 over the sorted (key, digest of the dumps) pairs of the closure and the
   timing flag.

The closure over-approximates (an attribute of an unknown object reaches every method
of that name), so a change can mark an experiment stale that it does not touch, never
the other way round, up to what no source shows: code reached only through strings
(getattr), module-level statements that are not assignments, other packages.

Cost: the first call for a tree parses its computing modules (about 0.3 s for this
package); later calls for the same tree (cached by content) cost a graph walk of the
closure, microseconds to milliseconds, plus one `git ls-tree` when the commit is not a
full 40-digit hash.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .definitions import _add_module, _Index, _Normalizer, _registrations, _scope
from .sources import PLUMBING, _listed, is_plumbing, package_sources

__all__ = ["PLUMBING", "differing_definitions", "experiment_fingerprint", "is_plumbing",
           "package_sources", "stale_experiments", "staleness_report"]

_EXECUTORS = "executors.py"
_EXECUTOR_ROOT = "run_isolated"
















































_REGISTRY_HINT = re.compile(r"\b(?:register|[Ee]xperiment)\(")


def _build(sources: dict[str, str]) -> _Index:
    """The index of one tree: parse, classify, normalise, collect. Cost: one parse of
    every computing module (and of the plumbing ones that may register experiments)."""
    package = next(iter(sources)).split("/", 1)[0]
    stems = {}
    for path in sources:
        mod = path[:-3].replace("/", ".")
        mod = mod[:-len(".__init__")] if mod.endswith(".__init__") else mod
        stems[mod] = mod.rpartition(".")[2]
    index = _Index()
    parsed = []
    for path, text in sorted(sources.items()):
        rel = path.split("/", 1)[1]
        executors = rel.rpartition("/")[2] == _EXECUTORS
        if _listed(rel) and not executors and not _REGISTRY_HINT.search(text):
            continue
        try:
            tree = ast.parse(text, path)
        except SyntaxError:
            continue
        nodes = list(ast.walk(tree))
        for name, fn, timed in _registrations(nodes):
            index.registry.setdefault(name, []).append((fn, timed))
        computing = not is_plumbing(path, tree)
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.asname and alias.asname != alias.name:
                        index.aliases.setdefault(alias.asname, set()).add(
                            alias.name.rpartition(".")[2])
        if computing or executors:
            parsed.append((tree, nodes, _scope(tree, nodes, package, set(stems.values())),
                           computing, executors))
    norm = _Normalizer(package, stems, index.aliases)
    for tree, nodes, scope, computing, executors in parsed:
        norm.apply(nodes, scope)
        if computing:
            _add_module(index, tree, scope)
        if executors:
            index.executor = _Index(aliases=index.aliases)
            _add_module(index.executor, tree, scope)
    return index


_INDEXES: dict[str, _Index] = {}


def _index(commit: str | None, repo: str | os.PathLike | None) -> _Index | None:
    """The cached index of the tree at `commit` (None: working tree), keyed by content.
    Cost: `package_sources`, plus `_build` the first time a tree's content is seen."""
    sources = package_sources(commit, repo)
    if not sources:
        return None
    h = hashlib.sha256()
    for path, text in sorted(sources.items()):
        h.update(path.encode() + b"\0" + text.encode() + b"\0")
    key = h.hexdigest()
    if key not in _INDEXES:
        if len(_INDEXES) >= 16:
            _INDEXES.pop(next(iter(_INDEXES)))
        _INDEXES[key] = _build(sources)
    return _INDEXES[key]


# --------------------------------------------------------------------------- API
def _fingerprint(index: _Index, experiment: str) -> str | None:
    if experiment in index.closures:
        return index.closures[experiment]
    regs = index.registry.get(experiment)
    out = None
    if regs and all(fn in index.defs for fn, _ in regs):
        timing = any(t for _, t in regs)
        h = hashlib.sha256(f"experiment {experiment} timing={timing}\n".encode())
        for key in sorted(index.closure(fn for fn, _ in regs)):
            h.update(f"{key}\0{index.digest(key)}\n".encode())
        if timing:
            ex = index.executor
            keys = sorted(ex.closure([_EXECUTOR_ROOT])) if ex is not None else []
            h.update(b"executor\n")
            for key in keys:
                h.update(f"executor:{key}\0{ex.digest(key)}\n".encode())
        out = h.hexdigest()
    index.closures[experiment] = out
    return out


def experiment_fingerprint(experiment: str, commit: str | None, *,
                           repo: str | os.PathLike | None = None) -> str | None:
    """sha256 (hex) of the code that computes `experiment` at `commit` (None: the
    working tree of the imported package, or of `repo`); None when it cannot be told:
    no git, an unknown commit, a commit ending in "+dirty" or "unknown", or no such
    experiment at that commit. Two fingerprints are equal when the closure of the
    experiment (see the module doc) is the same code.
    Cost: see the module doc (a cached tree: one closure walk, once per experiment)."""
    index = _index(commit, repo)
    return None if index is None else _fingerprint(index, experiment)


def stale_experiments(commit: str, experiments: Iterable[str], *,
                      repo: str | os.PathLike | None = None) -> set[str] | None:
    """The experiments among `experiments` whose code at `commit` differs from the
    working tree's: their runs made at `commit` are stale. An experiment that cannot
    be found at the commit or in the working tree counts as stale (its runs cannot be
    shown to come from today's code). None when it cannot be told for the commit (no
    git, an unknown, "+dirty" or "unknown" commit).
    Cost: two cached trees and one closure walk per experiment and tree."""
    then = _index(commit, repo) if commit else None
    now = _index(None, repo)
    if then is None or now is None:
        return None
    out = set()
    for name in experiments:
        old, new = _fingerprint(then, name), _fingerprint(now, name)
        if old is None or new is None or old != new:
            out.add(name)
    return out


def differing_definitions(experiment: str, commit: str, *,
                          repo: str | os.PathLike | None = None) -> dict[str, str] | None:
    """Why `experiment` is stale: {key: "changed" | "added" | "removed"} over the union
    of its closures at `commit` and in the working tree (executor keys prefixed
    "executor:"). None when either side cannot be told. Cost as `stale_experiments`."""
    then, now = _index(commit, repo), _index(None, repo)
    if then is None or now is None or _fingerprint(then, experiment) is None \
            or _fingerprint(now, experiment) is None:
        return None

    def digests(index: _Index) -> dict[str, str]:
        regs = index.registry[experiment]
        out = {k: index.digest(k) for k in index.closure(fn for fn, _ in regs)}
        if any(t for _, t in regs) and index.executor is not None:
            ex = index.executor
            out |= {f"executor:{k}": ex.digest(k) for k in ex.closure([_EXECUTOR_ROOT])}
        return out

    old, new = digests(then), digests(now)
    diff = {}
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            diff[key] = "removed"
        elif key not in old:
            diff[key] = "added"
        elif old[key] != new[key]:
            diff[key] = "changed"
    return diff


def staleness_report(store_path: str | os.PathLike, *, repo: str | os.PathLike | None = None
                     ) -> list[tuple[str, str, bool | None]]:
    """(commit, experiment, stale) for every commit and experiment of the runs in the
    results store at `store_path` (opened read-only), sorted: stale is True or False
    against the working tree, None when it cannot be told for that commit.
    Cost: one SELECT DISTINCT, then `stale_experiments` per commit."""
    uri = Path(store_path).resolve().as_uri() + "?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        pairs = con.execute("SELECT DISTINCT git_commit, experiment FROM runs").fetchall()
    finally:
        con.close()
    by_commit: dict[str, set[str]] = {}
    for commit, experiment in pairs:
        by_commit.setdefault(commit or "", set()).add(experiment)
    out = []
    for commit, names in sorted(by_commit.items()):
        stale = stale_experiments(commit, names, repo=repo) if commit else None
        for name in sorted(names):
            out.append((commit, name, None if stale is None else name in stale))
    return out
