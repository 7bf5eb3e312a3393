"""``verify-sublin export``: a store as tidy tables (CSV, JSON, Parquet)."""

from __future__ import annotations

import sys

from . import options as o
from .options import Option

NAME = "export"
HELP = ("export a store as tidy tables: measurements (one row per run and quantity) and "
        "verdicts, as CSV and JSON (Parquet with pyarrow)")
EXAMPLES = ("verify-sublin export --store reports/full/results.sqlite --out /tmp/export",
            "verify-sublin export --store reports/full/results.sqlite --out /tmp/export "
            "--format csv,json")

OPTIONS = [
    Option(("--store",), None, o.existing_store, "results database (required)", required=True),
    Option(("--out", "--csv"), None, o.folder, "output folder (required)", metavar="DIR",
           dest="out", required=True),
    Option(("--format",), "csv,json", o.formats,
           "comma-separated formats: csv, json, parquet (needs pyarrow)"),
]


def main(args) -> int:
    from ..bench.experiments import EXPERIMENTS
    from ..bench.store import ResultStore
    from ..render.export import export_tables
    from .summary import warn_malformed

    store = ResultStore(args.store, readonly=True)
    for out in export_tables(store, args.out, args.format):
        print(out)
    warn_malformed(store.malformed)
    unknown = sorted({r["experiment"] for r in store.runs()} - set(EXPERIMENTS))
    if unknown:
        print(f"verify-sublin: warning: runs of experiments this process does not know "
              f"({', '.join(unknown)}) are exported untyped and in no entry's verdicts: a "
              "plugin's? load it with --plugin", file=sys.stderr)
    return 0


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main"]
