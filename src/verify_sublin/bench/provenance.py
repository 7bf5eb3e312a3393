"""Where a number came from: git commit, machine, package versions, BLAS.

Cost: a few subprocess calls (git) and file reads; call once per run.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

__all__ = ["git_commit", "machine_info", "provenance", "sources_dirty", "versions"]

_PACKAGES = ("numpy", "scipy", "numba", "scikit-learn", "matplotlib", "verify_sublin")


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(cwd: str | os.PathLike | None = None) -> str:
    """The commit of the code that runs: $VERIFY_SUBLIN_COMMIT if set, else the git
    repository holding this package's source (editable installs) or `cwd`, with
    "+dirty" when the package's tracked sources differ from the commit (`sources_dirty`);
    "unknown" without git."""
    env = os.environ.get("VERIFY_SUBLIN_COMMIT")
    if env:
        return env
    for where in (Path(__file__).resolve().parent, Path(cwd or os.getcwd())):
        head = _git(["rev-parse", "HEAD"], where)
        if head:
            return head + ("+dirty" if sources_dirty(where) else "")
    return "unknown"


def sources_dirty(where: str | os.PathLike) -> bool:
    """Whether the tracked package sources (src/ and pyproject.toml, from the top of the
    repository holding `where`) differ from HEAD. Edited reports, docs or tests do not
    change the code that runs, so they do not count. Cost: one `git status`."""
    out = _git(["status", "--porcelain", "--untracked-files=no", "--",
                ":(top)src", ":(top)pyproject.toml"], Path(where))
    return bool(out)


@lru_cache(maxsize=1)
def machine_info() -> dict:
    """Platform, CPU model, logical cores and memory of this machine."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu": cpu,
            "cores": os.cpu_count(), "memory_gib": mem, "python": sys.version.split()[0]}


@lru_cache(maxsize=1)
def versions() -> dict:
    """Versions of the packages behind the numbers, and numpy's BLAS."""
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    try:
        import numpy as np
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        out["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older numpy: no dict mode
        out["blas"] = None
    return out


def provenance(backend: str = "numpy") -> dict:
    """Commit, machine (with the backend's device) and versions in one dict."""
    from ..core.backend import resolve_backend

    machine = dict(machine_info())
    be = resolve_backend(backend)
    machine["backend"] = be.name
    machine["device"] = be.device
    vers = dict(versions())
    if be.name == "cupy":
        import cupy
        vers["cupy"] = cupy.__version__
    return {"commit": git_commit(), "machine": machine, "versions": vers}
