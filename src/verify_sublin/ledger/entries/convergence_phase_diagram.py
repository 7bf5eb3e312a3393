"""convergence.phase_diagram: where in (m, c) Gauss-Newton converges by 2x per step, by
the width law (`toolkit.width`, the definition width.scaling and width.requirement use),
and where it is also sparse (one heat map per data set)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...bench.spec import RunSpec
from ..papers import CITE
from ..plot import Contour, Heatmap
from ..toolkit import SAME, Entry, Panel, Plot, Series, Shown, Sizes, Table, color, pow2
from ..toolkit import width as W
from .width_scaling import SIZES as LAW

#: the expected fire fraction Q(b) at or below which a width counts as sparse
PHASE_SPARSE = 0.1

# The data sets, subsets and grid are width.scaling's, so that its runs at n = 32 (c = 0,
# 0.2, 0.4) serve here too. Budget: full ~45 s, study ~210 s, quick ~10 s (experiment text).
SIZES = Sizes(
    profiles=LAW.profiles,
    #   tiny             quick                       full                                 study
    c=([0.0, 0.4, 0.8], [0.0, 0.2, 0.4, 0.6, 0.8], [round(0.1 * k, 1) for k in range(10)], SAME),
    n=(8, 32, 32, SAME),
    sets=LAW.rows["sets"], subsets=LAW.rows["subsets"], log2_max=LAW.rows["log2_max"],
)


def runs(s) -> list[RunSpec]:
    return W.law_runs(s.sets, [s.n], s.c, s.subsets, s.log2_max)


@dataclass(frozen=True)
class Values:
    law: dict       #: threshold -> {(data set, c): LawPoint} at the diagram's n
    stars: dict     #: (data set, c) -> (m*(subset) at the law's threshold, grid top)
    n: int          #: the diagram's n


def values(results) -> Values:
    law = {t: {k: next(iter(pts.values())) for k, pts in W.law_cells(results, t).items()}
           for t in W.LAW_THRESHOLDS}
    stars = {k: next(iter(v.values())) for k, v in W.subset_stars(results, W.LAW_THRESHOLD).items()}
    return Values(law, stars, next(iter(results)).params["n"])


def decide(v: Values) -> tuple[str, str]:
    return "answer", ""


def _start(p, c: float) -> float:
    """The smallest grid width converging by the law and sparse (inf: none on the grid)."""
    m = max(p.m, W.sparse_from(c, p.top, PHASE_SPARSE))
    return m if m <= p.top else math.inf


def _panel(ds: str, v: Values) -> Panel:
    cs = sorted(c for d, c in v.stars if d == ds)
    top = max(v.stars[ds, c][1] for c in cs)
    ms = [2**k for k in range(3, int(math.log2(top)) + 1)]
    share = [[float(np.mean(np.array(v.stars[ds, c][0]) <= m)) for c in cs] for m in ms]
    fire = [[W.fire_fraction(m, c) for c in cs] for m in ms]
    lam = np.log10([[m ** (-c / 2) for c in cs] for m in ms]).tolist()
    contours = (Contour(fire, [PHASE_SPARSE], colors="w", style="--"),
                Contour(lam, [-3, -2, -1], colors="r", style="--", linewidth=0.8,
                        label_format="m^(-c/2) = 1e{:.0f}"))
    row = lambda m: min(math.log2(m), math.log2(top) + 0.5) - 3  # noqa: E731  (above: the edge)
    pts = [v.law[W.LAW_THRESHOLD][ds, c] for c in cs]
    y = np.array([row(p.m) for p in pts])
    err = (y - [row(p.low) for p in pts], np.array([row(p.high) for p in pts]) - y)
    law = Series(range(len(cs)), y, f"m*(c): {W.LAW_QUANTILE:.0%} of subsets [95% interval]", "o",
                 color(1), kind="errorbar", yerr=err)
    return Panel([law], xlabel="c (b = sqrt(c ln m); lambda scale e^(-b^2/2) = m^(-c/2))",
                 ylabel="m", title=ds, legend=False,
                 heatmap=Heatmap(share, [f"{c:g}" for c in cs], [pow2(m) for m in ms],
                                 colorbar=f"share of subsets with m*(subset) <= m at {W.LAW_THRESHOLD:g}",
                                 contours=contours))


def show(v: Values, verdict: str, reason: str) -> Shown:
    details, answer, figures = [W.law_note], [], {"m_star": {}, "converging_sparse_from": {}}
    for ds in sorted({d for d, _ in v.stars}):
        cs = sorted(c for d, c in v.stars if d == ds)
        table = Table(["c", f"m*(c) at {W.LAW_THRESHOLD:g} [95% interval]", "subsets above the grid"]
                      + [f"m*(c) at {t:g}" for t in W.LAW_THRESHOLDS[1:]]
                      + ["fire fraction Q(b) at m*(c)", "converging and sparse from"])
        pts = {c: v.law[W.LAW_THRESHOLD][ds, c] for c in cs}
        starts = {c: _start(p, c) for c, p in pts.items()}
        for c, p in pts.items():
            table.add(f"{c:g}", p.text(), f"{p.above} of {p.subsets}",
                      *(v.law[t][ds, c].text() for t in W.LAW_THRESHOLDS[1:]),
                      f"{W.fire_fraction(p.m, c):.3f}" if math.isfinite(p.m) else "-",
                      W.width_label(starts[c], p.top) if math.isfinite(starts[c]) else "none on the grid")
        details += [f"{ds}: the width law at each c:", table]
        good = [f"c={c:g} from {W.width_label(m, pts[c].top)}" for c, m in starts.items() if math.isfinite(m)]
        answer.append(f"{ds}: {', '.join(good) or 'no c on the grid'}")
        figures["m_star"][ds] = {f"{c:g}": W.finite(p.m, p.low, p.high) for c, p in pts.items()}
        figures["converging_sparse_from"][ds] = {f"{c:g}": W.finite(m)[0] for c, m in starts.items()}
    rule = (f"answer: per c, the width law m*(c) at n = {v.n} (the {W.LAW_QUANTILE:.0%} "
            f"quantile over the data subsets of the smallest width from which {W.LAW_NEED} of "
            f"{W.LAW_INITS} initialisations contract by {W.LAW_THRESHOLD:g} at every step; definition "
            "below) with its interval; the sublinear method's region starts at the larger of m*(c) "
            f"and the smallest width whose expected fire fraction Q(b) is at most {PHASE_SPARSE:g}. "
            "Every column uses this definition.")
    plot = Plot([_panel(ds, v) for ds in sorted({d for d, _ in v.stars})],
                f"Share of data subsets whose m*(subset) at threshold {W.LAW_THRESHOLD:g} is at most m; "
                f"orange: m*(c), the {W.LAW_QUANTILE:.0%} quantile, with its 95% bootstrap interval "
                f"(above the grid: at its edge); white dashed: expected fire fraction Q(b) = "
                f"{PHASE_SPARSE:g} (sparse above it); red: level curves of the lambda scale "
                "e^(-b^2/2) = m^(-c/2).")
    return Shown("the main result needs b = sqrt(c ln m) with c large enough (reviewer: minimum b?)",
                 "converging for 90% of the data subsets and sparse from: " + "; ".join(answer),
                 rule, details, figures, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"Could the authors specify what is the minimum shift b that "
          "they need for their main result to hold?\"; \"The shifted parameter should be "
          "appropriately chosen (typically, [formula omitted in the source]) to ensure "
          "sparsity in the activations, and this plays a key role in the analysis\"")

ENTRY = Entry(
    id="convergence.phase_diagram", kind="question", paper="RQ",
    statement="Where in (m, c) does Gauss-Newton converge by 2x per step, and where is it also "
              "sparse?",
    source=SOURCE,
    experiment="The width law (width_law, as in width.scaling) at n = 32 for every c column: per "
               "data subset, the smallest width of the grid 2^(j/2) from which 4 of 5 "
               "initialisations of Gauss-Newton (mu = 0) contract by the threshold at every step to "
               "1e-8 within 25 steps. Every column uses this definition (the one-subset cells of "
               "earlier reports are no longer run). Full: c = 0, 0.1, ..., 0.9, sphere-random (d = 16) "
               "and diabetes (d = 10), 10 subsets, grid to 2^17 (c = 0, 0.2, 0.4 are width.scaling's "
               "runs); study: 30 subsets, grid to 2^19; quick: c in {0, 0.2, ..., 0.8}, 5 subsets, "
               "grid to 2^14. Budget: full ~45 s of computation beyond width.scaling's runs (diabetes "
               "at c = 0.7 and 0.8 ~12 s each: their searches climb to the grid's top), study ~210 s, "
               "quick ~10 s.",
    rule="answer: per c, the width law m*(c) and where it is also sparse, one heat map per data set.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "PHASE_SPARSE", "SIZES"]
