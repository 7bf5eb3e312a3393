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
import copy
import hashlib
import os
import re
import sqlite3
import subprocess
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

__all__ = ["PLUMBING", "differing_definitions", "experiment_fingerprint", "is_plumbing", "package_sources",
           "stale_experiments", "staleness_report"]

#: Paths (relative to the package folder, fnmatch patterns) of modules that never compute
#: a stored figure: they declare runs (a changed run key makes a run missing, never
#: stale), schedule, store or describe them, or render the report from the stored
#: results. The layered layout first, then the older flat one; a path matching either
#: is plumbing. Every other ``__init__.py`` is plumbing too unless it defines a function
#: or class (other than the module hooks ``__getattr__``/``__dir__``): core/trainers'
#: holds `make_trainer` and the method table every training run goes through.
PLUMBING: tuple[str, ...] = (
    # layered layout
    "ledger/*", "render/*", "cli/*", "api.py", "plugins.py",
    "bench/store.py", "bench/runner.py", "bench/provenance.py", "bench/fingerprint.py",
    "bench/reproduce.py", "bench/executors.py",
    # flat layout (the renderer-only list of its time, the store, runner and executors)
    "report.py", "provenance.py", "compare.py", "export.py", "cli.py",
    "claims/__init__.py", "claims/ledger.py", "claims/catalog*.py", "claims/rules.py",
    "claims/fitting.py", "store.py", "claims/runner.py", "reproduce.py", "executors.py",
)

#: Names whose mention in a decorator makes it a numba compilation directive (kept).
NUMBA_DIRECTIVES = frozenset({"jit", "njit", "vectorize", "guvectorize", "stencil", "prange",
                              "numba"})

#: Callables that register an experiment: ``@register("name", timing=...)`` on the
#: function, or ``Experiment("name", fn, ...)`` / ``experiment("name", fn, ...)``.
_DECORATOR_REGISTRIES = frozenset({"register"})
_CALL_REGISTRIES = frozenset({"Experiment", "experiment"})
_MODULE_HOOKS = frozenset({"__getattr__", "__dir__"})
_EXECUTORS = "executors.py"
_EXECUTOR_ROOT = "run_isolated"
_SHA = re.compile(r"[0-9a-f]{40}")


# ----------------------------------------------------------------------- sources
def _git(args: list[str], cwd: Path, data: bytes | None = None) -> bytes | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True,
                             timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def _package_dir(repo: str | os.PathLike | None) -> Path:
    """The package folder: the imported one, or src/<name> in `repo`'s working tree."""
    here = Path(__file__).resolve().parents[1]
    if repo is None:
        return here
    return Path(repo).resolve() / "src" / here.name


@lru_cache(maxsize=16)
def _top(where: Path) -> Path | None:
    """The top of the git working tree holding `where` (cached). Cost: one git call."""
    out = _git(["rev-parse", "--show-toplevel"], where) if where.is_dir() else None
    return Path(out.decode().strip()) if out else None


#: commit (full hash) -> its package listing; package listing digest -> sources
_LISTINGS: dict[tuple[str, str], tuple[tuple[str, str], ...] | None] = {}
_BLOBS: dict[str, str] = {}
_MAX_BLOBS = 2000


def _commit_listing(commit: str, pkg: Path) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """(folder of the package in the repository, ((path, blob), ...)) at `commit`.
    Cost: one `git ls-tree`, none for a full hash already listed."""
    top = _top(pkg.parent)
    if top is None:
        return None
    try:
        rel = pkg.relative_to(top).as_posix()
    except ValueError:
        return None
    key = (str(top), commit)
    if key not in _LISTINGS:
        out = _git(["ls-tree", "-r", "--full-tree", commit, "--", rel], top)
        rows = None
        if out is not None:
            rows = []
            for line in out.decode().splitlines():
                meta, _, path = line.partition("\t")
                parts = meta.split()
                if len(parts) == 3 and parts[1] == "blob" and path.endswith(".py"):
                    rows.append((path, parts[2]))
            rows = tuple(sorted(rows)) or None
        if not _SHA.fullmatch(commit):
            return (rel, rows) if rows else None       # a ref may move: never cached
        _LISTINGS[key] = rows
    rows = _LISTINGS[key]
    return (rel, rows) if rows else None


