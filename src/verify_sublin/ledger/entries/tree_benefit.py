"""tree.benefit: the tree (DSWS) is what makes the step cheap: maintaining fire sets with
it costs less than without it (per-step times against a tree-free cache and a scan)."""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..toolkit import CITE, SAME, Entry, Plot, Series, Shown, Sizes, Table, color, loglog, pow2, worst
from ..toolkit.spread import Spread
from ..toolkit.tree import TREE_CS

#: the fire-set maintenance and pre-activation routes timed, in plot order
VARIANTS = ("sublinear tree explicit", "sublinear cache explicit", "sublinear scan explicit",
            "sublinear tree implicit", "sublinear cache implicit")

#   five variants, timed one at a time; budget: quick about 15 s, full about 60 s
SIZES = Sizes(
    #      tiny     quick           full
    m=([2**10], [2**12, 2**14], [2**16, 2**18, 2**20]),
    n=(8, 32, 64),
    d=(8, 16, 32),
    steps=(2, 3, 5),
    c=(list(TREE_CS), SAME, SAME),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("step_speed", {"method": "sublinear_gn", "variant": v, "m": m, "n": s.n,
                                   "d": s.d, "c": c, "steps": s.steps, "warmup": 1}, seed=5)
            for c in s.c for m in s.m for v in VARIANTS]


@dataclass(frozen=True)
class Values:
    medians: dict       #: (c, m, variant) -> median seconds per step
    cs: list            #: the shifts run, in plot order
    spreads: dict       #: (c, m, variant) -> Spread of the seconds of its timed steps


def values(results) -> Values:
    key = [((r.params["c"], r.params["m"], r.params["variant"]), r.result) for r in results]
    return Values({k: res.median for k, res in key}, list(results.sizes.c),
                  {k: Spread.of(res.times) for k, res in key})


def _rows(v: Values):
    """(c, m, tree, cache, scan, tree implicit, cache implicit, largest m of c) where the
    tree and the cache (explicit) both finished; nan for a missing variant."""
    for c in sorted({k[0] for k in v.medians}):
        ms = sorted({k[1] for k in v.medians if k[0] == c})
        for m in ms:
            t = [v.medians.get((c, m, x), float("nan")) for x in VARIANTS]
            if (c, m, VARIANTS[0]) in v.medians and (c, m, VARIANTS[1]) in v.medians:
                yield (c, m, *t, m == ms[-1])


def decide(v: Values) -> tuple[str, str]:
    verdicts = ["holds" if te <= ce else "holds-with-caveat" if te < se else "fails"
                for _, _, te, ce, se, _, _, top in _rows(v) if top]
    return (worst(verdicts) if verdicts else "inconclusive"), ""


def show(v: Values, verdict: str, reason: str) -> Shown:
    table = Table(["c", "m", "tree / cache (explicit)", "tree / scan (explicit)",
                   "tree / cache (implicit)", "tree (explicit)", "cache (explicit)"])
    ratios, ratios_implicit = [], []
    for c, m, te, ce, se, ti, ci, _ in _rows(v):
        ratios.append(te / ce)
        if ti == ti and ci == ci:
            ratios_implicit.append(ti / ci)
        table.add(c, pow2(m), f"{te / ce:.2f}", f"{te / se:.2f}", f"{ti / ci:.2f}",
                  v.spreads[(c, m, VARIANTS[0])].ms("steps"),
                  v.spreads[(c, m, VARIANTS[1])].ms("steps"))
    note = ("Every neuron a Gauss-Newton step changes is in the union of the fire sets the "
            "step already knows, and a neuron outside it never fires again, so the "
            "tree-free cache of the live union is exact; the tree adds log m work per "
            "changed neuron and input. Times: the median of each variant's timed steps "
            "with their interquartile range, one seed and one data set (sphere) per size; the "
            "ratios are of medians measured in one process.")
    largest = {}
    for c, m, te, ce, se, *_ in _rows(v):
        if m >= largest.get(c, (0,))[0]:
            largest[c] = (m, te / ce, te / se)
    measured = ("at the largest width the tree's step takes " + "; ".join(
        f"{r:.2f}x the tree-free cache's and {sc:.2f}x a full rescan's at c = {c}, "
        f"m = {pow2(m)}" for c, (m, r, sc) in sorted(largest.items()))
        + f" (explicit weights; over all widths {min(ratios):.2f}..{max(ratios):.2f}x the "
        "cache's" + (f", {min(ratios_implicit):.2f}..{max(ratios_implicit):.2f}x with "
                     "implicit weights" if ratios_implicit else "") + ")")
    rule = ("at the largest m for each c: holds if the tree variant is no slower than the "
            "tree-free cache, holds-with-caveat if it beats only the full scan, fails if it "
            "beats neither (same pre-activation route, medians measured in one process).")
    panels = []
    for c in v.cs:
        series = []
        for j, x in enumerate(VARIANTS):
            rows = sorted((m, t) for (c2, m, x2), t in v.medians.items() if c2 == c and x2 == x)
            if rows:
                series.append(Series([m for m, _ in rows], [t for _, t in rows],
                                     x.replace("sublinear ", ""), "o-", color(j)))
        panels.append(loglog(series, "width m", "seconds per step", title=f"c = {c}"))
    plot = Plot(panels, "Per-step time of the sublinear method by fire-set maintenance and "
                        "pre-activation route.")
    return Shown("maintaining fire sets with the tree is cheaper than without", measured, rule,
                 [table, note],
                 {"tree_over_cache_min": min(ratios), "tree_over_cache_max": max(ratios),
                  "tree_over_cache_implicit_max": max(ratios_implicit, default=float("nan"))},
                 plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['DHSWZ']}, abstract: \"This method relies on a new and alternative view "
          "of neural networks, as a set of binary search trees, where each iteration "
          "corresponds to modifying a small subset of the nodes in the tree\"; "
          f"{CITE['REVIEW']}: \"The key idea behind the algorithm is using a tree-based "
          "data structure to efficiently identify activated neurons\"")

ENTRY = Entry(
    id="tree.benefit", kind="claim", paper="DHSWZ",
    statement="The tree (DSWS) is what makes the step cheap: maintaining fire sets with it "
              "costs less than without it.",
    source=SOURCE,
    experiment="Per-step time of sublinear Gauss-Newton with the tree, with a tree-free cache "
               "of the live union, and with a full scan of cached inner products, over m and c.",
    rule="Tree no slower than the tree-free cache at the largest m.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "SIZES", "VARIANTS"]
