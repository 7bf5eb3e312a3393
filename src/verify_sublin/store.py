"""The results store: every run of every experiment, in one SQLite file.

Several `run` processes may share one store: before computing a run, a process takes a
*lease* on its key (`try_lease`), renews it while it works, and the lease disappears
when the result is recorded. A lease whose holder died (same host, process gone) or
that was not renewed in time is taken over by the next process that asks, so a killed
process never blocks a sweep.

A run is keyed by the hash of (experiment, parameters, seed, backend, profile)
(`claims.ledger.run_key`); its integer row id is its public id. Each row keeps the
configuration, the result (figures, counts, timings and per-step series, as JSON), the
status ("done" or "failed" with the reason), the git commit, the machine and the
package versions. A finished run is committed before the next one starts, so an
interrupt loses at most the run in progress. The database runs in WAL mode, so a
reader (a report being rendered) never blocks a writer.

Cost: one small transaction per run.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["ResultStore", "StoredRun"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    experiment TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    backend TEXT NOT NULL,
    profile TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    result TEXT,
    git_commit TEXT,
    machine TEXT,
    versions TEXT,
    started REAL,
    finished REAL,
    seconds REAL
);
CREATE INDEX IF NOT EXISTS runs_experiment ON runs (experiment);
CREATE TABLE IF NOT EXISTS leases (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    expires REAL NOT NULL
);
"""


class StoredRun(dict):
    """A row of the store as a dict with JSON columns decoded."""

    @property
    def ok(self) -> bool:
        return self["status"] == "done"


