"""What union.size's sanity check needs: how far a measured union |U| lies from m p,
p the probability that a neuron joins it, and the rule on those distances.

Given the inputs x_1..x_n, the m neurons w_r ~ N(0, I_d) join the union of the fire
sets independently, each with probability p = P_w(max_i <w, x_i> > b), so |U| is
binomial(m, p): E|U| = m p exactly, with variance m p (1 - p). When p is a Monte Carlo
estimate with standard error se, m p carries a further variance (m se)^2; the two add.
The table and figure of the entry are built here too. Cost: O(points).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .base import Plot, Series, Table, color, loglog, pow2

__all__ = ["UnionRun", "match_runs", "sweep_n", "union_plot", "union_rule", "union_sd",
           "union_table", "union_z"]


def union_sd(m: int, p: float, se: float) -> float:
    """Standard deviation of |U| - m p: the binomial spread of |U| and the error of m p.

    >>> round(union_sd(1000, 0.4, 0.0) ** 2, 6), round(union_sd(1000, 0.4, 0.01) ** 2, 6)
    (240.0, 340.0)
    """
    return math.sqrt(m * p * (1 - p) + (m * se) ** 2)


def union_z(union: int, m: int, p: float, se: float) -> float:
    """(|U| - m p) in standard deviations of `union_sd` (infinite if that is 0 and they
    differ).

    >>> round(union_z(394, 1000, 0.4, 0.0), 3), union_z(5, 10, 0.0, 0.0)
    (-0.387, inf)
    """
    diff = union - m * p
    sd = union_sd(m, p, se)
    if sd > 0:
        return diff / sd
    return 0.0 if diff == 0 else math.copysign(math.inf, diff)


def union_rule(points: Iterable[tuple[int, int, float, float]], sigmas: float) -> tuple[str, str]:
    """points: (|U|, m, p, se) per run, p the predicted probability of joining the union
    and se its standard error. consistent if every |U| lies within `sigmas` standard
    deviations (`union_sd`) of m p; inconsistent otherwise.

    >>> union_rule([(394, 1000, 0.397, 0.0005), (18, 1000, 0.019, 0.0001)], 4.0)[0]
    'consistent'
    >>> union_rule([(904, 1000, 0.989, 0.0)], 4.0)        # the independence approximation
    ('inconsistent', '1 of 1 outside 4 sigma (worst z = -25.8 at |U| = 904, m p = 989)')
    """
    points = list(points)
    if not points:
        return "inconclusive", "no run with a prediction"
    zs = [(union_z(*pt), pt) for pt in points]
    z, (u, m, p, _) = max(zs, key=lambda x: abs(x[0]))
    where = f"worst z = {z:+.1f} at |U| = {u}, m p = {m * p:.0f}"
    out = sum(abs(x) > sigmas for x, _ in zs)
    if out:
        return "inconsistent", f"{out} of {len(zs)} outside {sigmas:g} sigma ({where})"
    return "consistent", f"all {len(zs)} within {sigmas:g} sigma ({where})"


@dataclass(frozen=True)
class UnionRun:
    """One fire_sets_init run of union.size with its Monte Carlo prediction."""

    c: float
    m: int
    n: int
    union: int           #: measured |U|
    p: float             #: Monte Carlo estimate of P_w(max_i <w, x_i> > b)
    se: float            #: its standard error
    independence: float  #: 1 - (1 - Q(b))^n

    @property
    def z(self) -> float:
        return union_z(self.union, self.m, self.p, self.se)

    @property
    def bound(self) -> float:
        """The speed-up bound m / |U| (|U| at least 1)."""
        return self.m / max(1, self.union)


def match_runs(results) -> tuple[list[UnionRun], list[tuple]]:
    """Each fire_sets_init run of `results` with the union_probability row of the same
    inputs (n, d) and shift (m, c), sorted by (n, c, m); and (m, n, c) of the runs that
    have none."""
    est = {(r.result.n, r.params["d"], row.m, row.c): row
           for r in results.of("union_probability") for row in r.result.rows}
    out, missing = [], []
    for r in results.of("fire_sets_init"):
        p = r.params
        row = est.get((p["n"], p["d"], p["m"], p["c"]))
        if row is None:
            missing.append((p["m"], p["n"], p["c"]))
        else:
            out.append(UnionRun(p["c"], p["m"], p["n"], r.result.union, row.p, row.se,
                                row.independence))
    return sorted(out, key=lambda x: (x.n, x.c, x.m)), missing


def sweep_n(runs: list[UnionRun]) -> int:
    """The n of the sweep over m: the n run at the most widths (0 without runs)."""
    widths: dict[int, set] = {}
    for x in runs:
        widths.setdefault(x.n, set()).add(x.m)
    return max(widths, key=lambda n: len(widths[n])) if widths else 0


def union_table(runs: list[UnionRun], n0: int) -> Table:
    """Measured |U| / m beside m p_hat / m (with one standard deviation), z, the
    independence approximation and the speed-up bound: the sweep over m first."""
    table = Table(["c", "m", "n", "|U| / m", "m p_hat / m (+- 1 sd)", "z",
                   "independence m (1 - (1 - Q(b))^n) / m", "speed-up bound m / |U|"])
    for x in sorted(runs, key=lambda x: (x.n != n0, x.c, x.n, x.m)):
        table.add(f"{x.c:g}", pow2(x.m), x.n, f"{x.union / x.m:.4f}",
                  f"{x.p:.4f} +- {union_sd(x.m, x.p, x.se) / x.m:.4f}", f"{x.z:+.2f}",
                  f"{x.independence:.4f}", f"{x.bound:.1f}x")
    return table


def union_plot(runs: list[UnionRun], n0: int) -> Plot | None:
    """|U| / m against m (at n0) and against n (at the n sweep's width): dots measured,
    solid p_hat, dashed the independence approximation."""
    m0 = max((x.m for x in runs if x.n != n0), default=0)
    panels = []
    for axis, pts, xlabel in (("m", [x for x in runs if x.n == n0], "width m"),
                              ("n", [x for x in runs if x.m == m0], "inputs n")):
        series = []
        for k, c in enumerate(sorted({x.c for x in pts})):
            row = sorted((x for x in pts if x.c == c), key=lambda x: getattr(x, axis))
            xs = [getattr(x, axis) for x in row]
            series += [Series(xs, [x.union / x.m for x in row], f"c={c:g} measured", "o",
                              color(k)),
                       Series(xs, [x.p for x in row], None, "-", color(k), alpha=0.7),
                       Series(xs, [x.independence for x in row], None, "--", color(k),
                              alpha=0.5)]
        if len(series) and len({x for s in series for x in s.x}) > 1:
            panels.append(loglog(series, xlabel, "|U| / m",
                                 title=f"n = {n0}" if axis == "m" else f"m = {pow2(m0)}"))
    return Plot(panels, "Union of the fire sets at initialisation, |U| / m: dots measured, "
                        "solid the identity's prediction (Monte Carlo over w for the same "
                        "inputs), dashed the independence approximation 1 - (1 - Q(b))^n."
                ) if panels else None
