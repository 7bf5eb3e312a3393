"""What rq.tree_minibatch reads from its runs: one `Point` per grid point (c, N, m) of
the ``tree_minibatch`` experiment, who beats whom there in time and in counted
operations, where along N Q(b) that changes, and the figure.

The variable is N Q(b): the tree's update refreshes N |U_batch| leaves, |U_batch| about
n m Q(b) for a sparse batch, against the rescan's n m d, so the counted cost predicts
the tree ahead only where N Q(b) (1 + log2(m) / d) is below about 1.
Cost: O(runs x steps).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..plot import HLine, Panel, Plot, Series
from .base import color
from .spread import Spread

__all__ = ["MARKERS", "STRATEGIES", "Point", "beats", "crossover", "figure", "g2", "measured", "points",
           "wins"]

#: the strategies of the experiment, in table and legend order
STRATEGIES = ("tree", "rescan", "cache")
#: a marker per shift c of the grid (others: "D")
MARKERS = {0.4: "o", 0.85: "s", 1.5: "^"}


@dataclass(frozen=True)
class Point:
    """One grid point: sizes, N Q(b), and each strategy's step time and counted work."""

    c: float
    N: int
    m: int
    n: int
    d: int
    nq: float                   #: N Q(b)
    union: float                #: median |U_batch| over the timed steps
    times: dict                 #: strategy -> Spread of its step seconds
    ops: dict                   #: strategy -> median counted operations per step
    memory: dict                #: strategy -> bytes beyond the shared weights
    predicted: float            #: N |U| (d + log2 m) / (n m d), the predicted tree / rescan
    tree_vs_formula: float      #: tree's counted operations / N |U| (d + log2 m)
    mismatches: int             #: batch fire sets of the tree or cache unlike the rescan's


def points(results) -> list[Point]:
    """The finished runs as points, sorted by (N Q(b), c)."""
    out = []
    for r in results:
        p, res = r.params, r.result
        st = res.strategies
        formula = float(np.median(res.predicted_tree))
        out.append(Point(
            p["c"], p["N"], p["m"], p["n"], p["d"], p["N"] * res.Q, float(np.median(res.union)),
            {k: Spread.of(st[k].times) for k in STRATEGIES},
            {k: float(np.median(st[k].ops)) for k in STRATEGIES},
            {k: st[k].memory_bytes for k in STRATEGIES},
            formula / res.predicted_rescan, float(np.median(st["tree"].ops)) / max(formula, 1.0),
            st["tree"].mismatches + st["cache"].mismatches))
    return sorted(out, key=lambda q: (q.nq, q.c))


def beats(p: Point, other: str, by: str) -> bool:
    """The tree strictly below `other` in median step time (by="time") or median
    counted operations per step (by="ops")."""
    if by == "time":
        return p.times["tree"].median < p.times[other].median
    return p.ops["tree"] < p.ops[other]


def wins(p: Point) -> bool:
    """The tree below both the rescan and the cache, in time and in counted operations.

    >>> s = {k: Spread.of([t] * 5) for k, t in (("tree", 1.0), ("rescan", 2.0), ("cache", 3.0))}
    >>> p = Point(0.85, 128, 2**20, 64, 32, 0.04, 9.0, s, {"tree": 1, "rescan": 5, "cache": 2},
    ...           {}, 0.1, 0.8, 0)
    >>> wins(p), wins(Point(**{**p.__dict__, "ops": {"tree": 3, "rescan": 5, "cache": 2}}))
    (True, False)
    """
    return all(beats(p, o, by) for o in ("rescan", "cache") for by in ("time", "ops"))


def crossover(pts: list[Point], pred: Callable[[Point], bool]) -> str:
    """Where along N Q(b) `pred` holds, in words.

    >>> s = {k: Spread.of([1.0]) for k in STRATEGIES}
    >>> pts = [Point(1.5, 1, 1, 1, 1, x, 1.0, s, {}, {}, 0.0, 0.0, 0) for x in (0.01, 0.5, 2.0)]
    >>> crossover(pts, lambda p: p.nq < 1)
    'at N Q(b) <= 0.5, not from 2 on'
    >>> crossover(pts, lambda p: True), crossover(pts, lambda p: False)
    ('at all 3 points (N Q(b) 0.01 to 2)', 'at none of the 3 points (N Q(b) 0.01 to 2)')
    """
    yes = [p.nq for p in pts if pred(p)]
    no = [p.nq for p in pts if not pred(p)]
    span = f"N Q(b) {g2(min(p.nq for p in pts))} to {g2(max(p.nq for p in pts))}"
    if not no:
        return f"at all {len(yes)} points ({span})"
    if not yes:
        return f"at none of the {len(no)} points ({span})"
    if max(yes) < min(no):
        return f"at N Q(b) <= {g2(max(yes))}, not from {g2(min(no))} on"
    return (f"at {len(yes)} of {len(pts)} points, not in order of N Q(b) (it does at "
            f"{g2(max(yes))}, not at {g2(min(no))})")


