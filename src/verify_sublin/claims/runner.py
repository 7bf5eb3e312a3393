"""Run the experiments of a set of claims into the results store, then evaluate them.

`plan` lists the distinct runs the chosen claims need at a profile (runs shared by
several claims are made once). `execute` makes the runs that the store does not hold
yet (or all of them with ``recompute``), one at a time, committing each finished run
before the next starts; a run that raises is stored as failed with its reason and the
sweep goes on. `evaluate` reads the stored runs back and applies each claim's rule.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import InputError, check_choice
from ..provenance import provenance
from ..store import ResultStore
from .experiments import EXPERIMENTS
from .ledger import CLAIMS, PROFILES, RunRecord, RunSpec, Verdict, run_key

__all__ = ["PlannedRun", "evaluate", "execute", "plan", "resolve_claims"]


@dataclass
class PlannedRun:
    spec: RunSpec
    key: str
    claims: list[str] = field(default_factory=list)

    @property
    def weight(self) -> float:
        """A rough cost proxy for the time estimate: m n d of the run (at least 1)."""
        p = self.spec.params
        return max(1.0, float(p.get("m", 1)) * float(p.get("n", 1)) * float(p.get("d", 1)) / 1e6
                   * (5.0 if EXPERIMENTS[self.spec.experiment].timing else 1.0))


def resolve_claims(ids: Iterable[str] | None) -> list[str]:
    """Validate claim ids (None or empty: every claim, in ledger order)."""
    ids = list(ids or [])
    if not ids:
        return list(CLAIMS)
    unknown = [i for i in ids if i not in CLAIMS]
    if unknown:
        raise InputError("claims", ", ".join(unknown),
                         "claim ids from `verify-sublin claims` (" + ", ".join(CLAIMS) + ")")
    return ids


def plan(claim_ids: Iterable[str], profile: str, backend: str = "numpy") -> list[PlannedRun]:
    """The distinct runs the claims need at `profile`, in first-needed order."""
    profile = check_choice("profile", profile, PROFILES)
    runs: dict[str, PlannedRun] = {}
    for cid in resolve_claims(claim_ids):
        for spec in CLAIMS[cid].runs(profile):
            key = run_key(spec, backend, profile)
            runs.setdefault(key, PlannedRun(spec, key)).claims.append(cid)
    return list(runs.values())


Progress = Callable[[dict], None]


def execute(planned: list[PlannedRun], store: ResultStore, profile: str, *,
            backend: str = "numpy", recompute: bool = False,
            progress: Progress | None = None) -> dict:
    """Make the planned runs the store lacks; returns counts of done/skipped/failed.

    `progress` is called with a dict (index, total, run, status, seconds, eta) before and
    after each run (for a progress bar); the experiments themselves never print.
    """
    todo = [r for r in planned if recompute or not _done(store, r.key)]
    skipped = len(planned) - len(todo)
    total_weight = sum(r.weight for r in todo) or 1.0
    done_weight, t_start = 0.0, time.perf_counter()
    counts = {"done": 0, "failed": 0, "skipped": skipped, "total": len(planned)}
    prov = provenance()
    for k, run in enumerate(todo):
        elapsed = time.perf_counter() - t_start
        eta = (elapsed / done_weight * (total_weight - done_weight)) if done_weight else math.nan
        if progress:
            progress({"index": k, "total": len(todo), "run": run, "status": "start",
                      "elapsed": elapsed, "eta": eta})
        exp = EXPERIMENTS[run.spec.experiment]
        started, t0 = time.time(), time.perf_counter()
        try:
            result = exp.fn(dict(run.spec.params), run.spec.seed)
            status, error = "done", None
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a failed run is recorded, not fatal
            result, status = None, "failed"
            error = f"{type(exc).__name__}: {exc}"
            last = traceback.extract_tb(exc.__traceback__)[-1]
            error += f" (at {last.filename.rsplit('/', 1)[-1]}:{last.lineno})"
        seconds = time.perf_counter() - t0
        if recompute:
            store.invalidate(run.key)
        rid = store.record(run.key, run.spec.experiment, run.spec.params, run.spec.seed, backend,
                           profile, status, result=result, error=error, provenance=prov,
                           started=started, seconds=seconds)
        counts[status] += 1
        done_weight += run.weight
        if progress:
            elapsed = time.perf_counter() - t_start
            progress({"index": k + 1, "total": len(todo), "run": run, "status": status,
                      "id": rid, "seconds": seconds, "elapsed": elapsed, "error": error,
                      "eta": elapsed / done_weight * (total_weight - done_weight)})
    return counts


def _done(store: ResultStore, key: str) -> bool:
    row = store.get(key)
    return row is not None and row["status"] == "done"


def records_for(claim_id: str, store: ResultStore, profile: str,
                backend: str = "numpy") -> list[RunRecord]:
    """The stored runs of a claim at `profile`, in the order of its specs (missing runs
    are left out)."""
    out = []
    for spec in CLAIMS[claim_id].runs(profile):
        row = store.get(run_key(spec, backend, profile))
        if row is None:
            continue
        out.append(RunRecord(row["id"], row["key"], spec, row["status"], row["result"],
                             row["error"], row["git_commit"] or "unknown", row["seconds"] or 0.0))
    return out


def evaluate(claim_ids: Iterable[str], store: ResultStore, profile: str,
             backend: str = "numpy") -> list[tuple[Verdict, list[RunRecord]]]:
    """Each claim's verdict from the stored runs. A rule that raises yields an
    'inconclusive' verdict naming the error (the report never drops a claim)."""
    out = []
    for cid in resolve_claims(claim_ids):
        records = records_for(cid, store, profile, backend)
        try:
            verdict = CLAIMS[cid].evaluate(records, profile)
        except Exception as exc:
            verdict = Verdict(cid, "inconclusive", "", "evaluation failed",
                              f"the rule could not be applied: {type(exc).__name__}: {exc}",
                              runs=[r.id for r in records])
        out.append((verdict, records))
    return out
