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

import contextlib
import json
import os
import socket
import sqlite3
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from ..core.errors import InputError, StoreError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "ResultStore", "StoredRun"]

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


#: SQLite's application id of a verify_sublin store ("vsub"), in the file header.
APPLICATION_ID = 0x76737562
#: The schema version written to new stores (PRAGMA user_version).
SCHEMA_VERSION = 1
#: The columns each table of a store must have (a store of the first schema, which has
#: no application id, is recognised by them).
_COLUMNS = {
    "runs": {"id", "key", "experiment", "params", "seed", "backend", "profile", "status",
             "error", "result", "git_commit", "machine", "versions", "started", "finished",
             "seconds"},
    "leases": {"key", "owner", "host", "pid", "expires"},
}
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: How long opening a store retries a change of journal mode that SQLite refused as busy.
OPEN_RETRY_SECONDS = 60.0


class ResultStore:
    """SQLite results store at `path`.

    A missing file is created (atomically: the database is built in a temporary file
    beside it and hard-linked into place, so several processes creating one store at
    once all end up using the same complete store). An existing file is first checked,
    without writing to it, to be a verify_sublin store: SQLite's header must carry the
    store's application id (or, for stores of the first schema, the tables must have
    the store's columns); anything else is refused with `StoreError` and left unchanged.

    With ``readonly=True`` the store is opened read-only, for `report`, `export`,
    `compare` and `reproduce`, and nothing is ever written, not even SQLite's shared-memory
    index: a store no process is writing (no ``-wal`` file beside it, as a committed
    store) is opened ``immutable=1``, which leaves no ``-shm`` or ``-wal`` file behind;
    one being written is opened ``mode=ro`` so that the runs committed so far are seen.

    A row whose JSON columns do not decode is skipped by `runs` and returned by `get` as
    a failed run naming the damage; its id is listed in `malformed`.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     store = ResultStore(os.path.join(tmp, "r.sqlite"))
    ...     rid = store.record("k1", "exp", {"m": 4}, 0, "numpy", "tiny", "done",
    ...                        result={"x": 1.5}, provenance={"commit": "abc"})
    ...     (store.get("k1")["result"], store.get("k2"), store.count())
    ({'x': 1.5}, None, 1)
    """

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = bool(readonly)
        #: ids of rows skipped because a JSON column did not decode
        self.malformed: dict[int, str] = {}
        if self.path.is_dir():
            raise InputError("store", f"the directory {self.path}", "a file path for the database")
        if readonly:
            if not self.path.exists():
                raise InputError("store", str(self.path), "an existing results database")
            self._check_header()
            self._uri = self._readonly_uri()
            self._check_schema()
            return
        self._uri: str | None = None
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._create()
        self._check_is_store()
        self._prepare_for_writing()

    # ------------------------------------------------------------ opening
    def _create(self) -> None:
        """Build a new store in a temporary file and link it into place; if another
        process linked one first, theirs is used. Cost: one small file write."""
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".new",
                                   dir=self.path.parent)
        os.close(fd)
        try:
            with closing(sqlite3.connect(tmp)) as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.execute(f"PRAGMA application_id={APPLICATION_ID}")
                con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                con.executescript(_SCHEMA)
                con.commit()
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass          # created by another process meanwhile: use that one
            except OSError as exc:
                raise StoreError(self.path, f"cannot be created here ({exc})") from None
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp + suffix)

    def _readonly_uri(self) -> str:
        """`immutable=1` for a store no process is writing (no -wal file beside it),
        else `mode=ro` (or `immutable=1` where SQLite cannot open the WAL index)."""
        writing = Path(str(self.path) + "-wal").exists()
        order = ("mode=ro", "immutable=1") if writing else ("immutable=1", "mode=ro")
        for uri in (self._file_uri(q) for q in order):
            try:
                with closing(sqlite3.connect(uri, uri=True)) as con:
                    con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return uri
            except sqlite3.OperationalError:
                continue
            except sqlite3.DatabaseError as exc:
                raise StoreError(self.path, f"is not a readable SQLite database ({exc})") from None
        raise StoreError(self.path, "cannot be opened read-only")

    def _check_header(self) -> None:
        """Refuse a file whose SQLite header says it is no verify_sublin store."""
        with self.path.open("rb") as fh:
            header = fh.read(100)
        if not header:
            raise StoreError(self.path, "is an empty file, not a results database "
                             "(remove it, or name a new file)")
        if not header.startswith(_SQLITE_MAGIC) or len(header) < 100:
            raise StoreError(self.path, "is not an SQLite database")
        app_id = int.from_bytes(header[68:72], "big")
        version = int.from_bytes(header[60:64], "big")
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(self.path, f"is an SQLite database of another application "
                             f"(application id {app_id:#x}), not a verify_sublin store")
        if app_id == APPLICATION_ID and version > SCHEMA_VERSION:
            raise StoreError(self.path, f"has schema version {version}; this verify_sublin "
                             f"reads versions up to {SCHEMA_VERSION} (upgrade verify_sublin)")

    def _file_uri(self, query: str) -> str:
        """SQLite's URI of the store's file with `query` (e.g. "mode=ro")."""
        return "file:" + urllib.parse.quote(str(self.path.resolve())) + "?" + query

    def _check_is_store(self) -> None:
        """Refuse (without writing) a file that is not a verify_sublin store."""
        self._check_header()
        self._check_schema()

    def _check_schema(self) -> None:
        """Refuse (reading only) a database without the store's tables and columns."""
        uri = self._uri or self._file_uri("mode=ro")
        try:
            with closing(sqlite3.connect(uri, uri=True, timeout=60.0)) as con:
                tables = {name: {r[1] for r in con.execute(f"PRAGMA table_info({name})")}
                          for name in _COLUMNS}
        except sqlite3.DatabaseError as exc:
            raise StoreError(self.path, f"is not a readable SQLite database ({exc})") from None
        missing = {t: sorted(cols - tables[t]) for t, cols in _COLUMNS.items()
                   if cols - tables[t]}
        if missing:
            what = "; ".join(f"table {t} lacks {', '.join(c)}" if tables[t] else f"no table {t}"
                             for t, c in missing.items())
            raise StoreError(self.path, f"is an SQLite database of another schema ({what}), "
                             "not a verify_sublin store")

    def _prepare_for_writing(self) -> None:
        """WAL mode and the store's application id on a store opened for writing.

        SQLite may answer a journal-mode change with SQLITE_BUSY without calling the busy
        handler, so the change is retried here for up to `OPEN_RETRY_SECONDS`."""
        deadline = time.monotonic() + OPEN_RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                with closing(self._connect()) as con:
                    if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                        con.execute("PRAGMA journal_mode=WAL")
                    if con.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                        con.execute("BEGIN IMMEDIATE")
                        con.execute(f"PRAGMA application_id={APPLICATION_ID}")
                        con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                        con.commit()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise StoreError(self.path, f"cannot be opened for writing ({exc})") from None
                if time.monotonic() > deadline:
                    raise StoreError(self.path, f"stayed locked for {OPEN_RETRY_SECONDS:g} s "
                                     "by another process") from None
                time.sleep(delay)
                delay = min(2 * delay, 0.25)

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            con = sqlite3.connect(self._uri, uri=True, timeout=60.0)
        else:
            con = sqlite3.connect(self.path, timeout=60.0)
        con.execute("PRAGMA busy_timeout=60000")
        con.row_factory = sqlite3.Row
        return con

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection, closed afterwards; a damaged database becomes `StoreError`."""
        try:
            with closing(self._connect()) as con:
                yield con
        except sqlite3.OperationalError as exc:
            if self.readonly and "readonly" in str(exc):
                raise StoreError(self.path, "was opened read-only") from None
            raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(self.path, f"is damaged ({exc})") from None

    def _decode(self, row: sqlite3.Row) -> StoredRun:
        out = StoredRun(dict(row))
        for col in ("params", "result", "machine", "versions"):
            if out.get(col) is not None:
                try:
                    out[col] = json.loads(out[col])
                except (json.JSONDecodeError, TypeError):
                    self.malformed[int(out["id"])] = col
                    out[col] = None
                    out["status"], out["error"] = "failed", f"malformed JSON in column {col}"
        return out

    # ---------------------------------------------------------------- reads
    def get(self, key: str) -> StoredRun | None:
        """The run with this key, or None. Cost: one indexed lookup."""
        with self._db() as con:
            row = con.execute("SELECT * FROM runs WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._decode(row)

    def get_id(self, run_id: int) -> StoredRun | None:
        """The run with this integer id, or None."""
        with self._db() as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        return None if row is None else self._decode(row)

    def runs(self) -> Iterator[StoredRun]:
        """All runs, by id; rows with malformed JSON are skipped (see `malformed`)."""
        with self._db() as con:
            rows = con.execute("SELECT * FROM runs ORDER BY id").fetchall()
        for row in rows:
            run = self._decode(row)
            if int(run["id"]) not in self.malformed:
                yield run

    def count(self, status: str | None = None) -> int:
        with self._db() as con:
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
        with self._db() as con:
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
        with self._db() as con:
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
        with self._db() as con:
            con.executemany("UPDATE leases SET expires = ? WHERE key = ? AND owner = ?",
                            [(time.time() + ttl, k, owner) for k in keys])
            con.commit()

    def release(self, key: str, owner: str) -> None:
        """Drop `owner`'s lease on `key` (recording a result drops it too)."""
        with self._db() as con:
            con.execute("DELETE FROM leases WHERE key = ? AND owner = ?", (key, owner))
            con.commit()

    def lease_holder(self, key: str) -> dict | None:
        """The live lease on `key` (owner, host, pid, expires), or None."""
        with self._db() as con:
            row = con.execute("SELECT owner, host, pid, expires FROM leases WHERE key = ?",
                              (key,)).fetchone()
        return dict(row) if row is not None and _lease_alive(row, time.time()) else None

    def invalidate(self, key: str) -> None:
        """Mark a run as failed ("recomputing") so the next `record` replaces it."""
        with self._db() as con:
            con.execute("UPDATE runs SET status = 'failed', error = 'recomputing' WHERE key = ?",
                        (key,))
            con.commit()


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
