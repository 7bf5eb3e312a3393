"""What a report shows, assembled: each entry's verdict with its runs and whether they
are current, the views across entries, and the facts of the store and machine.

`assemble` is the one place where a store is evaluated for a report; the renderer
(`verify_sublin.render.report`) only formats a `ReportModel`. Cost: one evaluation of the
entries (`evaluate`), one staleness check per (commit, experiments) pair (milliseconds
after the first parse of a commit's sources), one pass over the store's rows.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..bench.fingerprint import stale_experiments
from ..bench.provenance import git_commit, machine_info, versions
from ..bench.spec import RunRecord
from ..bench.store import ResultStore
from .entry import Verdict
from .evaluate import evaluate
from .plot import Plot
from .registry import ENTRIES, resolve

__all__ = ["EntryOutcome", "ReportModel", "assemble", "profile_rows", "reference_verdicts"]


@dataclass
class EntryOutcome:
    """One entry in a report: the entry, its verdict, its runs, and `stale`: some run was
    made by code (at another commit) whose computation of that run's experiment differs
    from the code the report is assembled with (or that cannot be told)."""

    entry: Any
    verdict: Verdict
    records: list[RunRecord]
    stale: bool


@dataclass
class ReportModel:
    """Everything a report shows; see `assemble`."""

    profile: str
    backend: str
    outcomes: list[EntryOutcome]
    views: list[tuple[str, Plot]]
    commit: str
    rendered: str
    machine: dict
    versions: dict
    devices: list[str]
    store_path: Path
    runs_total: int
    runs_failed: int
    commits: dict[str, tuple[int, float]]
    #: commit -> the experiments whose computing code changed since it (None: unknown)
    changed_since: dict[str, list[str] | None]
    largest_m: int
    indicative: bool
    reference: dict[str, str] | None = None
    extra: dict = field(default_factory=dict)


def _stale(records: list[RunRecord], commit: str, cache: dict) -> bool:
    """Whether any run's experiment was computed by other code than today's."""
    for r in records:
        if r.commit == commit:
            continue
        if r.commit not in cache:
            cache[r.commit] = {}
        known = cache[r.commit]
        if r.spec.experiment not in known:
            stale = stale_experiments(r.commit, [r.spec.experiment])
            known[r.spec.experiment] = True if stale is None else r.spec.experiment in stale
        if known[r.spec.experiment]:
            return True
    return False


def profile_rows(store: ResultStore, profile: str, backend: str) -> list:
    """The store's rows of one profile and backend (a report never mixes them)."""
    return [row for row in store.runs() if row["profile"] == profile and row["backend"] == backend]


def reference_verdicts(where: str | Path | None, backend: str = "numpy"
                       ) -> dict[str, str] | None:
    """The full-profile verdicts a quick report is shown beside, entry id -> verdict:
    from `where` (a report folder: its verdicts.json, else its results.sqlite evaluated
    read-only). None when there is none. Cost: one evaluation of the ledger at most."""
    if where is None:
        return None
    d = Path(where)
    vj = d / "verdicts.json"
    if vj.exists():
        try:
            data = json.loads(vj.read_text())
            return {e["claim"]: e["verdict"] for e in data["verdicts"]}
        except (ValueError, KeyError, TypeError):
            pass
    db = d / "results.sqlite"
    if db.exists():
        results = evaluate(None, ResultStore(db, readonly=True), "full", backend)
        # an entry the full store has no runs for (a plugin's, say) is not in it
        return {v.claim_id: v.verdict for v, recs in results
                if recs or not ENTRIES[v.claim_id].planned("full")}
    return None


def assemble(store: ResultStore, profile: str, entry_ids=None, backend: str = "numpy",
             reference: str | Path | None = None) -> ReportModel:
    """Evaluate the entries of `store` at `profile` and gather what the report says about
    them. Below the full profile the verdicts of the report folder `reference` are
    attached for comparison."""
    from .views import summary_views

    ids = resolve(entry_ids, profile)
    results = evaluate(ids, store, profile, backend)
    commit = git_commit()
    cache: dict = {}
    outcomes = [EntryOutcome(ENTRIES[v.claim_id], v, recs, _stale(recs, commit, cache))
                for v, recs in results]
    rows = profile_rows(store, profile, backend)
    devices = sorted({str((row.get("machine") or {}).get("device", "cpu")) for row in rows}
                     or {"cpu"})
    commits: dict[str, tuple[int, float]] = {}
    for row in rows:
        n, s = commits.get(str(row["git_commit"]), (0, 0.0))
        commits[str(row["git_commit"])] = (n + 1, s + float(row["seconds"] or 0.0))
    experiments = sorted({row["experiment"] for row in rows})
    changed = {}
    for c in commits:
        if c != commit:
            stale = stale_experiments(c, experiments)
            changed[c] = None if stale is None else sorted(stale)
    largest = max((int(r.params.get("m", 0)) for o in outcomes for r in o.records
                   if isinstance(r.params.get("m", 0), int)), default=0)
    indicative = profile in ("tiny", "quick")     # large extends full: not indicative
    return ReportModel(
        profile, backend, outcomes, summary_views([row for row in rows if row.ok]), commit,
        _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), machine_info(), versions(),
        devices, Path(store.path), store.count(), store.count("failed"), commits, changed,
        largest, indicative, reference_verdicts(reference, backend) if indicative else None)
