"""``verify-sublin reproduce``: re-run a stored run and compare its figures."""

from __future__ import annotations

from . import options as o
from .options import Option

NAME = "reproduce"
HELP = "re-run a stored run and compare its figures"
EXAMPLES = ("verify-sublin reproduce 17 --store reports/full/results.sqlite",)

OPTIONS = [
    Option(("run_id",), None, o.run_id, "the run's id (the report's provenance lists them)"),
    Option(("--store",), "reports/latest/results.sqlite", o.existing_store, "results database"),
    Option(("--time-factor",), "3.0", o.factor, "times match when within this factor"),
    Option(("--memory-limit",), "", o.size,
           "refuse configurations above this size (e.g. 16G)"),
]


def main(args) -> int:
    from ..bench.experiments import EXPERIMENTS
    from ..bench.reproduce import reproduce
    from ..bench.store import ResultStore
    from .summary import apply_memory_limit, warn_malformed

    apply_memory_limit(args.memory_limit)
    store = ResultStore(args.store, readonly=True)
    report = reproduce(store, args.run_id, EXPERIMENTS, time_factor=args.time_factor)
    warn_malformed(store.malformed)
    print(f"run {args.run_id}: {report['experiment']} {report['params']} seed {report['seed']}")
    print(f"  stored at commit {report['stored_commit']}, reproduced at {report['commit']}")
    print(f"  {report['compared']} figures compared: {len(report['mismatches'])} mismatch(es) "
          f"(exact for integers, 1e-9 relative for other numbers, times within a factor "
          f"{args.time_factor:g}); {report['times_compared']} times")
    for m in report["mismatches"][:40]:
        print(f"  MISMATCH {m['field']}: stored {m['stored']!r}, now {m['now']!r} ({m['rule']})")
    print("  reproduced" if report["match"] else "  NOT reproduced")
    return 0 if report["match"] else 1


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main"]
