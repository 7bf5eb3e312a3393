"""``verify-sublin run``: check the entries at a profile, write the report."""

from __future__ import annotations

import sys

from . import options as o
from .options import Option

NAME = "run"
HELP = "check the claims: make the runs, write the report"
EXAMPLES = ("verify-sublin run --profile quick",
            "verify-sublin run --profile quick --claims tree.correctness --fail-on fails,inconclusive")

OPTIONS = [
    Option(("--profile",), "quick", o.profile,
           "quick (<= 3 min on 2 cores, indicative), full (<= 60 min with --jobs 2), large "
           "(widths to m = 2^24, about 30 min, --jobs 1), study (the long grids, its own "
           "report), tiny (the tests' sizes)"),
    Option(("--claims",), None, o.entry_ids, "comma-separated entry ids (default: all)",
           late=True),
    Option(("--out",), "reports/latest", o.folder, "output folder"),
    Option(("--store",), "", o.store_file, "results database (empty: OUT/results.sqlite)"),
    Option(("--recompute",), False, None, "redo runs already stored"),
    Option(("--quiet",), False, None, "no progress output"),
    Option(("--jobs",), "1", o.positive, "local worker processes for the non-timing runs"),
    Option(("--scheduler",), "", o.scheduler,
           "address of a Dask scheduler (tcp://host:8786) to run on a cluster"),
    Option(("--backend",), "numpy", o.backend,
           "numpy, cupy, auto (CuPy if it has a device) or array_api_strict"),
    Option(("--memory-limit",), "", o.size,
           "refuse configurations above this size (e.g. 16G); empty: 90%% of the available "
           "memory"),
    Option(("--fail-on",), "", o.verdict_words,
           "exit with status 1 when any entry gets one of these comma-separated verdicts "
           "(e.g. inconclusive); empty: exit 0. The correct report has failing claims, so "
           "as a CI gate use `compare --fail-on-change` against a committed reference",
           metavar="VERDICTS"),
]


def main(args) -> int:
    from ..api import run
    from .progress import printer
    from .summary import apply_memory_limit, summarise, warn_malformed

    apply_memory_limit(args.memory_limit)
    outcome = run(args.profile, args.claims, args.out, args.store, recompute=args.recompute,
                  jobs=args.jobs, scheduler=args.scheduler, backend=args.backend,
                  plugins=args.plugin, progress=None if args.quiet else printer(),
                  log=lambda line: print(line, file=sys.stderr, flush=True))
    warn_malformed(outcome.extra["malformed"])
    c = outcome.counts
    print(f"\n{c['done']} runs made, {c['skipped']} already stored, {c['failed']} failed, in "
          f"{outcome.seconds:.1f} s", file=sys.stderr)
    print(f"report: {outcome.report_md}\n        {outcome.report_html}")
    return summarise(outcome.verdicts, outcome.previous, args.fail_on,
                     set(args.claims) if args.claims else None)


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main"]