class ResultStore:
    """SQLite results store at `path` (created if missing).

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     store = ResultStore(os.path.join(tmp, "r.sqlite"))
    ...     rid = store.record("k1", "exp", {"m": 4}, 0, "numpy", "tiny", "done",
    ...                        result={"x": 1.5}, provenance={"commit": "abc"})
    ...     (store.get("k1")["result"], store.get("k2"), store.count())
    ({'x': 1.5}, None, 1)
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise InputError("store", f"the directory {self.path}", "a file path for the database")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            con.commit()

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=60.0)
        con.execute("PRAGMA busy_timeout=60000")
        con.row_factory = sqlite3.Row
        return con

    @staticmethod
    def _decode(row: sqlite3.Row) -> StoredRun:
        out = StoredRun(dict(row))
        for col in ("params", "result", "machine", "versions"):
            if out.get(col) is not None:
                out[col] = json.loads(out[col])
        return out

    # ---------------------------------------------------------------- reads
    def get(self, key: str) -> StoredRun | None:
        """The run with this key, or None. Cost: one indexed lookup."""
        with closing(self._connect()) as con:
            row = con.execute("SELECT * FROM runs WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._decode(row)

    def get_id(self, run_id: int) -> StoredRun | None:
        """The run with this integer id, or None."""
        with closing(self._connect()) as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        return None if row is None else self._decode(row)

    def runs(self) -> Iterator[StoredRun]:
        """All runs, by id."""
        with closing(self._connect()) as con:
            rows = con.execute("SELECT * FROM runs ORDER BY id").fetchall()
        for row in rows:
            yield self._decode(row)

    def count(self, status: str | None = None) -> int:
        with closing(self._connect()) as con:
            if status is None:
                return con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
            return con.execute("SELECT COUNT(*) FROM runs WHERE status = ?",
                               (status,)).fetchone()[0]

    # --------------------------------------------------------------- writes
    def record(self, key: str, experiment: str, params: dict, seed: int, backend: str,
               profile: str, status: str, *, result: dict | None = None,
               error: str | None = None, provenance: dict | None = None,
               started: float | None = None, seconds: float | None = None) -> int:
        """Insert (or replace a failed) run and commit; returns its id.

        A "done" run is never overwritten: recording a key that is already done
        returns the existing id unchanged.
        """
        if status not in ("done", "failed"):
            raise InputError("status", repr(status), "'done' or 'failed'")
        prov = provenance or {}
        now = time.time()
        values = (experiment, json.dumps(params, sort_keys=True), int(seed), backend, profile,
                  status, error, None if result is None else json.dumps(result, allow_nan=True),
                  prov.get("commit"), json.dumps(prov.get("machine")),
                  json.dumps(prov.get("versions")), started if started is not None else now,
                  now, seconds)
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT id, status FROM runs WHERE key = ?", (key,)).fetchone()
            if row is not None and row["status"] == "done":
                con.rollback()
                return int(row["id"])
            if row is not None:
                con.execute(
                    "UPDATE runs SET experiment=?, params=?, seed=?, backend=?, profile=?, "
                    "status=?, error=?, result=?, git_commit=?, machine=?, versions=?, "
                    "started=?, finished=?, seconds=? WHERE id=?", (*values, row["id"]))
                rid = int(row["id"])
            else:
                cur = con.execute(
                    "INSERT INTO runs (key, experiment, params, seed, backend, profile, status, "
                    "error, result, git_commit, machine, versions, started, finished, seconds) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (key, *values))
                rid = int(cur.lastrowid)
            con.execute("DELETE FROM leases WHERE key = ?", (key,))
            con.commit()
        return rid

    # --------------------------------------------------------------- leases
    def try_lease(self, key: str, owner: str, ttl: float = 120.0) -> bool:
        """Take the lease on `key` for `owner` unless the run is done or another live
        owner holds an unexpired lease. Returns whether `owner` now holds it."""
        now = time.time()
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            done = con.execute("SELECT 1 FROM runs WHERE key = ? AND status = 'done'",
                               (key,)).fetchone()
            if done is not None:
                con.rollback()
                return False
            row = con.execute("SELECT owner, host, pid, expires FROM leases WHERE key = ?",
                              (key,)).fetchone()
            if row is not None and row["owner"] != owner and _lease_alive(row, now):
                con.rollback()
                return False
            con.execute("INSERT OR REPLACE INTO leases (key, owner, host, pid, expires) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (key, owner, socket.gethostname(), os.getpid(), now + ttl))
            con.commit()
        return True

    def renew_leases(self, keys, owner: str, ttl: float = 120.0) -> None:
        """Extend `owner`'s leases on `keys`."""
        keys = list(keys)
        if not keys:
            return
        with closing(self._connect()) as con:
            con.executemany("UPDATE leases SET expires = ? WHERE key = ? AND owner = ?",
                            [(time.time() + ttl, k, owner) for k in keys])
            con.commit()

    def release(self, key: str, owner: str) -> None:
        """Drop `owner`'s lease on `key` (recording a result drops it too)."""
        with closing(self._connect()) as con:
            con.execute("DELETE FROM leases WHERE key = ? AND owner = ?", (key, owner))
            con.commit()

    def lease_holder(self, key: str) -> dict | None:
        """The live lease on `key` (owner, host, pid, expires), or None."""
        with closing(self._connect()) as con:
            row = con.execute("SELECT owner, host, pid, expires FROM leases WHERE key = ?",
                              (key,)).fetchone()
        return dict(row) if row is not None and _lease_alive(row, time.time()) else None

    def invalidate(self, key: str) -> None:
        """Mark a run as failed ("recomputing") so the next `record` replaces it."""
        with closing(self._connect()) as con:
            con.execute("UPDATE runs SET status = 'failed', error = 'recomputing' WHERE key = ?",
                        (key,))
            con.commit()

    # --------------------------------------------------------------- export
    def export_csv(self, directory: str | Path) -> list[Path]:
        """Write runs.csv (one row per run, scalar results flattened) and series.csv
        (run id, name, index, value for every list in a result). Returns the paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        runs = list(self.runs())
        scalar_keys: list[str] = []
        for run in runs:
            for k, v in _flatten(run.get("result") or {}):
                if not isinstance(v, list) and k not in scalar_keys:
                    scalar_keys.append(k)
        base = ["id", "experiment", "params", "seed", "backend", "profile", "status", "error",
                "git_commit", "seconds"]
        runs_path, series_path = directory / "runs.csv", directory / "series.csv"
        with runs_path.open("w", newline="") as fh, series_path.open("w", newline="") as sh:
            w = csv.writer(fh)
            s = csv.writer(sh)
            w.writerow(base + ["result." + k for k in scalar_keys])
            s.writerow(["run_id", "series", "index", "value"])
            for run in runs:
                flat = dict(_flatten(run.get("result") or {}))
                row = [run["id"], run["experiment"], json.dumps(run["params"], sort_keys=True),
                       run["seed"], run["backend"], run["profile"], run["status"],
                       run["error"], run["git_commit"], run["seconds"]]
                w.writerow(row + [flat.get(k, "") for k in scalar_keys])
                for k, v in flat.items():
                    if isinstance(v, list):
                        for i, x in enumerate(v):
                            cell = json.dumps(x) if isinstance(x, (dict, list)) else x
                            s.writerow([run["id"], k, i, cell])
        return [runs_path, series_path]


def _lease_alive(row, now: float) -> bool:
    """A lease counts while unexpired, unless its holder is a dead process on this host."""
    if row["expires"] <= now:
        return False
    if row["host"] == socket.gethostname():
        try:
            os.kill(int(row["pid"]), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return True


def _flatten(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) pairs of nested dicts; lists are kept whole."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flatten(v, f"{prefix}{k}.")
    else:
        yield prefix.rstrip("."), obj
