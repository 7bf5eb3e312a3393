"""Make planned runs into the results store.

`execute` makes the runs that the store does not hold yet (or all of them with
``recompute``), committing each finished run before the next starts; a run that raises
is stored as failed with its reason and the sweep goes on. Which runs to make is the
ledger's business (`verify_sublin.ledger.plan`): this module measures, never decides.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from .experiments import EXPERIMENTS
from .provenance import provenance
from .results import Result
from .spec import RunSpec
from .store import ResultStore

__all__ = ["PlannedRun", "execute", "unsupported"]


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


def unsupported(spec: RunSpec, backend: str) -> str | None:
    """Why the run's training method cannot run on `backend` with the run's options, or
    None: an option the method does not use set to another value than its default
    (`Trainer.options_from`), or a refusal of the backend (`Trainer.supports`), the rules
    `make_trainer` applies. The options are the run's ``options``, or those of its
    ``variant`` (a preset of `core.trainers.PRESETS`). A run that names no registered
    method, or options no method knows, is made as usual."""
    from ..core.errors import InputError
    from ..core.trainers import METHODS, PRESETS

    cls = METHODS.get(spec.params.get("method")) if isinstance(spec.params.get("method"),
                                                               str) else None
    if cls is None:
        return None
    if "variant" in spec.params:
        preset = PRESETS.get(spec.params["variant"])
        opts = preset.options.changes() if preset is not None else {}
    else:
        opts = spec.params.get("options") or {}
    try:
        options = cls.options_from(**(opts | {"backend": backend}))
    except InputError as exc:          # an option of another method, not at its default
        return str(exc)
    except TypeError:                  # not options of any method: made, and refused there
        return None
    ok, reason = cls.supports(options, backend)
    return None if ok else reason


Progress = Callable[[dict], None]

LEASE_TTL = 120.0      # seconds a lease lives without renewal
RENEW_EVERY = 20.0     # seconds between renewals of the leases held


class _Renewer(threading.Thread):
    """Renews the coordinator's leases while runs are in progress."""

    def __init__(self, store: ResultStore, owner: str):
        super().__init__(daemon=True)
        self.store, self.owner, self.keys = store, owner, set()
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(RENEW_EVERY):
            with self.lock:
                keys = list(self.keys)
            try:
                self.store.renew_leases(keys, self.owner, LEASE_TTL)
            except Exception:  # a busy database: try again next time
                pass


