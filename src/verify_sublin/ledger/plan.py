"""The runs a set of entries needs at a profile: distinct runs, each with the entries
that use it (a run shared by several entries is made once). Cost: O(runs)."""

from __future__ import annotations

from collections.abc import Iterable

from ..bench.runner import PlannedRun
from ..bench.spec import run_key
from ..core.errors import check_choice
from .entry import PROFILES
from .registry import ENTRIES, resolve

__all__ = ["plan"]


def plan(entry_ids: Iterable[str] | None, profile: str, backend: str = "numpy") -> list[PlannedRun]:
    """The distinct runs the entries need at `profile`, in first-needed order (None: the
    profile's entries)."""
    profile = check_choice("profile", profile, PROFILES)
    runs: dict[str, PlannedRun] = {}
    for eid in resolve(entry_ids, profile):
        for spec in ENTRIES[eid].planned(profile):
            key = run_key(spec, backend, profile)
            runs.setdefault(key, PlannedRun(spec, key)).claims.append(eid)
    return list(runs.values())
