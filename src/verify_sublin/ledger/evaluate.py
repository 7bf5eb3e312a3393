"""Verdicts from a results store: each entry's stored runs, typed, through its rule.

Cost: one store read per entry and the entries' own evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..bench.experiments import EXPERIMENTS, typed_result
from ..bench.spec import RunRecord, run_key
from ..bench.store import ResultStore
from .entry import Verdict
from .registry import ENTRIES, resolve

__all__ = ["evaluate", "records_for"]


def records_for(entry_id: str, store: ResultStore, profile: str,
                backend: str = "numpy") -> list[RunRecord]:
    """The stored runs of an entry at `profile`, in the order of its specs, with typed
    results (missing runs are left out)."""
    out = []
    for spec in ENTRIES[entry_id].planned(profile):
        row = store.get(run_key(spec, backend, profile))
        if row is None:
            continue
        result = typed_result(EXPERIMENTS.get(spec.experiment), row["result"])
        out.append(RunRecord(row["id"], row["key"], spec, row["status"], result,
                             row["error"], row["git_commit"] or "unknown", row["seconds"] or 0.0))
    return out


def evaluate(entry_ids: Iterable[str] | None, store: ResultStore, profile: str,
             backend: str = "numpy") -> list[tuple[Verdict, list[RunRecord]]]:
    """Each entry's verdict from the stored runs. A rule that raises yields an
    'inconclusive' verdict naming the error (the report never drops an entry)."""
    out = []
    for eid in resolve(entry_ids, profile):
        records = records_for(eid, store, profile, backend)
        try:
            verdict = ENTRIES[eid].evaluate(records, profile)
        except Exception as exc:
            verdict = Verdict(eid, "inconclusive", "", "evaluation failed",
                              f"the rule could not be applied: {type(exc).__name__}: {exc}",
                              runs=[r.id for r in records])
        out.append((verdict, records))
    return out
