"""width.scaling: how the width that works in practice (the width law m*(n), see
`toolkit.width`) grows with n, beside the theorem's n^(4 / (1 - 2c))."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...bench.spec import RunSpec
from ..entry import SOURCE_RECONSTRUCTED
from ..papers import CITE
from ..toolkit import SAME, Entry, Panel, Plot, Series, Shown, Sizes, Table, color
from ..toolkit import width as W
from ..toolkit.width import theorem_n_exponent

# Budget (seconds of computation on the committed report's machine, from 2 timed subsets
# per cell scaled up): full ~185, study ~450, quick ~25; see the experiment text.
SIZES = Sizes(
    profiles=("tiny", "quick", "full", "study"),
    #   tiny       quick             full                    study
    n=([4, 8], [8, 16, 32], [16, 32, 64, 128, 256], SAME),
    c=([0.0, 0.4], [0.0, 0.2, 0.4], SAME, SAME),
    #: (data set, d, largest n): diabetes has 442 rows
    sets=([("sphere-random", 4, 8)], [("sphere-random", 8, 32), ("diabetes", 10, 32)],
          [("sphere-random", 16, 256), ("diabetes", 10, 128)], SAME),
    #: data subsets (30 in the study: the largest of 30 bounds a 90% quantile at 95%)
    subsets=(3, 5, 10, 30),
    #: the grid's largest width is 2^log2_max
    log2_max=(10, 14, 17, 19),
)


def runs(s) -> list[RunSpec]:
    return W.law_runs(s.sets, s.n, s.c, s.subsets, s.log2_max)


@dataclass(frozen=True)
class Values:
    law: dict       #: threshold -> {(data set, c): {n: LawPoint}}
    fits: dict      #: threshold -> {(data set, c): LawFit or None}


def values(results) -> Values:
    law = {t: W.law_cells(results, t) for t in W.LAW_THRESHOLDS}
    return Values(law, {t: {k: W.law_fit(pts) for k, pts in cells.items()} for t, cells in law.items()})


def decide(v: Values) -> tuple[str, str]:
    return "answer", ""


def _fit_text(fit) -> str:
    return str(fit) if fit else "too few n with m* on the grid"


def show(v: Values, verdict: str, reason: str) -> Shown:
    t0, law = W.LAW_THRESHOLD, v.law[W.LAW_THRESHOLD]
    points = Table(["data", "c", "n", f"m*(n) at {t0:g} [95% interval]", "subsets above the grid"]
                   + [f"m*(n) at {t:g}" for t in W.LAW_THRESHOLDS[1:]])
    fits = Table(["data", "c"] + [f"exponent at {t:g}" for t in W.LAW_THRESHOLDS]
                 + ["theorem's exponent (lambda independent of n)"])
    answers, panels = {}, {}
    cs = sorted({c for _, c in law})
    for (ds, c), pts in law.items():
        k = cs.index(c)
        e = theorem_n_exponent(c)
        for n, p in pts.items():
            points.add(ds, c, n, p.text(), f"{p.above} of {p.subsets}",
                       *(v.law[t][ds, c][n].text() for t in W.LAW_THRESHOLDS[1:]))
        fits.add(ds, c, *(_fit_text(v.fits[t][ds, c]) for t in W.LAW_THRESHOLDS), f"{e:.3g}")
        answers.setdefault(ds, []).append(f"n^{_fit_text(v.fits[t0][ds, c])} at c = {c:g}")
        ns = np.array(list(pts))
        ms = np.array([p.m for p in pts.values()])
        edge = np.sqrt(2) * max(p.top for p in pts.values())     # above the grid: drawn here

        def cap(x, edge=edge):
            return np.minimum(x, edge)
        lo, hi = cap([p.low for p in pts.values()]), cap([p.high for p in pts.values()])
        series = panels.setdefault(ds, [])
        series += [Series(ns, cap(ms), f"c={c} m*(n) at {t0:g}", "o-", color(k), kind="errorbar",
                          yerr=(cap(ms) - lo, hi - cap(ms))),
                   Series(ns, cap([v.law[W.LAW_THRESHOLDS[-1]][ds, c][n].m for n in ns]),
                          f"c={c} at {W.LAW_THRESHOLDS[-1]:g}", "x:", color(k), alpha=0.6)]
        if np.isfinite(ms[0]) and np.isfinite(e):
            series.append(Series(ns, ms[0] * (ns / ns[0]) ** e, f"n^{e:.3g} (theorem)", "--",
                                 color(k), alpha=0.4))
    rule = (f"answer: per data set and c, m*(n) (the {W.LAW_QUANTILE:.0%} quantile over the data "
            f"subsets of the smallest width from which {W.LAW_NEED} of {W.LAW_INITS} "
            f"initialisations contract by {t0:g} at every step; toolkit definition below) with "
            "its 95% bootstrap interval, and the fitted exponent of m*(n) in n with its interval, "
            "beside 4 / (1 - 2c), the theorem's exponent if lambda did not depend on n (its own "
            f"exponent can only be larger: lambda falls with n); the same at thresholds "
            f"{', '.join(f'{t:g}' for t in W.LAW_THRESHOLDS[1:])} to show how much the answer "
            "depends on the threshold.")
    # matplotlib lists error bars after lines in a legend: keep that order
    plot = Plot([Panel(sorted(s, key=lambda x: x.kind == "errorbar"), "n",
                       f"m*(n) ({W.LAW_QUANTILE:.0%} of the data subsets)", xscale="log2",
                       yscale="log2", title=ds, ylim=(None, 2**21)) for ds, s in sorted(panels.items())],
                f"m*(n) at threshold {t0:g} with its 95% bootstrap interval over the data subsets "
                f"(crosses: at {W.LAW_THRESHOLDS[-1]:g}); dashed: the theorem's exponent 4 / (1 - 2c) "
                "(lambda independent of n) drawn from the first point (its constants are not known: "
                "only the slope is compared). Points above the grid are drawn at its edge.")
    figures = {"fits": {f"{t:g}": {f"{ds} c={c}": vars(f) if f else None
                                   for (ds, c), f in v.fits[t].items()} for t in W.LAW_THRESHOLDS},
               "m_star": {f"{t:g}": {f"{ds} c={c}": [(n, *W.finite(p.m, p.low, p.high))
                                                     for n, p in pts.items()]
                                     for (ds, c), pts in v.law[t].items()} for t in W.LAW_THRESHOLDS}}
    return Shown("the theorem's width grows as n^(4 / (1 - 2c)) (4, 6.7, 20 at c = 0, 0.2, 0.4) "
                 "with lambda independent of n, faster with the theorem's own lambda",
                 "; ".join(f"on {ds}, m*(n) grows as {', '.join(a)}" for ds, a in answers.items())
                 + "; the theorem's exponents (lambda independent of n): "
                 + ", ".join(f"{theorem_n_exponent(c):.3g}" for c in cs), rule,
                 [W.law_note, fits, points], figures, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"the width is polynomial in the number of training points\"; "
          "the meta-review: \"requiring width of the network polynomially large in term of"
          " the number of data points\"; the theorem's n^(4 / (1 - 2c)) follows from the "
          f"width formula, which is {SOURCE_RECONSTRUCTED}")

ENTRY = Entry(
    id="width.scaling", kind="question", paper="DHSWZ",
    statement="How does the width that works in practice grow with n, beside the theorem's "
              "n^(4 / (1 - 2c))?",
    source=SOURCE,
    experiment="The width law (width_law; definition below): per data subset, a search of the grid "
               f"2^(j/2) (2^3..2^17) for the smallest width from which {W.LAW_NEED} of {W.LAW_INITS} "
               "initialisations of Gauss-Newton (mu = 0, exact solve) contract by the threshold at "
               "every step to 1e-8 within 25 steps, at thresholds 0.5, 0.6, 0.75: a ladder over the "
               "powers of two, then bisection of each threshold's bracket, with early stopping "
               "(initialisations stop once 4 of 5 is decided, a trial at its first non-contracting "
               "step); cost about 2.7 C(p) <= 5.4 C(m*), C(m) = 5 x 25 Gauss-Newton steps at m. Full: "
               "n = 16, 32, ..., 256 (diabetes to 128: it has 442 rows), c in {0, 0.2, 0.4}, "
               "sphere-random (d = 16) and diabetes (d = 10), 10 subsets; study: 30 subsets, grid to "
               "2^19; quick: n in {8, 16, 32}, sphere-random (d = 8) and diabetes, 5 subsets, grid to "
               "2^14. Budget: full ~185 s of computation (timed on 2 of 10 subsets per cell; the "
               "heaviest cells sphere-random n = 256, c = 0 ~40 s and diabetes n = 128 ~30 s each, "
               "one search there 1-7 s), study ~450 s, quick ~25 s.",
    rule="answer: the fitted exponent of m*(n) in n per c with its interval, beside 4 / (1 - 2c).",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "SIZES", "theorem_n_exponent"]
