"""``verify-sublin claims``: list the ledger's entries, or their sizes per profile."""

from __future__ import annotations

from .options import Option

NAME = "claims"
HELP = "list the ledger's entries: id, kind, paper, statement, source (--sizes: their sizes)"
EXAMPLES = ("verify-sublin claims", "verify-sublin claims --sizes")

OPTIONS = [
    Option(("--sizes",), False, None,
           "print each entry's sizes per profile (one table per entry) instead"),
]


def _value(v, pow2: bool = False) -> str:
    """A size as the report writes it: widths (`pow2`) as 2^k, ranges for long lists.

    >>> _value([2**10, 2**12, 2**14, 2**16], pow2=True), _value((64, 32)), _value(0.4)
    ('2^10..2^16 (4 values)', '64, 32', '0.4')
    """
    if isinstance(v, (list, tuple)):
        if len(v) > 3 and all(isinstance(x, (int, float)) for x in v):
            return f"{_value(v[0], pow2)}..{_value(v[-1], pow2)} ({len(v)} values)"
        return ", ".join(_value(x, pow2) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_value(x, pow2)}" for k, x in v.items())
    if pow2 and isinstance(v, int) and not isinstance(v, bool) and v >= 16 and v & (v - 1) == 0:
        return f"2^{v.bit_length() - 1}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def sizes_table(entry) -> str:
    """An entry's sizes: a row per parameter, a column per profile."""
    from tabulate import tabulate

    sizes = getattr(entry, "sizes", None)
    if sizes is None or not sizes.rows:
        return "  (no sizes declared)"
    rows = [[name, *(_value(v, name.startswith("m")) for v in values)]
            for name, values in sizes.rows.items()]
    return tabulate(rows, headers=["size", *sizes.profiles], tablefmt="simple")


def main(args) -> int:
    from ..ledger.registry import ENTRIES

    for e in ENTRIES.values():
        if args.sizes:
            print(f"{e.id} ({e.kind}; profiles {', '.join(e.profiles)})")
            print(sizes_table(e) + "\n")
            continue
        print(f"{e.id:24} {e.kind:9} [{e.paper}] {e.statement}")
        print(f"{'':24} {'':9} source: {e.source}")
    return 0


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main", "sizes_table"]