def package_sources(commit: str | None, repo: str | os.PathLike | None = None
                    ) -> dict[str, str] | None:
    """{module path: source text} of the package at `commit`, paths relative to src/
    (``verify_sublin/core/model.py``); `commit` None reads the working tree of the
    package being imported (or of `repo`, a git working tree with the package in
    src/). None when it cannot be told: no git, a commit not in the history, one ending
    in "+dirty", "unknown", or a tree without the package.
    Cost: one `git ls-tree` and at most one `git cat-file --batch` (blobs are cached;
    a full hash seen before costs no git call); the working tree: one read per file."""
    pkg = _package_dir(repo)
    if commit is None:
        if not (pkg / "__init__.py").is_file():
            return None
        return {p.relative_to(pkg.parent).as_posix(): p.read_text(encoding="utf-8")
                for p in sorted(pkg.rglob("*.py")) if "__pycache__" not in p.parts}
    if not commit or commit == "unknown" or commit.endswith("+dirty"):
        return None
    listing = _commit_listing(commit, pkg)
    if listing is None:
        return None
    rel, rows = listing
    top = _top(pkg.parent)
    missing = sorted({blob for _, blob in rows if blob not in _BLOBS})
    if missing and len(_BLOBS) + len(missing) > _MAX_BLOBS:
        _BLOBS.clear()                                 # bounded: a few trees' worth
        missing = sorted({blob for _, blob in rows})
    if missing:
        out = _git(["cat-file", "--batch"], top, "".join(b + "\n" for b in missing).encode())
        if out is None:
            return None
        pos = 0
        for _ in missing:
            end = out.index(b"\n", pos)
            sha, _, size = out[pos:end].decode().split()
            start = end + 1
            _BLOBS[sha] = out[start:start + int(size)].decode("utf-8", "replace")
            pos = start + int(size) + 1
    cut = len(rel) - len(pkg.name)                      # keep "<package>/..." only
    return {path[cut:]: _BLOBS[blob] for path, blob in rows}


# ------------------------------------------------------------------ classification
def _defines_code(tree: ast.Module) -> bool:
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
               and n.name not in _MODULE_HOOKS for n in tree.body)


def _listed(rel: str) -> bool:
    return any(fnmatchcase(rel, pattern) for pattern in PLUMBING)


def is_plumbing(path: str, tree: ast.Module | None = None) -> bool:
    """Whether the module at `path` (relative to src/: ``verify_sublin/ledger/rules.py``)
    never computes a stored figure: it matches `PLUMBING`, or it is an ``__init__.py``
    whose parsed `tree` (if given) defines no function or class but the module hooks.
    Cost O(len(PLUMBING)), plus a look at the top of `tree`."""
    rel = path.split("/", 1)[1] if "/" in path else path
    if _listed(rel):
        return True
    return rel.rpartition("/")[2] == "__init__.py" and (tree is None or not _defines_code(tree))


# -------------------------------------------------------------------- definitions
def _chain(node: ast.AST) -> list[str]:
    """The names of a dotted callee: ``numba.njit(...)`` -> ["numba", "njit"]."""
    if isinstance(node, ast.Call):
        node = node.func
    out = []
    while isinstance(node, ast.Attribute):
        out.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        out.append(node.id)
    return out[::-1]


class _Normalizer:
    """Removes docstrings, non-numba decorators, package import paths and package module
    paths in strings, in place, so that moves and prose leave the dumps unchanged."""

    def __init__(self, package: str, stems: dict[str, str], aliases: dict[str, set[str]]):
        self.package = package
        self.stems = stems
        self.aliases = aliases
        self.path_re = re.compile(rf"\b{re.escape(package)}(?:\.\w+)*")

    def apply(self, nodes: list[ast.AST]) -> None:
        """Normalise a module (`nodes`: all of its nodes, from ast.walk). Cost O(len(nodes))."""
        for node in nodes:
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                        and isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
                if not isinstance(node, ast.Module):
                    node.decorator_list = [d for d in node.decorator_list if self._numba(d)]
            elif isinstance(node, ast.ImportFrom):
                if self._internal(node.module, node.level):
                    node.module, node.level = None, 0      # where it lives: irrelevant
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if self._internal(alias.name, 0):
                        alias.name = self._path(alias.name)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and self.package in node.value:
                node.value = self.path_re.sub(lambda m: self._path(m.group(0)), node.value)

    def _numba(self, deco: ast.AST) -> bool:
        names = set(_chain(deco))
        for name in list(names):
            names |= self.aliases.get(name, set())
        return bool(names & NUMBA_DIRECTIVES)

    def _internal(self, module: str | None, level: int) -> bool:
        return level > 0 or module == self.package or (module or "").startswith(self.package + ".")

    def _path(self, dotted: str) -> str:
        """``verify_sublin.core.memory.f`` -> ``<memory>.f``: a module by its own name."""
        parts = dotted.split(".")
        for k in range(len(parts), 0, -1):
            stem = self.stems.get(".".join(parts[:k]))
            if stem is not None:
                return ".".join([f"<{stem}>", *parts[k:]])
        return dotted


