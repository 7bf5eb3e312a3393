"""lower_bound.dsws: under SETH or OVC no dynamic structure is much faster than the tree
(untestable: a conditional lower bound). Shown instead, from tree.benefit's runs: what
the tree costs in full-batch Gauss-Newton against an exact tree-free cache and a rescan."""

from __future__ import annotations

from dataclasses import dataclass

from ..toolkit import CITE, Entry, Shown, Table, pow2
from ..toolkit.spread import MIN_REPEATS, Spread
from .tree_benefit import SIZES, VARIANTS, runs

#: the variants compared: the tree, this project's tree-free cache of the union, a full
#: rescan of the cached inner products (explicit weights), and tree and cache with
#: implicit pre-activations
TREE, CACHE, SCAN, TREE_IMPLICIT, CACHE_IMPLICIT = VARIANTS


@dataclass(frozen=True)
class Values:
    times: dict         #: (c, m, variant) -> Spread of the per-step seconds
    seeds: int          #: distinct seeds of the runs


def values(results) -> Values:
    return Values({(r.params["c"], r.params["m"], r.params["variant"]): Spread.of(r.result.times)
                   for r in results}, len({r.spec.seed for r in results}))


def ratios(v: Values, slow: str, fast: str) -> list[tuple[float, float, float]]:
    """(median ratio, low, high) of slow / fast per (c, m) where both ran: the ratio of
    the medians, and of the opposite quartiles (q1 / q3, q3 / q1)."""
    out = []
    for (c, m, x), a in sorted(v.times.items()):
        b = v.times.get((c, m, fast))
        if x == slow and b is not None:
            out.append((a.median / b.median, a.q1 / b.q3, a.q3 / b.q1))
    return out


def span(rs: list[tuple[float, float, float]]) -> str:
    """The range of the median ratios, and of the quartile ratios, to 2 digits.

    >>> span([(4.34, 3.3, 5.0), (17.55, 12.0, 20.4)])
    '4.3-18x (quartile ratios 3.3-20x)'
    """
    def g(x: float) -> str:
        return f"{float(f'{x:.2g}'):g}"
    return (f"{g(min(r[0] for r in rs))}-{g(max(r[0] for r in rs))}x (quartile ratios "
            f"{g(min(r[1] for r in rs))}-{g(max(r[2] for r in rs))}x)")


def decide(v: Values) -> tuple[str, str]:
    return "untestable", "a conditional lower bound"


def show(v: Values, verdict: str, reason: str) -> Shown:
    cache = ratios(v, TREE, CACHE) + ratios(v, TREE_IMPLICIT, CACHE_IMPLICIT)
    scan = ratios(v, TREE, SCAN)
    k = min((s.k for s in v.times.values()), default=0)
    table = Table(["c", "m", "tree (explicit)", "tree-free cache (explicit)",
                   "full rescan (explicit)", "tree / cache", "tree / rescan",
                   "tree / cache (implicit)"])
    for c, m in sorted({(c, m) for c, m, _ in v.times}):
        t = {x: v.times.get((c, m, x), Spread.of([])) for x in VARIANTS}
        table.add(f"{c:g}", pow2(m), t[TREE].ms("steps"), t[CACHE].ms("steps"),
                  t[SCAN].ms("steps"), f"{t[TREE].median / t[CACHE].median:.2f}",
                  f"{t[TREE].median / t[SCAN].median:.2f}",
                  f"{t[TREE_IMPLICIT].median / t[CACHE_IMPLICIT].median:.2f}")
    measured = "no run had both the tree and the cache"
    if cache and scan:
        faster = (f"an exact tree-free cache of the union is {span(cache)} faster per step "
                  "than the tree" if min(r[0] for r in cache) > 1 else
                  f"the tree takes {span(cache)} the time per step of an exact tree-free "
                  "cache of the union")
        slower = (f"is {span(scan)} slower than" if min(r[0] for r in scan) > 1
                  else f"takes {span(scan)} the time of")
        few = "" if k >= MIN_REPEATS else f", fewer than {MIN_REPEATS}"
        measured = (f"in full-batch Gauss-Newton with a fixed second layer, {faster}, and "
                    f"the tree {slower} a full rescan (medians of {k} steps{few}, {v.seeds} "
                    f"seed{'s' if v.seeds > 1 else ''}, one data set per size)")
    rule = ("untestable: a conditional lower bound (under SETH / OVC) says nothing a finite "
            "experiment can refute, and the times of one implementation bound nothing. "
            "What the data show instead (tree.benefit's runs): where the only weights that "
            "move are those of the fire sets a step already knows, the tree's search is "
            "work an exact cache of the union avoids. The lower bound concerns the general "
            "dynamic problem (any neuron may be updated); in full-batch Gauss-Newton with a "
            "fixed second layer every updated neuron is one the step already knows to be in "
            "the union.")
    intro = ("The same runs as tree.benefit: per-step seconds of sublinear Gauss-Newton "
             "maintaining the fire sets with the tree, with this project's tree-free cache "
             "of the live union (exact: no paper proposes it), and with a full rescan of "
             "the cached inner products; each time a median of the steps with its IQR. "
             "Ratios are of medians; the quartile ratios (q1 / q3 and q3 / q1) bound the "
             "spread.")
    return Shown(
        "no dynamic structure is much faster (conditional on SETH / OVC)", measured, rule,
        [intro, table],
        {"cache_speedup_min": min((r[0] for r in cache), default=float("nan")),
         "cache_speedup_max": max((r[0] for r in cache), default=float("nan")),
         "tree_over_scan_min": min((r[0] for r in scan), default=float("nan")),
         "tree_over_scan_max": max((r[0] for r in scan), default=float("nan"))})


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['DHSWZ']}, abstract (ICLR 2025 version): a \"lower bound for the dynamic "
          "sensitive weight searching data structure we make use of, showing that under "
          "SETH or OVC from computational complexity, one cannot substantially improve "
          "our algorithm\"")

ENTRY = Entry(
    id="lower_bound.dsws", kind="claim", paper="DHSWZ",
    statement="Under SETH or OVC, the dynamic sensitive weight searching problem cannot be "
              "solved substantially faster than the tree does.",
    source=SOURCE,
    experiment="None can test a conditional lower bound. Shown instead, from tree.benefit's "
               "runs: per-step time of sublinear Gauss-Newton with the tree, with this "
               "project's exact tree-free cache of the union, and with a full rescan. "
               "Budget: none of its own (tree.benefit's runs).",
    rule="untestable (conditional complexity statement).",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "SIZES"]
