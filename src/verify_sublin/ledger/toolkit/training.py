"""Trends over training runs, shared by sparsity.training and iterations.count: a run's
worst-step flip fraction and its steps to eps, log-log fits of a per-run figure against
a size within groups of runs (seeds as repeated points), the reading of a fitted
exponent against a limit, short ranges for sentences, and the figure of such a trend
(per-seed points and their median). Cost: O(runs) plus the fits (`fitting.loglog_fit`).

>>> span([0.5, 0.25]), span([3, 3], "{:d}")
('0.25 to 0.50', '3')
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..fitting import LogLogFit, loglog_fit
from ..plot import HLine, Panel, Plot, Series
from ..verdict import Table
from .base import color, loglog, pow2

__all__ = ["beyond_words", "by_group", "fit_text", "fit_words", "flip_fraction", "flip_plot",
           "flip_tables", "group_fits", "median_bar_panels", "reading", "span", "steps_plot",
           "steps_tables", "steps_to", "steps_words", "trend_series"]


def flip_fraction(res) -> float:
    """A `Training` run's worst step: max_t flips_t / sum_i |S_i(t)| (a step without
    flips counts half a flip, so that a log-log fit sees it); 0.0 without a step."""
    return max((max(f, 0.5) / (mf * res.n) for f, mf in zip(res.flips, res.mean_fire) if mf > 0),
               default=0.0)


def steps_to(res, eps: float) -> int | None:
    """The first step whose residual is <= eps times the initial one (None: never)."""
    for t, r in enumerate(res.residual, start=1):
        if r <= eps * res.residual0:
            return t
    return None


def group_fits(points: dict, min_sizes: int = 2) -> dict:
    """{group: [(size, value), ...]} -> {group: LogLogFit of value in size, or None when
    the group has fewer than `min_sizes` distinct sizes}, in sorted order of the groups."""
    return {k: loglog_fit(*zip(*v)) if len({x for x, _ in v}) >= max(2, min_sizes) else None
            for k, v in sorted(points.items())}


def reading(fit: LogLogFit | None, limit: float, below: str, above: str) -> str:
    """`below` if the fit's interval lies below `limit`, `above` if at or above it,
    "unclear" if it straddles, "one size only" without a fit.

    >>> reading(LogLogFit(-0.2, 1, -0.3, -0.1, 6, 3), 0.0, "shrinks", "grows")
    'shrinks'
    """
    if fit is None:
        return "one size only"
    return below if fit.high < limit else above if fit.low >= limit else "unclear"


def fit_text(fit: LogLogFit | None) -> str:
    """'0.000 [0.000, 0.000]': the fit as `LogLogFit` prints it, without negative zeros.

    >>> fit_text(LogLogFit(-1e-17, 1, -2e-17, 0.0, 5, 5)), fit_text(None)
    ('0.000 [0.000, 0.000]', '-')
    """
    if fit is None:
        return "-"
    z = [0.0 if abs(x) < 5e-4 else x for x in (fit.exponent, fit.low, fit.high)]
    return f"{z[0]:.3f} [{z[1]:.3f}, {z[2]:.3f}]"


def span(xs: Iterable[float], fmt: str = "{:.2f}") -> str:
    """'lo to hi' of the values in `fmt` (one value when they print alike)."""
    xs = list(xs)
    lo, hi = fmt.format(min(xs)), fmt.format(max(xs))
    return lo if lo == hi else f"{lo} to {hi}"


def trend_series(groups: dict, style_of=lambda label: "o-") -> list[Series]:
    """{label: [(size, value), ...]} -> per group the median over the points at each
    size (a labelled line, style ``style_of(label)``) and the points themselves (dots)."""
    out = []
    for k, (label, pts) in enumerate(groups.items()):
        sizes = sorted({x for x, _ in pts})
        med = [float(np.median([y for x, y in pts if x == s])) for s in sizes]
        out.append(Series(sizes, med, label, style_of(label), color(k)))
        out.append(Series([x for x, _ in pts], [y for _, y in pts], None, ".", color(k), 0.5))
    return out


def steps_words(ts: list) -> str:
    """'3..4' over the seeds' steps, with how many did not reach (None).

    >>> steps_words([3, 4, None])
    '3..4 (1 not reached)'
    """
    ok = [t for t in ts if t is not None]
    miss = len(ts) - len(ok)
    return (span(ok, "{:d}").replace(" to ", "..") if ok else "") + (
        f" ({miss} not reached)" if miss else "")


def fit_words(fits: dict, steps: dict, method: str, limit: float) -> str:
    """Per data set of `method`: the fit of T in n, its reading against `limit`, and T at
    the smallest and the largest n.

    fits: (data, method) -> LogLogFit or None; steps: (data, method) -> {n: [T per seed]}."""
    out = []
    for (ds, m), f in fits.items():
        if m == method:
            ts = steps[ds, m]
            out.append(f"{fit_text(f)} ({reading(f, limit, 'flat', 'grows')}) on {ds} (T "
                       f"{steps_words(ts[min(ts)])} at n = {min(ts)}, {steps_words(ts[max(ts)])} at "
                       f"n = {max(ts)})")
    return ", ".join(out) or "no run"


def beyond_words(rows: dict, c_max: float) -> str:
    """At c >= c_max: data sets where a step flips more activations than the fire sets
    hold, and where the fire sets grow by more than 25% in training.

    rows: (c, data, m) -> [(steps, fire ratio, flip fraction, mean |S_i| change)]."""
    by = {}
    for (c, ds, _), rs in rows.items():
        if c >= c_max:
            by.setdefault(ds, []).extend(rs)
    over = [f"{ds} {span(x[2] for x in rs if x[2] > 1)}x" for ds, rs in by.items()
            if max(x[2] for x in rs) > 1]
    grow = [f"{ds} by {span((100 * x[3] for x in rs if x[3] > 0.25), '{:.0f}')}%"
            for ds, rs in by.items() if max(x[3] for x in rs) > 0.25]
    return "; ".join(([f"at c >= {c_max:g} a step flips more activations than the fire sets "
                       f"hold (flips / sum |S_i| on {', '.join(over)})"] if over else [])
                     + ([f"the fire sets grow during training on {', '.join(grow)}"] if grow else []))


def by_group(rows: dict, k: int) -> dict:
    """(c, data, m) -> rows  ==>  (c, data) -> [(m, row[k]), ...] for `trend_series`."""
    out = {}
    for (c, ds, m), rs in rows.items():
        out.setdefault((c, ds), []).extend((m, x[k]) for x in rs)
    return out


# ---------------------------------------------------------- the entries' tables and figures
def flip_tables(rows: dict, fits: dict, c_max: float, limit: float) -> list[Table]:
    """sparsity.training: the fits of the flip fraction per (c, data) and the runs per
    (c, data, m) (rows and fits as in `by_group` and `group_fits`)."""
    ft = Table(["c", "data", "exponent of the flip fraction in m [95%]", "widths, runs", "reading",
                "role"])
    for (c, ds), f in fits.items():
        ft.add(f"{c:g}", ds, fit_text(f), f"{f.sizes}, {f.points}" if f else "-",
               reading(f, limit, "shrinks", "does not shrink"),
               "decides" if c < c_max else "beside (outside the theorem)")
    rt = Table(["c", "data", "m", "runs", "steps", "max_t max_i |S_i(t)| / m^(1-c/2)",
                "worst-step flips / sum |S_i|", "mean |S_i| change in training"])
    for (c, ds, m), rs in rows.items():
        rt.add(f"{c:g}", ds, pow2(m), len(rs), span((x[0] for x in rs), "{:d}"),
               f"{max(x[1] for x in rs):.3f}", span((x[2] for x in rs), "{:.3f}"),
               span((x[3] for x in rs), "{:+.1%}"))
    return [ft, rt]


def flip_plot(rows: dict, c_max: float, bound: float) -> Plot:
    """sparsity.training: flip fractions and the largest fire set / bound against m."""
    def groups(k):
        return {f"{ds} c={c:g}": pts for (c, ds), pts in by_group(rows, k).items()}

    def style(label):
        return "s--" if float(label.rsplit("c=", 1)[1]) >= c_max else "o-"
    return Plot([loglog(trend_series(groups(2), style), "width m", "worst-step flips / sum_i |S_i(t)|"),
                 loglog(trend_series(groups(1), style), "width m", "max_t max_i |S_i(t)| / m^(1-c/2)",
                        hlines=[HLine(bound)], legend=False)],
                "Activation flips relative to the fire sets (left) and the largest fire set "
                "relative to the bound (right), against the width (dots: seeds; lines: medians; "
                f"dashed: c >= {c_max:g}).")


def steps_tables(steps: dict, fits: dict, eps: float, limit: float) -> list[Table]:
    """iterations.count: the fits of T in n per (data, method), and T per data set and n
    for Gauss-Newton and gradient descent (steps: (data, method) -> {n: [T per seed]})."""
    ft = Table(["data", "method", "exponent of T in n [95%]", "reading"])
    for (ds, m), f in fits.items():
        ft.add(ds, m, fit_text(f), reading(f, limit, "flat", "grows with n"))
    st = Table(["data", "n", "log2(n / eps)", "Gauss-Newton T (min..max over seeds)",
                "gradient descent T (min..max over seeds)"])
    for ds in sorted({ds for ds, _ in steps}):
        gn, gd = steps.get((ds, "sublinear_gn"), {}), steps.get((ds, "gd"), {})
        for n in sorted(set(gn) | set(gd)):
            st.add(ds, n, f"{math.log2(n / eps):.1f}", steps_words(gn.get(n, [])),
                   steps_words(gd.get(n, [])))
    return [ft, st]


def steps_plot(steps: dict, eps: float) -> Plot:
    """iterations.count: T against n per data set and method."""
    name = {"gd": "gradient descent", "sublinear_gn": "Gauss-Newton"}
    pts = {f"{ds}, {name.get(m, m)}": [(n, t) for n, ts in v.items() for t in ts if t is not None]
           for (ds, m), v in steps.items()}
    return Plot([loglog(trend_series(pts, lambda label: "s--" if label.endswith("descent") else "o-"),
                        "n", f"steps to {eps:g} x the initial residual")],
                "Steps to reach eps against n: Gauss-Newton (solid) and gradient descent "
                "(dashed), per data set (dots: seeds; lines: medians).")


def median_bar_panels(curves, ylabel: str, hlines=(), yscale: str = "linear") -> list[Panel]:
    """Per-step series of many runs drawn as one panel per data set: per shift c the
    median over runs at each step, with bars from the lowest to the highest run (runs of
    different lengths: the steps they have). `curves`: (data set, c, values per step)."""
    panels = []
    cs = sorted({c for _, c, _ in curves})
    for ds in sorted({ds for ds, _, _ in curves}):
        series = []
        for k, c in enumerate(cs):
            ys = [y for d, cc, y in curves if d == ds and cc == c]
            if not ys:
                continue
            steps = range(max(len(y) for y in ys))
            at = [[y[t] for y in ys if t < len(y)] for t in steps]
            med = [float(np.median(a)) for a in at]
            series.append(Series(list(steps), med, f"c = {c:g} ({len(ys)} runs)", "o-", color(k),
                                 kind="errorbar", markersize=3,
                                 yerr=([m - min(a) for m, a in zip(med, at)],
                                       [max(a) - m for m, a in zip(med, at)])))
        panels.append(Panel(series, "step", ylabel, yscale=yscale, title=ds, hlines=list(hlines)))
    return panels
