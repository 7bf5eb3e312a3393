"""Re-run a stored run and compare its figures with the stored ones.

Rules: integers and booleans must match exactly; other numbers within 1e-9 relative
(1e-12 absolute); figures that are wall times (keys naming seconds, times, medians,
floors or phases) within a factor `time_factor` or 10 ms (machines are noisy); strings and
structure exactly. Non-timing runs are re-run with BLAS and numba limited to one
thread, as the runner makes them, so their numbers are bitwise reproducible on the same
machine and library versions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..core.errors import InputError, check_float, check_int
from .executors import run_isolated
from .provenance import git_commit
from .store import ResultStore

__all__ = ["compare_results", "reproduce"]

_TIME_WORDS = ("second", "time", "median", "floor", "phases")


def _is_time(path: str) -> bool:
    return any(w in path for w in _TIME_WORDS)


def compare_results(stored: Any, now: Any, time_factor: float = 3.0, path: str = "",
                    out: dict | None = None) -> dict:
    """Walk both results; returns dict(compared, times_compared, mismatches).

    >>> compare_results({"a": 1, "seconds": 1.0}, {"a": 1, "seconds": 2.0})["mismatches"]
    []
    >>> len(compare_results({"a": 1.0}, {"a": 1.1})["mismatches"])
    1
    """
    out = out if out is not None else {"compared": 0, "times_compared": 0, "mismatches": []}

    def bad(rule):
        out["mismatches"].append({"field": path or "(root)", "stored": stored, "now": now,
                                  "rule": rule})

    if isinstance(stored, dict) and isinstance(now, dict):
        if set(stored) != set(now):
            bad("different keys")
        for k in sorted(set(stored) & set(now)):
            compare_results(stored[k], now[k], time_factor, f"{path}.{k}" if path else k, out)
    elif isinstance(stored, list) and isinstance(now, list):
        if len(stored) != len(now):
            bad("different lengths")
        for i, (a, b) in enumerate(zip(stored, now)):
            compare_results(a, b, time_factor, f"{path}[{i}]", out)
    elif isinstance(stored, bool) or isinstance(now, bool) or stored is None or now is None \
            or isinstance(stored, str) or isinstance(now, str):
        out["compared"] += 1
        if stored != now:
            bad("exact")
    elif isinstance(stored, int) and isinstance(now, int) and not _is_time(path):
        out["compared"] += 1
        if stored != now:
            bad("exact (integer)")
    elif isinstance(stored, (int, float)) and isinstance(now, (int, float)):
        a, b = float(stored), float(now)
        if _is_time(path):
            out["times_compared"] += 1
            close = abs(a - b) <= 0.01 or (a > 0 and b > 0
                                               and 1 / time_factor <= b / a <= time_factor)
            if not close:
                bad(f"time within a factor {time_factor:g} or 10 ms")
        else:
            out["compared"] += 1
            same = (math.isnan(a) and math.isnan(b)) or a == b or (
                math.isfinite(a) and math.isfinite(b)
                and abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-12)
            if not same:
                bad("1e-9 relative")
    else:
        out["compared"] += 1
        bad("different types")
    return out


def reproduce(store: ResultStore, run_id: int, experiments: Mapping[str, Any],
              time_factor: float = 3.0) -> dict:
    """Re-run stored run `run_id`; returns the comparison (see `compare_results`).

    `experiments` maps experiment names to objects with ``fn`` (the experiment
    function) and ``timing`` (whether it measures wall time), as
    `verify_sublin.ledger.EXPERIMENTS` does; this module never imports the claims layer.
    """
    run_id = check_int("run_id", run_id, minimum=1)
    time_factor = check_float("--time-factor", time_factor, minimum=1.0)
    row = store.get_id(run_id)
    if row is None:
        raise InputError("run_id", str(run_id), f"the id of a run in {store.path}")
    if row["status"] != "done":
        raise InputError("run_id", f"run {run_id}, which failed ({row['error']})",
                         "a finished run")
    if row["experiment"] not in experiments:
        raise InputError("run_id", f"a run of the unknown experiment {row['experiment']!r}",
                         "a run of an experiment this version knows")
    exp = experiments[row["experiment"]]
    threads = None if exp.timing else 1
    status, payload = run_isolated(exp.fn, row["params"], row["seed"], threads,
                                   row["backend"])
    if status != "done":
        cmp = {"compared": 0, "times_compared": 0,
               "mismatches": [{"field": "(run)", "stored": "done", "now": payload,
                               "rule": "the run must finish"}]}
    else:
        cmp = compare_results(row["result"], payload, time_factor)
    return {"run_id": run_id, "experiment": row["experiment"], "params": row["params"],
            "seed": row["seed"], "stored_commit": row["git_commit"], "commit": git_commit(),
            "match": not cmp["mismatches"], **cmp}