@dataclass(frozen=True)
class _Scope:
    """What a module's names are bound to by its imports."""

    external: frozenset[str] = frozenset()    # names of outside modules and their members
    modules: frozenset[str] = frozenset()     # names of the package's own modules


_SELF = frozenset({"self", "cls"})


@dataclass
class _Def:
    dump: str
    names: frozenset[str]                 # names it mentions (bare, or a module's member)
    attrs: frozenset[str]                 # attributes of anything else
    own: frozenset[str]                   # attributes of self / cls / super()
    typed: frozenset[tuple[str, str]]     # (callee, attribute) of `x = Callee(...); x.attr`
    owner: str | None = None              # class of a method or class attribute


@dataclass
class _Index:
    """The computing definitions of one tree, and its experiment registrations."""

    defs: dict[str, list[_Def]] = field(default_factory=dict)
    by_last: dict[str, set[str]] = field(default_factory=dict)
    dunders: dict[str, set[str]] = field(default_factory=dict)    # class -> dunder methods
    bases: dict[str, set[str]] = field(default_factory=dict)      # class -> base names
    aliases: dict[str, set[str]] = field(default_factory=dict)    # asname -> names
    registry: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    executor: _Index | None = None
    edges: dict[str, frozenset[str]] = field(default_factory=dict)
    related: dict[str, frozenset[str]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    closures: dict[str, str | None] = field(default_factory=dict)

    def add(self, key: str, node: ast.AST, scope: _Scope, owner: str | None = None) -> None:
        """Record the definition `key` (a normalised node). What it mentions: ast.Name
        ids; attributes of the package's modules as names; attributes of self, cls and
        super() as the class's own; attributes of outside modules not at all; any other
        attribute by its name alone. Cost O(size of the node)."""
        names, attrs, own, typed = set(), set(), set(), set()
        nodes = list(ast.walk(node))
        function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        local = _locals(nodes) if function else set()
        made = _constructed(nodes) if function else {}
        for sub in nodes:
            if isinstance(sub, ast.Name):
                if isinstance(sub.ctx, ast.Load) and sub.id not in local:
                    names.add(sub.id)
            elif isinstance(sub, ast.Attribute):
                base = root = sub.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in scope.external:
                    continue                           # numpy.linalg.norm: not ours
                if isinstance(base, ast.Name) and base.id in scope.modules:
                    names.add(sub.attr)
                elif owner and ((isinstance(base, ast.Name) and base.id in _SELF) or (
                        isinstance(base, ast.Call) and _chain(base.func) == ["super"])):
                    own.add(sub.attr)
                elif isinstance(base, ast.Name) and base.id in made:
                    typed.add((made[base.id], sub.attr))
                else:
                    attrs.add(sub.attr)
        self.defs.setdefault(key, []).append(_Def(
            ast.dump(node), frozenset(names), frozenset(attrs), frozenset(own),
            frozenset(typed), owner))
        self.by_last.setdefault(key.rpartition(".")[2], set()).add(key)

    def ancestors(self, cls: str) -> set[str]:
        """`cls` and its base classes in the package, transitively. Cost O(ancestors)."""
        seen, todo = {cls}, [cls]
        while todo:
            for base in self.bases.get(todo.pop(), ()):
                if base not in seen:
                    seen.add(base)
                    todo.append(base)
        return seen

    def family(self, cls: str) -> frozenset[str]:
        """Classes whose members `self` may reach in a method of `cls`: its subclasses,
        and the ancestors of these and of `cls` (cached). Cost O(classes) once."""
        got = self.related.get(cls)
        if got is None:
            children: dict[str, set[str]] = {}
            for sub, bases in self.bases.items():
                for base in bases:
                    children.setdefault(base, set()).add(sub)

            def walk(start: set[str], step) -> set[str]:
                seen, todo = set(start), list(start)
                while todo:
                    for nxt in step(todo.pop()):
                        if nxt not in seen:
                            seen.add(nxt)
                            todo.append(nxt)
                return seen

            down = walk({cls}, lambda c: children.get(c, ()))
            got = self.related[cls] = frozenset(walk(down, lambda c: self.bases.get(c, ())))
        return got

    def neighbours(self, key: str) -> frozenset[str]:
        """Keys the definitions of `key` reach directly. Cost O(names + attrs), cached."""
        got = self.edges.get(key)
        if got is None:
            out: set[str] = set(self.dunders.get(key, ()))
            for d in self.defs[key]:
                if d.owner and d.owner in self.defs:
                    out.add(d.owner)                   # its class: bases for super()
                for name in d.names:
                    for cand in (name, *self.aliases.get(name, ())):
                        if cand in self.defs:
                            out.add(cand)
                        if d.owner and f"{d.owner}.{cand}" in self.defs:
                            out.add(f"{d.owner}.{cand}")
                for attr in d.attrs:
                    if not _dunder(attr):              # reached through their class
                        out |= self.by_last.get(attr, set())
                if d.own:
                    family = self.family(d.owner)
                    out |= {f"{c}.{attr}" for attr in d.own for c in family
                            if f"{c}.{attr}" in self.defs}
                for callee, attr in d.typed:
                    if callee in self.bases and not _dunder(attr):   # an instance of a class
                        out |= {f"{c}.{attr}" for c in self.ancestors(callee)
                                if f"{c}.{attr}" in self.defs}
                    elif not _dunder(attr):            # a function's result: any type
                        out |= self.by_last.get(attr, set())
            out.discard(key)
            got = self.edges[key] = frozenset(out)
        return got

    def digest(self, key: str) -> str:
        got = self.digests.get(key)
        if got is None:
            dumps = sorted(d.dump for d in self.defs[key])
            got = self.digests[key] = hashlib.sha256("\0".join(dumps).encode()).hexdigest()
        return got

    def closure(self, roots: Iterable[str]) -> set[str]:
        """Every key reachable from `roots` (breadth first). Cost O(closure edges)."""
        seen = {r for r in roots if r in self.defs}
        todo = deque(seen)
        while todo:
            for nxt in self.neighbours(todo.popleft()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen


def _locals(nodes: list[ast.AST]) -> set[str]:
    """Names local to a function (`nodes`: all of its nodes, itself first): its and its
    inner functions' parameters and every name they assign, less those declared
    global. They never name a definition (a name a function imports does: it is the
    definition's own name). Cost O(len(nodes))."""
    node = nodes[0]
    out, shared = set(), set()
    for sub in nodes:
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            out.add(sub.id)
        elif isinstance(sub, ast.arg):
            out.add(sub.arg)
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            shared.update(sub.names)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is not node:
            out.add(sub.name)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            out.add(sub.name)
    return out - shared


def _constructed(nodes: list[ast.AST]) -> dict[str, str]:
    """{local name: callee} for the names a function (`nodes`: all of its nodes) binds
    only as ``name = Callee(...)`` (one callee, a bare name; never a parameter, a loop
    target or anything else), so that ``name.attr`` can be looked up in the class
    `Callee`, if it is one. Cost O(len(nodes))."""
    callee: dict[str, str | None] = {}
    typed_targets = set()
    for sub in nodes:
        if isinstance(sub, ast.Assign) and len(sub.targets) == 1 \
                and isinstance(sub.targets[0], ast.Name) and isinstance(sub.value, ast.Call) \
                and isinstance(sub.value.func, ast.Name):
            name, cls = sub.targets[0].id, sub.value.func.id
            callee[name] = cls if callee.get(name, cls) == cls else None
            typed_targets.add(id(sub.targets[0]))
    for sub in nodes:
        if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load) \
                and id(sub) not in typed_targets:
            callee[sub.id] = None
        elif isinstance(sub, ast.arg):
            callee[sub.arg] = None
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            callee.update(dict.fromkeys(sub.names))
    return {name: cls for name, cls in callee.items() if cls is not None}


def _dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _targets(node: ast.AST) -> list[str]:
    """Names an assignment target binds (a subscript or attribute: its base's name)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for elt in node.elts for n in _targets(elt)]
    if isinstance(node, ast.Starred):
        return _targets(node.value)
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.Subscript):
        return _targets(node.value)
    return []


def _statements(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Top-level statements, looking into if / try / with blocks."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            yield from _statements(stmt.body)
            yield from _statements(stmt.orelse)
        elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            yield from _statements(stmt.body)
            for handler in stmt.handlers:
                yield from _statements(handler.body)
            yield from _statements(stmt.orelse)
            yield from _statements(stmt.finalbody)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            yield from _statements(stmt.body)
        else:
            yield stmt


def _add_module(index: _Index, tree: ast.Module, scope: _Scope) -> None:
    """Definitions of one normalised module into `index`."""
    for stmt in _statements(tree.body):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            index.add(stmt.name, stmt, scope)
        elif isinstance(stmt, ast.ClassDef):
            members = []
            header = []
            for sub in stmt.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Assign)):
                    members.append(sub)
                else:
                    header.append(sub)                 # dataclass fields, nested classes
            head = copy.copy(stmt)
            head.body = header or [ast.Pass()]
            index.add(stmt.name, head, scope)
            index.bases.setdefault(stmt.name, set()).update(
                _chain(b)[-1] for b in stmt.bases if _chain(b))
            for sub in members:
                if isinstance(sub, ast.Assign):
                    for name in {n for t in sub.targets for n in _targets(t)}:
                        index.add(f"{stmt.name}.{name}", sub, scope, owner=stmt.name)
                else:
                    key = f"{stmt.name}.{sub.name}"
                    index.add(key, sub, scope, owner=stmt.name)
                    if _dunder(sub.name):
                        index.dunders.setdefault(stmt.name, set()).add(key)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for name in {n for t in targets for n in _targets(t)}:
                index.add(name, stmt, scope)


def _registrations(nodes: list[ast.AST]) -> Iterable[tuple[str, str, bool]]:
    """(experiment name, function name, timing) registered in a module (`nodes`: all of
    its nodes), in either form. Cost O(len(nodes))."""
    def timing(call: ast.Call, position: int) -> bool:
        for kw in call.keywords:
            if kw.arg == "timing":
                return not (isinstance(kw.value, ast.Constant) and not kw.value.value)
        return len(call.args) > position and not (
            isinstance(call.args[position], ast.Constant) and not call.args[position].value)

    def named(call: ast.Call) -> str | None:
        if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
            return call.args[0].value
        return None

    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and _chain(deco)[-1:] and \
                        _chain(deco)[-1] in _DECORATOR_REGISTRIES and named(deco):
                    yield named(deco), node.name, timing(deco, 1)
        elif isinstance(node, ast.Call):
            callee = _chain(node)
            if callee and callee[-1] in _CALL_REGISTRIES and named(node) \
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Name):
                yield named(node), node.args[1].id, timing(node, 2)
            elif isinstance(node.func, ast.Call) and _chain(node.func)[-1:] and \
                    _chain(node.func)[-1] in _DECORATOR_REGISTRIES and named(node.func) \
                    and node.args and isinstance(node.args[0], ast.Name):
                yield named(node.func), node.args[0].id, timing(node.func, 1)   # register(..)(fn)


def _scope(tree: ast.Module, nodes: list[ast.AST], package: str, module_names: set[str]
           ) -> _Scope:
    """The names the imports of module `tree` (`nodes`: all of its nodes) bind to
    outside modules (and their members) and to the package's own modules. A name the
    module also defines is neither. Cost O(len(nodes))."""
    external, modules = set(), set()
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                inside = alias.name == package or alias.name.startswith(package + ".")
                bound = alias.asname or alias.name.partition(".")[0]
                (modules if inside else external).add(bound)
        elif isinstance(node, ast.ImportFrom):
            inside = node.level > 0 or node.module == package or \
                (node.module or "").startswith(package + ".")
            for alias in node.names:
                bound = alias.asname or alias.name
                if not inside:
                    external.add(bound)
                elif alias.name in module_names:
                    modules.add(bound)
    defined = {n for stmt in _statements(tree.body) for n in (
        [stmt.name] if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        else [n for t in getattr(stmt, "targets", [getattr(stmt, "target", None)]) if t
              for n in _targets(t)])}
    return _Scope(frozenset(external - defined), frozenset(modules - defined))


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
        norm.apply(nodes)
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
