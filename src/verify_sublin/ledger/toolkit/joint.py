"""The joint (m, n) fit of a step's counted operations, for cpi.alpha_joint.

The abstract of the sublinear paper says the step costs m^(1-alpha) n d + n^3 "where alpha
in (0.01, 1) is some fixed constant". Varying m and n one at a time (cpi.sublinear_gn)
mixes two regimes of the fire sets: where n Q(b) is small the union of the n fire sets
grows as n m Q(b), where it is large the union is nearly all m neurons. Here the counted
operations of the paper's method over an (m, n) grid are fitted as
log ops = beta_m log m + beta_n log n + const within each regime separately
(`SPARSE_MAX`, `DENSE_MIN`; cells between the two are shown, not fitted), at each c,
giving alpha_eff = 1 - beta_m and beta_n with 95% bootstrap intervals over cells
(`plane_fit`), and, per regime, how large the claim's n^3 term is beside its
m^(1-c/2) n d term there (`n3_share`). Cells whose method would hold more than
`MEMORY_MAX` bytes are left out before running and listed. Cost: one `plane_fit`
(O(2000 x points)) per (c, regime), O(runs) for the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from ...core.errors import InputError
from ...core.model import shift_for
from ...core.trainers import METHODS
from ..fitting import LogLogFit, PlaneFit, loglog_fit, plane_fit, power_law
from ..plot import Contour, Heatmap, Panel, Plot, Series
from .base import color, pow2

__all__ = ["DENSE_MIN", "MEMORY_MAX", "MIN_CELLS", "SPARSE_MAX", "Cell", "JointValues", "PathFit",
           "RegimeFit", "claimed_cost", "fits_of", "joint_plot", "joint_values", "kept", "left_out",
           "n3_share", "n_q", "path_fit", "paths_of", "regime"]

#: a cell is in the sparse regime when n Q(b) is at most this (|U| ~ n m Q(b))
SPARSE_MAX = 0.2
#: ... and in the dense regime when n Q(b) is at least this (|U| close to m)
DENSE_MIN = 5.0
#: cells whose method holds more than this many bytes (its own `memory_estimate`: for the
#: paper's method the tree's 9 n M bytes, above the union cache's 8 n |U|) are not run
MEMORY_MAX = 4 * 2**30
#: a regime's fit needs this many distinct (m, n) cells (three residual degrees of freedom
#: for the three parameters), at two m and two n or more
MIN_CELLS = 6


def n_q(m: int, n: int, c: float) -> float:
    """n Q(b) at b = sqrt(c ln m): the expected number of the n inputs a neuron fires on."""
    return n * float(norm.sf(shift_for(int(m), c)))


def regime(m: int, n: int, c: float) -> str:
    """"sparse" (n Q(b) <= SPARSE_MAX), "dense" (>= DENSE_MIN) or "between"."""
    q = n_q(m, n, c)
    return "sparse" if q <= SPARSE_MAX else "dense" if q >= DENSE_MIN else "between"


def _bytes(preset, m: int, n: int, d: int, c: float) -> float:
    """The bytes a preset's trainer holds at these sizes (its `memory_estimate`)."""
    return METHODS[preset.method].memory_estimate(m, n, d, preset.options, shift_for(m, c))


def left_out(preset, cells, d: int) -> list:
    """(c, m, n, GiB) of the (c, m, n) `cells` where `preset` (a `Preset`) would hold more
    than `MEMORY_MAX` bytes. Cost: O(cells)."""
    return [(c, m, n, b / 2**30) for c, m, n in cells
            if (b := _bytes(preset, m, n, d, c)) > MEMORY_MAX]


def kept(preset, cells, d: int) -> list:
    """The (c, m, n) `cells` that `left_out` keeps, in order. Cost: O(cells)."""
    out = {cell[:3] for cell in left_out(preset, cells, d)}
    return [cell for cell in cells if cell not in out]


@dataclass(frozen=True)
class Cell:
    """The runs of one (c, m, n): the counted operations of each seed."""

    c: float
    m: int
    n: int
    ops: tuple          #: counted operations (mean of steps 1-3) per seed