def measured(pts: list[Point], nq_win: float) -> str:
    """The headline: at how many points the tree wins (and up to which N Q(b)), its time
    against the cache's where N Q(b) <= nq_win, and where it beats the rescan in counted
    operations (the prediction: below N Q(b) of about 1) and in time."""
    won = [p for p in pts if wins(p)]
    low = [p.times["tree"].median / p.times["cache"].median for p in pts if p.nq <= nq_win]
    return (f"the tree is fastest with the fewest operations at {len(won)} of {len(pts)} grid "
            "points" + (f" (N Q(b) up to {g2(max(p.nq for p in won))})" if won else "")
            + (f"; where N Q(b) <= {nq_win:g} it takes {g2(min(low))}-{g2(max(low))}x the "
               "cache's time" if low else "")
            + "; in counted operations it beats the rescan "
            + crossover(pts, lambda p: beats(p, "rescan", "ops"))
            + " (predicted: below about 1), in time "
            + crossover(pts, lambda p: beats(p, "rescan", "time")))


def g2(x: float) -> str:
    """x to 2 significant digits, plain.

    >>> g2(0.03821), g2(1234.5)
    ('0.038', '1200')
    """
    return f"{float(f'{x:.2g}'):g}"


def _vline(x: float, ys: list[float]) -> Series:
    ys = [y for y in ys if y > 0 and math.isfinite(y)] or [1.0]
    return Series([x, x], [min(ys) / 2, max(ys) * 2], "N Q(b) = 1", ":", "k")


def figure(pts: list[Point]) -> Plot:
    """Step time and counted operations of the three strategies against N Q(b) (a marker
    per c), and the tree's ratios to the others with the predicted tree / rescan."""
    cs = sorted({p.c for p in pts})
    panels = []
    for what, ylabel in (("time", "seconds per step (median)"), ("ops", "counted operations per step")):
        series, ys = [], []
        for j, k in enumerate(STRATEGIES):
            for c in cs:
                row = [p for p in pts if p.c == c]
                y = [p.times[k].median if what == "time" else p.ops[k] for p in row]
                ys += y
                series.append(Series([p.nq for p in row], y, f"{k}, c = {c:g}",
                                     MARKERS.get(c, "D") + "-", color(j)))
        series.append(_vline(1.0, ys))
        panels.append(Panel(series, "N Q(b)", ylabel, xscale="log", yscale="log", grid=True,
                            legend=what == "time"))
    ratios, ys = [], []
    for j, (other, what) in enumerate((("rescan", "time"), ("cache", "time"),
                                       ("rescan", "ops"), ("cache", "ops"))):
        y = [p.times["tree"].median / p.times[other].median if what == "time"
             else p.ops["tree"] / max(p.ops[other], 1.0) for p in pts]
        ys += y
        ratios.append(Series([p.nq for p in pts], y, f"tree / {other}, {what}",
                             "o-" if what == "time" else "s--", color(1 + j % 2)))
    ratios.append(Series([p.nq for p in pts], [p.predicted for p in pts],
                         "predicted N|U|(d + log2 m) / (n m d)", ":", "gray"))
    ratios.append(_vline(1.0, ys + [p.predicted for p in pts]))
    panels.append(Panel(ratios, "N Q(b)", "tree / other (all c)", xscale="log", yscale="log",
                        grid=True, hlines=[HLine(1.0)]))
    return Plot(panels, "Mini-batch fire sets: per-step time and counted operations of the "
                        "tree over all N inputs, a rescan of the batch and a cache of all N "
                        "inputs, against N Q(b); the tree's ratios to the others (below 1: "
                        "the tree ahead).", size=(15.0, 4.5))
