"""Re-run a stored run and compare its figures with the stored ones.

Rules: integers and booleans must match exactly; other numbers within 1e-9 relative
(1e-12 absolute); the fields the result type marks as measured on the machine
(`bench.schema.measured_fields`: wall times, memory) within a factor `time_factor` or
10 ms; strings and structure exactly. A result without a type (a plugin's experiment)
has no measured fields: every figure of it is compared as computed. Non-timing runs are
re-run with BLAS and numba limited to one thread, as the runner makes them, so their
numbers are bitwise reproducible on the same machine and library versions.

A timing run is made twice, the first time untimed (numba compiles, or loads, its
kernels then: the stored run was timed after that too), and its times are compared as
ratios to the floor product timed in the same process (the result's ``floor`` field,
where its type has one): a machine merely slower or busier than the one that made the
run then reproduces, within `time_factor`, what the run measured relative to its floor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..core.errors import InputError, check_float, check_int
from .executors import run_isolated
from .provenance import git_commit
from .schema import Result, is_measured, measured_fields
from .store import ResultStore

__all__ = ["FLOOR_FIELDS", "compare_results", "relative_to_floor", "reproduce"]

#: the fields of a timing result that time the floor product X W^T in the same process
FLOOR_FIELDS = ("floor", "seconds_floor")


def _floor(result: dict) -> float | None:
    """The floor time of a timing result (seconds), or None."""
    return next((result[f] for f in FLOOR_FIELDS if isinstance(result.get(f), (int, float))
                 and result[f] > 0), None)


def relative_to_floor(result: dict, measured: Mapping[str, str]) -> dict:
    """The result with every measured time divided by its floor (the floor itself left
    out); unchanged if it has no floor.

    >>> relative_to_floor({"median": 0.2, "floor": 0.1, "ops": 7}, {"median": "time",
    ...                                                               "floor": "time"})
    {'median': 2.0, 'ops': 7}
    """
    floor = _floor(result)
    if floor is None:
        return result

    times = [path for path, kind in measured.items() if kind == "time"]

    def scale(value, path):
        if isinstance(value, dict):
            return {k: scale(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [scale(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                is_measured(path, times):
            return value / floor
        return value

    return {k: scale(v, k) for k, v in result.items() if k not in FLOOR_FIELDS}


def compare_results(stored: Any, now: Any, time_factor: float = 3.0, path: str = "",
                    out: dict | None = None, measured: Iterable[str] = (),
                    slack: float = 0.01) -> dict:
    """Walk both results (JSON-ready dicts); `measured`: the dotted paths of the fields
    measured on the machine (`bench.schema.measured_fields` of the result type), equal
    when within a factor `time_factor` or `slack` apart (10 ms; in units of the floor when
    the times are ratios to it). Returns dict(compared, times_compared, mismatches).

    >>> compare_results({"a": 1, "seconds": 1.0}, {"a": 1, "seconds": 2.0},
    ...                 measured=["seconds"])["mismatches"]
    []
    >>> len(compare_results({"a": 1.0, "seconds": 1.0}, {"a": 1.1, "seconds": 1.0})["mismatches"])
    1
    """
    out = out if out is not None else {"compared": 0, "times_compared": 0, "mismatches": []}
    measured = tuple(measured)

    def bad(rule):
        out["mismatches"].append({"field": path or "(root)", "stored": stored, "now": now,
                                  "rule": rule})

    if isinstance(stored, dict) and isinstance(now, dict):
        if set(stored) != set(now):
            bad("different keys")
        for k in sorted(set(stored) & set(now)):
            compare_results(stored[k], now[k], time_factor, f"{path}.{k}" if path else k, out,
                            measured, slack)
    elif isinstance(stored, list) and isinstance(now, list):
        if len(stored) != len(now):
            bad("different lengths")
        for i, (a, b) in enumerate(zip(stored, now)):
            compare_results(a, b, time_factor, f"{path}[{i}]", out, measured, slack)
    elif isinstance(stored, bool) or isinstance(now, bool) or stored is None or now is None \
            or isinstance(stored, str) or isinstance(now, str):
        out["compared"] += 1
        if stored != now:
            bad("exact")
    elif isinstance(stored, int) and isinstance(now, int) and not is_measured(path, measured):
        out["compared"] += 1
        if stored != now:
            bad("exact (integer)")
    elif isinstance(stored, (int, float)) and isinstance(now, (int, float)):
        a, b = float(stored), float(now)
        if is_measured(path, measured):
            out["times_compared"] += 1
            close = abs(a - b) <= slack or (a > 0 and b > 0
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

    `experiments` maps experiment names to `bench.experiments.Experiment` objects
    (``run``, ``timing``, ``result``: the typed result, whose measured fields are compared
    with a tolerance).
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
    if exp.timing:          # compile (or load) the kernels first: the run was timed after
        run_isolated(exp.run, row["params"], row["seed"], threads, row["backend"])
    status, payload = run_isolated(exp.run, row["params"], row["seed"], threads,
                                   row["backend"])
    kind = getattr(exp, "result", None)
    measured = measured_fields(kind) if kind is not None else {}
    if status != "done":
        cmp = {"compared": 0, "times_compared": 0,
               "mismatches": [{"field": "(run)", "stored": "done", "now": payload,
                               "rule": "the run must finish"}]}
    else:
        stored = kind.from_dict(row["result"]).to_dict() if kind is not None else row["result"]
        now = payload.to_dict() if isinstance(payload, Result) else payload
        slack = 0.01                # seconds: below it, times are the scheduler's noise
        if exp.timing and isinstance(stored, dict) and isinstance(now, dict) and _floor(stored):
            slack /= _floor(stored)            # the same 10 ms, in units of the floor
            stored, now = relative_to_floor(stored, measured), relative_to_floor(now, measured)
        cmp = compare_results(stored, now, time_factor, measured=measured, slack=slack)
    return {"run_id": run_id, "experiment": row["experiment"], "params": row["params"],
            "seed": row["seed"], "stored_commit": row["git_commit"], "commit": git_commit(),
            "match": not cmp["mismatches"], **cmp}