@dataclass(frozen=True)
class RegimeFit:
    """The plane fit of one c in one regime (or why there is none)."""

    c: float
    regime: str
    ns: tuple               #: the distinct n of its cells
    cells: int
    fit: PlaneFit | None    #: None: see `why`
    why: str                #: why there is no fit ("" with one)
    #: the largest n^3 / (m^(1-c/2) n d) over its cells: the claim's second term against
    #: its first (small: the fit tests the first term; large: the n^3 term hides it)
    n3_share: float = math.nan

    @property
    def alpha(self) -> tuple[float, float, float]:
        """alpha_eff = 1 - beta_m and its interval (low, high)."""
        f = self.fit
        return 1 - f.beta_m, 1 - f.m_high, 1 - f.m_low


@dataclass(frozen=True)
class PathFit:
    """The fit along one path m = n^k at one c, with two formulas' exponents beside it."""

    c: float
    k: int
    ops: LogLogFit          #: counted operations against n along m = n^k
    dense: float            #: slope of the dense step's m n^2 d + n^3 over the same sizes
    claimed: float          #: slope of the claim's m^(1-c/2) n d + n^3 over the same sizes
    points: tuple           #: (n, mean counted operations over the seeds), by n


@dataclass(frozen=True)
class JointValues:
    """What a joint-fit entry decides and shows (`joint_values`)."""

    d: int
    grid: tuple             #: (the m, the n) of the cells run on the grid (not on a path only)
    cells: list             #: `Cell` per cell run, on the grid or on a path m = n^k
    fits: list             #: `RegimeFit` per (c, regime), regimes "sparse" then "dense"
    paths: list             #: `PathFit` per (c, k) with two sizes or more
    left_out: list          #: (c, m, n, GiB)


def claimed_cost(m: float, n: float, d: int, c: float) -> float:
    """The claim's cost m^(1-c/2) n d + n^3 (alpha = c/2)."""
    return m ** (1 - c / 2) * n * d + n**3


def n3_share(m: float, n: float, d: int, c: float) -> float:
    """n^3 / (m^(1-c/2) n d): the claim's second term over its first."""
    return n**3 / (m ** (1 - c / 2) * n * d)


def fits_of(cells: list, grid: tuple, d: int) -> list:
    """`RegimeFit` per (c, regime): the plane fit of every seed's counted operations over
    the cells of the `grid` (m, n) in that regime, or why there is none. Cost: one
    `plane_fit` per (c, regime), about 0.3 s each at the study's sizes."""
    out = []
    for c in sorted({x.c for x in cells}):
        for name in ("sparse", "dense"):
            mine = [x for x in cells if x.c == c and regime(x.m, x.n, c) == name
                    and x.m in grid[0] and x.n in grid[1]]
            ms, ns = tuple(sorted({x.m for x in mine})), tuple(sorted({x.n for x in mine}))
            why, fit = (f"{len(mine)} cells, fewer than {MIN_CELLS}" if len(mine) < MIN_CELLS else
                        f"cells at {len(ms)} m and {len(ns)} n" if min(len(ms), len(ns)) < 2
                        else ""), None
            if not why:
                try:        # plane_fit refuses cells that cannot separate m from n, and says why
                    fit = plane_fit(*zip(*[(x.m, x.n, o) for x in mine for o in x.ops]))
                except InputError as exc:
                    why = str(exc)
            share = max((n3_share(x.m, x.n, d, c) for x in mine), default=math.nan)
            out.append(RegimeFit(c, name, ns, len(mine), fit, why, share))
    return out


def path_fit(c: float, k: int, points: list, d: int) -> PathFit:
    """The fit along m = n^k of (m, n, ops) `points`, with the least-squares slopes of the
    dense step's and the claim's formulas over the same sizes. Cost: one `loglog_fit`."""
    ns = [n for _, n, _ in points]
    slope = lambda cost: power_law(ns, [cost(m, n) for m, n, _ in points])[0]  # noqa: E731
    by_n = {}
    for _, n, o in points:
        by_n.setdefault(n, []).append(o)
    return PathFit(c, k, loglog_fit(ns, [o for *_, o in points]),
                   slope(lambda m, n: m * n * n * d + n**3), slope(lambda m, n: claimed_cost(m, n, d, c)),
                   tuple((n, float(np.mean(os))) for n, os in sorted(by_n.items())))


