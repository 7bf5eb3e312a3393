"""Definitions of the package's computing modules, for `verify_sublin.bench.fingerprint`:
each top-level function, class, assignment, method and class attribute, keyed by its
name (``Class.method``), as a normalised `ast.dump`, with the names it reaches, and the
experiments' registrations in both registry forms. Cost: one parse per module, a
closure walk per experiment.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Names whose mention in a decorator makes it a numba compilation directive (kept).
NUMBA_DIRECTIVES = frozenset({"jit", "njit", "vectorize", "guvectorize", "stencil", "prange",
                              "numba"})


#: Callables that register an experiment: ``@register("name", timing=...)`` on the
#: function, or ``Experiment("name", fn, ...)`` / ``experiment("name", fn, ...)``.
_DECORATOR_REGISTRIES = frozenset({"register"})


_CALL_REGISTRIES = frozenset({"Experiment", "experiment"})


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

    def apply(self, nodes: list[ast.AST], scope: _Scope | None = None) -> None:
        """Normalise a module (`nodes`: all of its nodes, from ast.walk; `scope`: what its
        imports bind). A name bound to one of the package's modules reads ``<module>``,
        so that ``K.kernel`` stays the same when the kernel moves to another module
        imported under another name. Cost O(len(nodes))."""
        modules = scope.modules if scope is not None else frozenset()
        for node in nodes:
            if isinstance(node, ast.Name) and node.id in modules:
                node.id = "<module>"
                continue
            if isinstance(node, ast.alias) and (node.asname or node.name) in modules:
                node.name, node.asname = "<module>", None
                continue
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


#: Methods of Python's lists, dicts and sets. ``x.append(...)`` on an object of unknown type
#: is taken to be the container's: were it resolved by name, renaming a package class's
#: ``append`` would mark every experiment that appends to a list stale. A package method
#: of these names is still reached through ``self``, its class or a typed binding.
CONTAINER_METHODS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "copy",
                               "count", "index", "reverse", "sort", "get", "items", "keys",
                               "values", "update", "setdefault", "add", "discard",
                               "difference", "union", "intersection"})

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
                    if not _dunder(attr) and attr not in CONTAINER_METHODS:
                        out |= self.by_last.get(attr, set())   # reached through their class
                if d.own:
                    family = self.family(d.owner)
                    out |= {f"{c}.{attr}" for attr in d.own for c in family
                            if f"{c}.{attr}" in self.defs}
                for callee, attr in d.typed:
                    if callee in self.bases and not _dunder(attr):   # an instance of a class
                        out |= {f"{c}.{attr}" for c in self.ancestors(callee)
                                if f"{c}.{attr}" in self.defs}
                    elif not _dunder(attr) and attr not in CONTAINER_METHODS:
                        out |= self.by_last.get(attr, set())   # a function's result: any type
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
                yield named(node), node.args[1].id, timing(node, 3)   # (name, fn, result, timing)
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
