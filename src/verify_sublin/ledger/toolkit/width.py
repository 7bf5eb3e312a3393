"""The width law shared by width.requirement, width.scaling and convergence.phase_diagram:
one definition of the width that works in practice, with its uncertainty.

Definition (that of `bench.experiments.width_law`, whose functions are used here): a
trial (one data subset, one initialisation, one width m) passes at a threshold t if
Gauss-Newton (mu = 0) reaches `LAW_TOL` of the initial residual within `LAW_STEPS` steps
with every step contracting by at most t (a numerical error fails); a width passes for
a subset if at least `LAW_NEED` of its `LAW_INITS` initialisations pass; m*(subset) is
the smallest grid width (2^(j/2)) from which it and every larger width tried pass;
m*(n) is the `LAW_QUANTILE` quantile of m*(subset) over the data subsets (the smallest
value at or above that share of them), with a percentile bootstrap interval over the
subsets; the exponent of m* in n is the least-squares slope of log m*(n) on log n, its
interval from the same resampling (subsets redrawn at every n). A subset whose m* lies
above the grid enters as the first width past it (a lower bound): a fit with such a
point is marked censored. Cost: O(boot x subsets x sizes) per fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from ...bench.experiments.width_law import effective, law_grid, subset_m_star, width_outcome
from ...bench.spec import RunSpec
from ...core.model import shift_for
from .base import pow2

__all__ = [
    "LAW_BOOT", "LAW_CURVES", "LAW_INITS", "LAW_LOG2_MIN", "LAW_NEED", "LAW_QUANTILE",
    "LAW_STEPS", "LAW_STOP", "LAW_THRESHOLD", "LAW_THRESHOLDS", "LAW_TOL", "LawFit", "LawPoint",
    "finite", "fire_fraction", "law_cells", "law_curves", "law_fit", "law_note", "law_point", "law_runs",
    "quantile_of", "sparse_from", "subset_stars", "theorem_n_exponent", "width_label",
]

#: the claimed per-step contraction: the threshold the law is stated at
LAW_THRESHOLD = 0.5
#: the thresholds every search brackets (m* is reported at each, to show the dependence)
LAW_THRESHOLDS = (0.5, 0.6, 0.75)
#: initialisations per (subset, width), and how many of them must pass
LAW_INITS, LAW_NEED = 5, 4
#: relative residual to reach, steps allowed, and the contraction at which a trial stops
#: (its residual no longer falls; every threshold has failed)
LAW_TOL, LAW_STEPS, LAW_STOP = 1e-8, 25, 1.0
#: the grid's smallest width is 2^LAW_LOG2_MIN (a subset passing there has m* <= it)
LAW_LOG2_MIN = 3
#: the quantile of m*(subset) over the subsets that m*(n) reports
LAW_QUANTILE = 0.9
#: bootstrap resamples of the subsets, and the quantiles drawn of the worst contraction
LAW_BOOT, LAW_CURVES = 2000, (0.1, 0.5, 0.9)

_TOL = f"{LAW_TOL:.0e}".replace("e-0", "e-")     # 1e-8

#: what the intervals of the law measure, said once where it is shown
law_note = (
    f"m*(subset) is the smallest width of the grid 2^(j/2) from which the subset and every "
    f"larger width tried pass in at least {LAW_NEED} of {LAW_INITS} initialisations (every "
    f"Gauss-Newton step, mu = 0, contracting by at most the threshold until {_TOL} of the "
    f"initial residual within {LAW_STEPS} steps; a numerical error fails); m*(n) is the "
    f"{LAW_QUANTILE:.0%} quantile over the data subsets. Its 95% interval and that of the fitted "
    f"exponent are percentile bootstraps over the data subsets ({LAW_BOOT} resamples, drawn anew "
    "at every n): they measure how much the answer depends on which rows were drawn (and, "
    "through each subset's m*, on the initialisations), not the grid's own step of 2^(1/2). "
    "A subset whose m* lies above the grid counts as the first width past it, a lower bound. "
    "Resampling never goes past the largest m* drawn, so with 10 subsets (where the 90% "
    "quantile is the second largest) the upper ends are optimistic; the largest of 30 "
    "subsets (the study profile) is a distribution-free 95% upper bound (1 - 0.9^30 = 0.96).")


def theorem_n_exponent(c: float) -> float:
    """Exponent in n of the theorem's width m >= lambda^-4 n^4 with lambda ~ m^(-c/2) and
    lambda independent of n: m^(1 - 2c) >= n^4, so m ~ n^(4 / (1 - 2c)) (inf for
    c >= 1/2). The theorem's own exponent can only be larger: its lambda falls with n.

    >>> theorem_n_exponent(0.0), theorem_n_exponent(0.25), theorem_n_exponent(0.5)
    (4.0, 8.0, inf)
    """
    return 4 / (1 - 2 * c) if c < 0.5 else math.inf


def finite(*xs: float) -> list:
    """The numbers with inf (above the grid) as None, for the figures' JSON.

    >>> finite(8.0, math.inf)
    [8.0, None]
    """
    return [x if math.isfinite(x) else None for x in xs]


def fire_fraction(m: float, c: float) -> float:
    """Expected fire fraction Q(b) at b = sqrt(c ln m) (E|S_i(0)| / m, an identity)."""
    return float(norm.sf(shift_for(int(m), c)))


def sparse_from(c: float, top: int, level: float) -> float:
    """The smallest grid width up to `top` whose expected fire fraction is at most
    `level` (inf: none).

    >>> sparse_from(0.4, 2**17, 0.1), sparse_from(0.0, 2**17, 0.1)
    (64, inf)
    """
    return next((m for m in law_grid(LAW_LOG2_MIN, int(math.log2(top))) if fire_fraction(m, c) <= level),
                math.inf)


def law_runs(sets, ns, cs, subsets: int, log2_max: int) -> list[RunSpec]:
    """One `width_law` search per (data set, c, n, subset); `sets` are (data set, d,
    largest n) and the run's seed is the subset."""
    return [RunSpec("width_law", {"dataset": ds, "n": n, "d": d, "c": c, "inits": LAW_INITS,
                                  "need": LAW_NEED, "thresholds": list(LAW_THRESHOLDS),
                                  "steps": LAW_STEPS, "tol": LAW_TOL, "stop": LAW_STOP,
                                  "log2_min": LAW_LOG2_MIN, "log2_max": log2_max, "stride": 2}, seed=k)
            for ds, d, nmax in sets for c in cs for n in ns if n <= nmax for k in range(subsets)]


