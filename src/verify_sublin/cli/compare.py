"""``verify-sublin compare``: the verdicts of two stores or report folders side by side."""

from __future__ import annotations

from . import options as o
from .options import Option

NAME = "compare"
HELP = ("verdicts and headline figures of two stores or report folders, side by side, "
        "differences marked")
EXAMPLES = ("verify-sublin compare reports/latest reports/full",
            "verify-sublin compare OLD.sqlite NEW.sqlite --profile quick --fail-on-change")

OPTIONS = [
    Option(("a",), None, o.results_path,
           "A: a report folder (its verdicts.json) or a results database"),
    Option(("b",), None, o.results_path, "B: a report folder or a results database"),
    Option(("--profile",), "", o.profile_or_empty,
           "the profile to evaluate a store at (empty: the report's, or the store's most "
           "frequent)"),
    Option(("--backend",), "numpy", o.backend, "the backend whose runs to evaluate"),
    Option(("--fail-on-change",), False, None, "exit with status 1 when a verdict differs"),
]


def main(args) -> int:
    from ..render.compare import compare_table, load_verdicts

    a = load_verdicts(args.a, args.profile or None, args.backend)
    b = load_verdicts(args.b, args.profile or None, args.backend)
    print(f"A: {args.a} ({a['profile']} profile)\nB: {args.b} ({b['profile']} profile)")
    lines = compare_table(a, b)
    print("\n".join(lines))
    return 1 if args.fail_on_change and any(line.startswith("!") for line in lines) else 0


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main"]