def paths_of(cells: list, paths: dict, d: int) -> list:
    """`PathFit` per (c, k) of `paths` ({k: [n, ...]}) with two n or more run on m = n^k."""
    out = []
    for c in sorted({x.c for x in cells}):
        for k, ns in paths.items():
            pts = [(x.m, x.n, o) for x in cells if x.c == c and x.n in ns and x.m == x.n**k
                   for o in x.ops]
            if len({n for _, n, _ in pts}) >= 2:
                out.append(path_fit(c, k, pts, d))
    return out


def joint_values(results, preset, planned: list) -> JointValues:
    """The values of a joint-fit entry from its runs (`step_counts` of `preset` at the
    `planned` (c, m, n) cells, sizes ``m``, ``n``, ``d``, ``paths``): a cell per (c, m, n)
    run, the regime fits over the grid cells (those not on a path only), the path fits,
    and the planned cells the memory bound left out. Cost: `fits_of`, O(runs) besides."""
    s, by = results.sizes, {}
    for r in results:
        by.setdefault((r.params["c"], r.params["m"], r.params["n"]), []).append(r.result)
    found = [Cell(c, m, n, tuple(x.total_ops for x in rs)) for (c, m, n), rs in sorted(by.items())]
    off = {(n**k, n) for k, ns in s.paths.items() for n in ns} - {
        (m, n) for m in s.m for n in s.n}                 # cells on a path only
    on = [x for x in found if (x.m, x.n) not in off]
    grid = (sorted({x.m for x in on}), sorted({x.n for x in on}))
    return JointValues(s.d, grid, found, fits_of(found, grid, s.d), paths_of(found, s.paths, s.d),
                       left_out(preset, planned, s.d))


def joint_plot(v: JointValues) -> Plot:
    """Per c, a heat map of log10(ops / (m n d)) over the grid's (m, n), blank where not
    run, with the level lines n Q(b) = SPARSE_MAX (dotted), 1 (dashed) and DENSE_MIN
    (dash-dot); then, when there are paths, the counted operations along m = n^k."""
    panels = []
    ms, ns = v.grid
    at = {(x.c, x.m, x.n): float(np.mean(x.ops)) / (x.m * x.n * v.d) for x in v.cells
          if x.m in ms and x.n in ns}
    vals = [math.log10(z) for z in at.values()] or [0.0, 1.0]
    for c in sorted({x.c for x in v.cells}):
        Z = [[math.log10(at[c, m, n]) if (c, m, n) in at else math.nan for m in ms] for n in ns]
        nq = [[n_q(m, n, c) for m in ms] for n in ns]
        lines = tuple(Contour(nq, [level], colors="w", style=style)
                      for level, style in ((SPARSE_MAX, ":"), (1.0, "--"), (DENSE_MIN, "-.")))
        panels.append(Panel(title=f"c = {c:g}: log10 ops / (m n d)", xlabel="m", ylabel="n",
                            legend=False, heatmap=Heatmap(
                                Z, [pow2(m) for m in ms], [str(n) for n in ns], vmin=min(vals),
                                vmax=max(vals), colorbar="log10 ops / (m n d)", contours=lines)))
    series = []
    for j, p in enumerate(v.paths):
        series.append(Series([a for a, _ in p.points], [b for _, b in p.points],
                             f"m = n^{p.k}, c = {p.c:g}: n^{p.ops.exponent:.2f} (claim n^{p.claimed:.2f}, "
                             f"dense step n^{p.dense:.2f})", "o-", color(j)))
    if series:
        panels.append(Panel(series, xlabel="n (m = n^k)", ylabel="operations per step",
                            xscale="log2", yscale="log"))
    return Plot(panels, "Counted operations per step of the paper's method over (m, n), per c, "
                        f"with the level lines n Q(b) = {SPARSE_MAX:g} (dotted: the sparse regime "
                        f"below it), 1 (dashed) and {DENSE_MIN:g} (dash-dot: the dense regime "
                        "above it); blank: not run" + ("; and along m = n^k (legend: the fitted "
                        "exponent, the claim's and the dense step's over the same sizes)."
                        if series else "."), rows=2 if len(panels) > 2 else 1,
                size=(12.0, 8.0) if len(panels) > 2 else (6.0 * len(panels), 4.0))