def quantile_of(values, q: float = LAW_QUANTILE) -> float:
    """The smallest value at or above a share q of `values` (inf allowed).

    >>> quantile_of([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), quantile_of([4, math.inf, 2], 0.5)
    (9, 4)
    """
    v = sorted(values)
    return v[max(0, math.ceil(q * len(v)) - 1)]


def _stars(r, t: float) -> float:
    """m*(subset) of one `width_law` record at threshold t (inf above the grid)."""
    p = r.params
    outs = {w.m: width_outcome([effective(x.worst, x.reached, x.error) for x in w.trials], t,
                               p["inits"], p["need"]) for w in r.result.widths}
    m = subset_m_star(outs)
    return math.inf if m is None else float(m)


@dataclass(frozen=True)
class LawPoint:
    """m*(n) of one (data set, c, n, threshold): quantile, interval, subsets, censored."""

    m: float
    low: float
    high: float
    subsets: int
    above: int          #: subsets whose m* lies above the grid
    top: int            #: the grid's largest width
    reps: tuple = ()    #: the bootstrap replicates (for the fit)

    def text(self) -> str:
        return f"{width_label(self.m, self.top)} [{width_label(self.low, self.top)}, " \
               f"{width_label(self.high, self.top)}]"


def width_label(m: float, top: int) -> str:
    """A grid width as 2^(j/2) ('2^3.5' for 11), '> 2^17' above the grid, '<= 2^3' at its
    bottom.

    >>> [width_label(m, 2**17) for m in (11585, 11, 64, math.inf, 8)]
    ['2^13.5', '2^3.5', '2^6', '> 2^17', '<= 2^3']
    """
    if not math.isfinite(m):
        return f"> {pow2(top)}"
    if m <= 2**LAW_LOG2_MIN:
        return f"<= {pow2(2**LAW_LOG2_MIN)}"
    j = round(2 * math.log2(m))
    return f"2^{j / 2:g}" if round(2 ** (j / 2)) == m else f"{m:g}"


