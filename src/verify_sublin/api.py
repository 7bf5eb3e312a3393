"""The package's operations as functions: what `verify-sublin` and the tests call.

* `run`: check the ledger's entries at a profile: plan the runs, make the ones the
  store lacks, evaluate, write the report; returns a `RunOutcome`.
* `render`: write the report of a store again, recomputing nothing.
* `verdicts`: the verdict set of a store or report folder (for `compare`).

Every function validates its arguments (`InputError` naming the parameter) before it
starts work. Cost: that of the runs made, plus one evaluation of the ledger and the
figures whose runs changed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RunOutcome", "render", "run", "write"]


@dataclass
class RunOutcome:
    """What `run` did: run counts (done, skipped: already stored, failed, total), the
    report's files, the verdicts before (the last report of the same store in the same
    folder, or None) and now, and the wall seconds."""

    counts: dict
    report_md: Path
    report_html: Path
    verdicts: dict
    previous: dict | None
    seconds: float
    store: Path
    planned: int = 0
    extra: dict = field(default_factory=dict)


def _previous_verdicts(out: Path, store_path: Path, profile: str, backend: str) -> dict | None:
    """The verdicts of the last report rendered into `out` from the same store."""
    try:
        data = json.loads((out / "verdicts.json").read_text())
    except (OSError, ValueError):
        return None
    stored = data.get("store")
    same = (data.get("profile") == profile and data.get("backend") == backend
            and (stored is None or (out / stored).resolve() == store_path.resolve()))
    return data if same else None


def run(profile: str = "quick", entries: Sequence[str] | None = None,
        out: str | Path = "reports/latest", store: str | Path | None = None, *,
        recompute: bool = False, jobs: int = 1, scheduler: str | None = None,
        backend: str = "numpy", plugins: Sequence[str] = (),
        progress: Callable[[dict], None] | None = None,
        log: Callable[[str], None] | None = None,
        reference: str | Path | None = "reports/full") -> RunOutcome:
    """Check the entries at `profile` and write the report into `out`.

    Parameters
    ----------
    profile : {"tiny", "quick", "full", "large", "study"}
    entries : entry ids, or None for the profile's entries
    out : the report folder; `store` defaults to ``out/results.sqlite``
    recompute : redo runs already stored
    jobs, scheduler : local worker processes, or a Dask scheduler address, for the
        non-timing runs (timing runs are made here, one at a time)
    backend : the array backend of the runs
    plugins : plugin files the workers load (this process has loaded them already)
    progress : called with a dict per run event (see `bench.runner.execute`)
    log : called with one line when the sweep starts
    reference : a report folder whose (full-profile) verdicts a tiny or quick report is
        shown beside; None or a missing folder: none

    Cost: the runs the store lacks (seconds to hours: see the profiles in README), plus
    one evaluation and rendering (seconds).
    """
    from .bench.executors import interrupts_stop_the_sweep, make_executor
    from .bench.runner import execute
    from .bench.store import ResultStore
    from .core.backend import resolve_backend
    from .ledger.plan import plan

    backend = resolve_backend(backend).name      # InputError says why CuPy is unusable
    out = Path(out)
    planned = plan(entries, profile, backend)
    store_path = Path(store) if store else out / "results.sqlite"
    results = ResultStore(store_path)
    slots = max(1, min(jobs, _cores(), len(planned)))
    # every worker loads the same plugins, so that plugin experiments run there too
    from .plugins import load_plugins
    executor = make_executor(slots, scheduler or None, plugins, load_plugins)
    t0 = time.perf_counter()
    if log:
        capped = f" (--jobs {jobs} capped)" if slots < jobs and not scheduler else ""
        log(f"verify-sublin run: profile {profile}, backend {backend}, {len(planned)} runs "
            f"planned, store {results.path}, {executor.slots} worker slot(s){capped}")
    with interrupts_stop_the_sweep(executor):
        counts = execute(planned, results, profile, backend=backend, recompute=recompute,
                         progress=progress, executor=executor)
    previous = _previous_verdicts(out, store_path, profile, backend)
    md, page = write(results, out, profile, _merged(entries, previous, profile), backend,
                     reference)
    current = json.loads((out / "verdicts.json").read_text())
    return RunOutcome(counts, md, page, current, previous, time.perf_counter() - t0,
                      results.path, len(planned), {"malformed": dict(results.malformed)})


def _merged(entries: Sequence[str] | None, previous: dict | None,
            profile: str) -> list[str] | None:
    """The entries a report shows: those asked for and, when the folder holds a report of
    the same store and profile, every entry it showed that still runs at `profile` (a
    run of a few entries updates them in the fuller report instead of replacing it), in
    ledger order."""
    if entries is None or previous is None:
        return None if entries is None else list(entries)
    from .ledger.registry import ENTRIES

    kept = {e["claim"] for e in previous.get("verdicts", [])
            if e["claim"] in ENTRIES and profile in ENTRIES[e["claim"]].profiles}
    return [eid for eid in ENTRIES if eid in kept | set(entries)]


def _cores() -> int:
    import os
    return os.cpu_count() or 1


def write(store, out: str | Path, profile: str, entries: Sequence[str] | None = None,
          backend: str = "numpy", reference: str | Path | None = None) -> tuple[Path, Path]:
    """Evaluate `store` (an open `ResultStore`) and write its report into `out`."""
    from .ledger.outcome import assemble
    from .render.report import write_report

    if reference is not None and not Path(reference).is_dir():
        reference = None
    return write_report(assemble(store, profile, entries, backend, reference), out)


def render(store: str | Path, out: str | Path, profile: str | None = None,
           entries: Sequence[str] | None = None, backend: str = "numpy",
           reference: str | Path | None = "reports/full") -> tuple[Path, Path]:
    """Write the report of `store` into `out`, recomputing nothing; `profile` defaults to
    the store's (the profile most of its runs were made at). Cost: one evaluation and
    the figures whose runs changed."""
    from .bench.store import ResultStore
    from .render.compare import profile_of

    results = ResultStore(store, readonly=True)
    profile = profile or profile_of(results)
    return write(results, out, profile, entries, backend, reference)
