"""Export a results store as tidy tables: measurements (long) and verdicts.

* ``measurements``: one row per run x quantity. Columns: run_id, claims (the claim ids
  that use the run, ';'-separated), experiment, profile, backend, status, commit, seed,
  the size parameters m, n, d, c (empty where an experiment has none), params (every
  parameter, as JSON), quantity (the dotted path of the figure in the run's result, the
  field names of its typed result), index (the position in a per-step series; empty for
  a single number), value, and measure ("time" or "memory" for the fields the result
  type marks as measured on the machine; empty for computed figures).
* ``verdicts``: one row per (profile, backend, claim): verdict, claimed and measured
  figures, the runs used, and the claim's named figures as JSON.

Each table is written as CSV and JSON (records), and as Parquet when pyarrow is
installed. The store is only read. Cost: one pass over the stored runs, one evaluation
of the ledger per (profile, backend) in the store.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.errors import InputError

__all__ = ["FORMATS", "export_tables", "measurement_rows", "verdict_rows"]

FORMATS = ("csv", "json", "parquet")

MEASUREMENT_COLUMNS = ["run_id", "claims", "experiment", "profile", "backend", "status",
                       "commit", "seed", "m", "n", "d", "c", "params", "quantity", "index",
                       "value", "measure"]
VERDICT_COLUMNS = ["profile", "backend", "claim", "paper", "verdict", "claimed", "measured",
                   "runs", "figures"]


def _leaves(obj: Any, prefix: str = "") -> Iterator[tuple[str, int | None, Any]]:
    """(quantity, index, value) for every number or string in a nested result.

    >>> list(_leaves({"a": 1, "b": [2.5, 3], "c": {"d": "x"}}))
    [('a', None, 1), ('b', 0, 2.5), ('b', 1, 3), ('c.d', None, 'x')]
    """
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, f"{prefix}{k}.")
    elif isinstance(obj, list) and all(not isinstance(x, (dict, list)) for x in obj):
        for i, x in enumerate(obj):
            yield prefix.rstrip("."), i, x
    elif isinstance(obj, list):              # a list of records: index.field
        for i, x in enumerate(obj):
            for q, j, v in _leaves(x, ""):
                name = f"{prefix}{q}".rstrip(".")
                yield name, i if j is None else f"{i}.{j}", v
    else:
        yield prefix.rstrip("."), None, obj


def _claims_by_key(store) -> dict[str, list[str]]:
    from ..ledger.plan import plan

    out: dict[str, list[str]] = {}
    for profile, backend in {(r["profile"], r["backend"]) for r in store.runs()}:
        try:
            planned = plan(None, profile, backend)
        except InputError:
            continue
        for run in planned:
            out[run.key] = run.claims
    return out


def measurement_rows(store) -> Iterator[dict]:
    """The tidy long table of a store, one dict per run x quantity (results read through
    their types: the quantities are the type's fields)."""
    from ..bench.experiments import EXPERIMENTS, typed_result
    from ..bench.schema import Result, is_measured, measured_fields

    claims = _claims_by_key(store)
    for run in store.runs():
        p = run["params"] or {}
        base = {"run_id": run["id"], "claims": ";".join(claims.get(run["key"], [])),
                "experiment": run["experiment"], "profile": run["profile"],
                "backend": run["backend"], "status": run["status"],
                "commit": run["git_commit"], "seed": run["seed"],
                **{k: p.get(k, "") for k in ("m", "n", "d", "c")},
                "params": json.dumps(p, sort_keys=True)}
        if not run.ok:
            yield {**base, "quantity": "error", "index": "", "value": run["error"]}
            continue
        yield {**base, "quantity": "seconds", "index": "", "value": run["seconds"],
               "measure": "time"}
        result = typed_result(EXPERIMENTS.get(run["experiment"]), run["result"] or {})
        measured = measured_fields(type(result)) if isinstance(result, Result) else {}
        plain = result.to_dict() if isinstance(result, Result) else result
        for q, i, v in _leaves(plain):
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                v = "" if v is None else str(v)
            kind = next((measured[k] for k in measured if is_measured(q, [k])), "")
            yield {**base, "quantity": q, "index": "" if i is None else i, "value": v,
                   "measure": kind}


def verdict_rows(store) -> list[dict]:
    """The verdicts of every (profile, backend) the store holds runs for."""
    from ..ledger.entry import PROFILES
    from ..ledger.evaluate import evaluate
    from ..ledger.registry import ENTRIES

    rows = []
    pairs = sorted({(r["profile"], r["backend"]) for r in store.runs()})
    for profile, backend in pairs:
        if profile not in PROFILES:
            continue
        for v, _ in evaluate(None, store, profile, backend):
            rows.append({"profile": profile, "backend": backend, "claim": v.claim_id,
                         "paper": ENTRIES[v.claim_id].paper, "verdict": v.verdict,
                         "claimed": v.claimed, "measured": v.measured,
                         "runs": ";".join(str(i) for i in v.runs),
                         "figures": json.dumps(v.figures, sort_keys=True, default=str)})
    return rows


def _write(rows: list[dict], columns: list[str], stem: Path, formats) -> list[Path]:
    out = []
    if "csv" in formats:
        path = stem.with_suffix(".csv")
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=columns)
            w.writeheader()
            w.writerows(rows)
        out.append(path)
    if "json" in formats:
        path = stem.with_suffix(".json")
        path.write_text(json.dumps(rows, default=str) + "\n")
        out.append(path)
    if "parquet" in formats:
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {c: [None if r.get(c, "") == "" else str(r.get(c)) for r in rows]
                for c in columns}
        path = stem.with_suffix(".parquet")
        pq.write_table(pa.table(cols), path)
        out.append(path)
    return out


def export_tables(store, directory: str | Path, formats=("csv", "json")) -> list[Path]:
    """Write measurements.* and verdicts.* into `directory`; return the paths.

    `formats` from `FORMATS`; "parquet" needs pyarrow (an `InputError` says so)."""
    formats = list(formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InputError("--format", ",".join(formats), "comma-separated formats from "
                         + ", ".join(FORMATS))
    if "parquet" in formats:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("--format", "parquet", "csv or json (parquet needs pyarrow: "
                             "pip install pyarrow)") from None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = _write(list(measurement_rows(store)), MEASUREMENT_COLUMNS,
                   directory / "measurements", formats)
    paths += _write(verdict_rows(store), VERDICT_COLUMNS, directory / "verdicts", formats)
    return paths