def law_point(stars: Iterable[float], top: int, seed: int = 0) -> LawPoint:
    """The quantile of the subsets' m* with its bootstrap interval (inverted-cdf
    quantiles, inf kept as such)."""
    v = np.asarray(list(stars), dtype=float)
    rng = np.random.default_rng(seed)
    reps = np.sort(v[rng.integers(0, v.size, size=(LAW_BOOT, v.size))], axis=1)
    reps = reps[:, max(0, math.ceil(LAW_QUANTILE * v.size) - 1)]
    return LawPoint(quantile_of(v), quantile_of(reps, 0.025), quantile_of(reps, 0.975), v.size,
                    int(np.sum(~np.isfinite(v))), top, tuple(reps))


@dataclass(frozen=True)
class LawFit:
    """Exponent of m*(n) in n with its bootstrap interval; `censored` when some m*(n) lies
    at the grid's bottom (it may be smaller) or above its top (entered as the first width
    past it)."""

    exponent: float
    low: float
    high: float
    ns: tuple[int, ...]
    censored: bool

    def __str__(self) -> str:
        return (f"{self.exponent:.2f} [{self.low:.2f}, {self.high:.2f}]"
                + (" (censored at the grid's edge)" if self.censored else ""))


def law_fit(points: dict) -> LawFit | None:
    """The fit over {n: LawPoint} (None unless two n have m*(n) on the grid or below)."""
    ns = sorted(points)
    if sum(math.isfinite(points[n].m) for n in ns) < 2:
        return None
    past = [math.sqrt(2) * points[n].top for n in ns]
    ys = np.log([min(points[n].m, p) for n, p in zip(ns, past)])
    reps = np.log(np.minimum(np.array([points[n].reps for n in ns]), np.array(past)[:, None]))
    x = np.log(ns) - np.mean(np.log(ns))
    slope = float(x @ (ys - ys.mean()) / (x @ x))
    slopes = np.sort(x @ (reps - reps.mean(axis=0)) / (x @ x))
    lo, hi = np.percentile(slopes, [2.5, 97.5])
    return LawFit(slope, float(lo), float(hi), tuple(ns),
                  any(not math.isfinite(points[n].m) or points[n].m <= 2**LAW_LOG2_MIN for n in ns))


def subset_stars(results, threshold: float) -> dict:
    """{(data set, c): {n: (m*(subset) per subset in seed order, grid top)}} at
    `threshold` over the `width_law` records (m* inf above the grid)."""
    groups: dict = {}
    for r in sorted(results.of("width_law"), key=lambda r: r.spec.seed):
        p = r.params
        cell = groups.setdefault((p["dataset"], p["c"]), {}).setdefault(p["n"], ([], 2 ** p["log2_max"]))
        cell[0].append(_stars(r, threshold))
    return {k: dict(sorted(v.items())) for k, v in sorted(groups.items())}


def law_cells(results, threshold: float) -> dict:
    """{(data set, c): {n: LawPoint}} at `threshold` over the `width_law` records."""
    return {key: {n: law_point(stars, top) for n, (stars, top) in by_n.items()}
            for key, by_n in subset_stars(results, threshold).items()}


def law_curves(records) -> dict:
    """{power of two m: quantiles `LAW_CURVES` of the worst contraction (inf: tol not
    reached) over the trials of every subset} for the `width_law` records of one cell,
    up to the largest power of two tried. A subset whose search stopped below m (it
    passed there) enters with its trials at the largest power of two it tried:
    contraction falls with m, so above the smallest subset's stop the curves are upper
    bounds."""
    tried = {r.spec.seed: {w.m: [effective(x.worst, x.reached, x.error) for x in w.trials]
                           for w in r.result.widths if w.m & (w.m - 1) == 0} for r in records}
    top = max((m for t in tried.values() for m in t), default=0)
    out = {}
    for k in range(3, top.bit_length()):
        effs = []
        for t in tried.values():
            below = [x for x in t if x <= 2**k]
            effs += t[max(below)] if below else []
        if effs:
            out[2**k] = tuple(float(np.quantile(effs, q, method="inverted_cdf")) for q in LAW_CURVES)
    return out
