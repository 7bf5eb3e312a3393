"""``verify-sublin report``: write the report of a store again, recomputing nothing."""

from __future__ import annotations

from . import options as o
from .options import Option

NAME = "report"
HELP = "re-render the report from a store, recomputing nothing"
EXAMPLES = ("verify-sublin report --store reports/full/results.sqlite --out /tmp/full",)

OPTIONS = [
    Option(("--store",), None, o.existing_store, "results database (required)", required=True),
    Option(("--out",), None, o.folder, "output folder (required)", required=True),
    Option(("--profile",), "", o.profile_or_empty,
           "the profile whose runs to report (empty: the store's)"),
    Option(("--claims",), None, o.entry_ids, "comma-separated entry ids (default: all)",
           late=True),
    Option(("--backend",), "numpy", o.backend, "the backend whose runs to report"),
]


def main(args) -> int:
    from ..api import render
    md, page = render(args.store, args.out, args.profile or None, args.claims, args.backend)
    print(f"report: {md}\n        {page}")
    return 0


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main"]
