"""The package's sources at a commit or in the working tree, and which of its modules
compute runs (the others are plumbing: they declare, schedule, store, describe or render
runs). Used by `verify_sublin.bench.fingerprint` to tell stale runs.

Cost: one `git ls-tree` and one `git cat-file --batch` per commit (cached), one read per
file of the working tree.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

__all__ = ["PLUMBING", "is_plumbing", "package_sources"]


#: Paths (relative to the package folder, fnmatch patterns) of modules that never compute
#: a stored figure: they declare runs (a changed run key makes a run missing, never
#: stale), schedule, store or describe them, or render the report from the stored
#: results. The layered layout first, then the older flat one; a path matching either
#: is plumbing. Every other ``__init__.py`` is plumbing too unless it defines a function
#: or class (other than the module hooks ``__getattr__``/``__dir__``): core/trainers'
#: holds `make_trainer` and the method table every training run goes through.
PLUMBING: tuple[str, ...] = (
    # layered layout
    "ledger/*", "render/*", "cli/*", "api.py", "plugins.py", "claims/__init__.py",
    "claims/ledger.py",
    "bench/store.py", "bench/runner.py", "bench/provenance.py", "bench/fingerprint.py",
    "bench/sources.py", "bench/definitions.py",
    "bench/reproduce.py", "bench/executors.py", "bench/spec.py", "bench/results.py",
    "bench/schema.py",
    "bench/experiments/__init__.py",
    # flat layout (the renderer-only list of its time, the store, runner and executors)
    "report.py", "provenance.py", "compare.py", "export.py", "cli.py",
    "claims/__init__.py", "claims/ledger.py", "claims/catalog*.py", "claims/rules.py",
    "claims/fitting.py", "store.py", "claims/runner.py", "reproduce.py", "executors.py",
)


_MODULE_HOOKS = frozenset({"__getattr__", "__dir__"})


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