def execute(planned: list[PlannedRun], store: ResultStore, profile: str, *,
            backend: str = "numpy", recompute: bool = False,
            progress: Progress | None = None, executor=None,
            wait_seconds: float = 0.5) -> dict:
    """Make the planned runs the store lacks; returns counts of done/skipped/failed.

    Non-timing runs go to `executor` (in-process by default; see
    `verify_sublin.bench.executors`), as many at a time as it has slots; timing runs are made
    afterwards by this process, one at a time. Each run is leased first, so several
    processes can share a store without computing a run twice; runs leased by another
    live process are waited for (and taken over if their holder dies). Every finished
    run is committed before the next is recorded. `progress` receives a dict per event.
    """
    from .executors import InProcessExecutor, check_interrupted, run_isolated

    executor = executor or InProcessExecutor()
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    todo = [r for r in planned if recompute or not _done(store, r.key)]
    if recompute:
        for r in todo:
            store.invalidate(r.key)
    counts = {"done": 0, "failed": 0, "skipped": len(planned) - len(todo), "total": len(planned),
              "waited": 0}
    total_weight = sum(r.weight for r in todo) or 1.0
    state = {"done_weight": 0.0, "index": 0, "t0": time.perf_counter()}
    prov = provenance(backend)
    renewer = _Renewer(store, owner)
    renewer.start()

    def eta() -> float:
        elapsed = time.perf_counter() - state["t0"]
        dw = state["done_weight"]
        return (elapsed / dw * (total_weight - dw)) if dw else math.nan

    def finish(run: PlannedRun, outcome: tuple, started: float, seconds: float) -> None:
        status, payload = outcome
        result, error = (payload, None) if status == "done" else (None, payload)
        if isinstance(result, Result):
            result = result.to_dict(schema=True)
        rid = store.record(run.key, run.spec.experiment, run.spec.params, run.spec.seed,
                           backend, profile, status, result=result, error=error,
                           provenance=prov, started=started, seconds=seconds)
        with renewer.lock:
            renewer.keys.discard(run.key)
        counts[status] += 1
        check_interrupted()       # an interrupt swallowed during the run stops the sweep here
        state["done_weight"] += run.weight
        state["index"] += 1
        if progress:
            progress({"index": state["index"], "total": len(todo), "run": run, "status": status,
                      "id": rid, "seconds": seconds, "error": error,
                      "elapsed": time.perf_counter() - state["t0"], "eta": eta()})

    def lease(run: PlannedRun) -> bool:
        # the key is listed before the lease is taken: an interrupt can arrive between
        # any two statements, and the cleanup releases only listed keys (releasing a
        # lease not held deletes nothing)
        with renewer.lock:
            renewer.keys.add(run.key)
        if store.try_lease(run.key, owner, LEASE_TTL):
            return True
        with renewer.lock:
            renewer.keys.discard(run.key)
        return False

    def announce(run: PlannedRun) -> None:
        if progress:
            progress({"index": state["index"], "total": len(todo), "run": run,
                      "status": "start", "elapsed": time.perf_counter() - state["t0"],
                      "eta": eta()})

    def skipped(run: PlannedRun) -> bool:
        """Record a run the backend cannot make as failed with "skipped: reason"."""
        reason = unsupported(run.spec, backend)
        if reason is None:
            return False
        announce(run)
        finish(run, ("failed", f"skipped: {reason}"), time.time(), 0.0)
        return True

    def run_here(run: PlannedRun) -> None:
        if skipped(run):
            return
        announce(run)
        started, t0 = time.time(), time.perf_counter()
        threads = None if EXPERIMENTS[run.spec.experiment].timing else 1
        outcome = run_isolated(EXPERIMENTS[run.spec.experiment].run, run.spec.params, run.spec.seed, threads,
                               backend)
        finish(run, outcome, started, time.perf_counter() - t0)

    parallel = [r for r in todo if not EXPERIMENTS[r.spec.experiment].timing]
    serial = [r for r in todo if EXPERIMENTS[r.spec.experiment].timing]
    waiting: list[PlannedRun] = []
    try:
        # 1. non-timing runs on the executor, as many at a time as it has slots
        queue = list(parallel)
        in_flight: dict = {}
        while queue or in_flight:
            while queue and len(in_flight) < executor.slots:
                run = queue.pop(0)
                if not lease(run):
                    waiting.append(run)
                    continue
                if skipped(run):
                    continue
                announce(run)
                started, t0 = time.time(), time.perf_counter()   # before: in-process runs now
                fut = executor.submit(EXPERIMENTS[run.spec.experiment].run, run.spec.params, run.spec.seed, 1,
                                      backend)
                in_flight[fut] = (run, started, t0)
            if not in_flight:
                break
            for fut in executor.as_completed(list(in_flight)):
                run, started, t0 = in_flight.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # a worker died or the cluster failed
                    outcome = ("failed", f"executor: {type(exc).__name__}: {exc}")
                finish(run, outcome, started, time.perf_counter() - t0)
                break
        # 2. timing runs here, one at a time, with nothing running beside them
        for run in serial:
            if lease(run):
                run_here(run)
            else:
                waiting.append(run)
        # 3. runs another process holds: wait, and take over if their holder is gone
        while waiting:
            still = []
            for run in waiting:
                if _done(store, run.key):
                    counts["waited"] += 1
                elif lease(run):
                    run_here(run)
                else:
                    still.append(run)
            waiting = still
            if waiting:
                check_interrupted()
                time.sleep(wait_seconds)
    finally:
        renewer.stopped.set()
        with renewer.lock:
            held = list(renewer.keys)
        for key in held:
            store.release(key, owner)
    return counts


def _done(store: ResultStore, key: str) -> bool:
    row = store.get(key)
    return row is not None and row["status"] == "done"
