"""Views across entries: the report's summary figures as plot specifications.

Two figures read the timed runs of every entry at once: the cost per iteration against
m, one panel per method family (`cost_per_iteration`), and the residual against
iteration at the largest m with the time to eps against m
(`residual_and_time_to_eps`). Both are pure functions of typed `RunRecord`s returning
a `Plot` (or None when there is nothing to draw); they carry no verdict.
`summary_views` takes the store's finished rows of one profile and backend and gives
the report's (file name, Plot) pairs. Cost: O(runs + points), plus one log-log fit
per cost series.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ..bench.experiments import EXPERIMENTS, typed_result
from ..bench.spec import RunRecord, RunSpec
from .fitting import loglog_fit
from .plot import Panel, Plot, Series

__all__ = ["COLOURS", "MARKERS", "MAX_SERIES_PER_AXES", "MIN_SIZES_FOR_SLOPE", "VIEW_EXPERIMENTS",
           "cost_per_iteration", "family", "records_of", "residual_and_time_to_eps",
           "slope_label", "summary_views"]

#: a fitted slope is printed only from at least this many sizes
MIN_SIZES_FOR_SLOPE = 3
#: at most this many series share one axes of a summary figure
MAX_SERIES_PER_AXES = 8
#: the colour cycle of the summary figures: matplotlib's tab20, its dark colours first
#: (tab20 entries 0, 2, ..., 18), then its light ones (1, 3, ..., 19)
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
           "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5")
#: the marker cycle of the cost figure
MARKERS = "osv^D<>ph*"
#: the experiments the views read
VIEW_EXPERIMENTS = ("step_speed", "training_timed")


def family(name: str) -> str:
    """The method family of a summary series (one panel per family).

    >>> family("sublinear cache implicit (n=64, d=32)"), family("adam 1e-2 (n=64, d=32)")
    ('sublinear Gauss-Newton', 'first-order')
    """
    low = name.lower()
    if "sublinear" in low:
        return "sublinear Gauss-Newton"
    if "sketch" in low:
        return "sketched Gauss-Newton"
    if low.startswith("gd") or "first-order" in low or "adam" in low or "sgd" in low:
        return "first-order"
    return "dense Gauss-Newton"


def slope_label(xs, ys) -> str:
    """'slope 0.81' from at least MIN_SIZES_FOR_SLOPE sizes, else 'slope n/a'.

    >>> slope_label([2, 4, 8], [1, 2, 4]), slope_label([2, 4], [1, 2])
    ('slope 1.00', 'slope n/a')
    """
    if len(set(xs)) < MIN_SIZES_FOR_SLOPE:
        return "slope n/a"
    return f"slope {loglog_fit(xs, ys).exponent:.2f}"


def _m_label(v) -> str:
    """2^k for a power of two of at least 2^4, else the number as is."""
    if isinstance(v, int) and not isinstance(v, bool) and v >= 16 and v & (v - 1) == 0:
        return f"2^{v.bit_length() - 1}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def cost_per_iteration(records) -> Plot | None:
    """Median seconds per step against m, per method and (n, d), one log-log panel per
    method family (at most MAX_SERIES_PER_AXES series each): the step_speed runs at
    c = 0.4 (or without c) and the training_timed runs. None if no series has two widths."""
    series: dict[str, list] = defaultdict(list)
    for r in records:
        p = r.params
        if r.experiment != "step_speed" or p.get("c") not in (0.4, None):
            continue
        name = p.get("variant") or p["method"]
        series[f"{name} (n={p['n']}, d={p['d']})"].append((p["m"], r.result.median))
    for r in records:
        p = r.params
        if r.experiment == "training_timed" and r.result.seconds:
            series[f"{p['label']} (n={p['n']}, d={p['d']})"].append(
                (p["m"], float(np.median(r.result.seconds))))
    drawn = {}
    for name, pts in series.items():
        by_m: dict[int, list] = defaultdict(list)
        for m, t in pts:
            by_m[m].append(t)
        if len(by_m) >= 2:
            ms = sorted(by_m)
            drawn[name] = (ms, [float(np.median(by_m[m])) for m in ms])
    if not drawn:
        return None
    groups: dict[str, list[str]] = defaultdict(list)
    for name in sorted(drawn):
        groups[family(name)].append(name)
    panels, k = [], 0
    for fam in sorted(groups):
        names = groups[fam]
        chunks = math.ceil(len(names) / MAX_SERIES_PER_AXES)
        for c in range(chunks):
            lines = []
            for name in names[c * MAX_SERIES_PER_AXES:(c + 1) * MAX_SERIES_PER_AXES]:
                ms, ts = drawn[name]
                lines.append(Series(ms, ts, f"{name}: {slope_label(ms, ts)}",
                                    MARKERS[k % len(MARKERS)] + "-", COLOURS[k % len(COLOURS)],
                                    markersize=4))
                k += 1
            title = fam + (f" ({c + 1}/{chunks})" if chunks > 1 else "")
            panels.append(Panel(lines, "width m", "seconds per step (median)", xscale="log2",
                                yscale="log", title=title, title_size=9, grid=True))
    # one column: each legend sits to the right of its panel, away from the data
    return Plot(panels, "Cost per iteration against m, one panel per method family (c = 0.4), "
                f"log-log; slopes are fitted from at least {MIN_SIZES_FOR_SLOPE} widths "
                "(n/a otherwise).", rows=len(panels), cols=1, size=(8, 3.0 * len(panels)))


def residual_and_time_to_eps(records) -> Plot | None:
    """Residual against iteration of the training_timed runs at the largest m (the lowest
    seed of each method and data set), and the median over seeds of the seconds to reach
    each run's tolerance against m (runs that never reach it are left out of the median;
    a method none of whose runs reaches it is absent). A line style per data set when
    there are several. None without training_timed runs."""
    timed = [r for r in records if r.experiment == "training_timed"]
    if not timed:
        return None
    mmax = max(r.params["m"] for r in timed)
    labels = sorted({r.params["label"] for r in timed})
    datasets = sorted({r.params.get("dataset", "") for r in timed})
    colour = {lab: COLOURS[i % len(COLOURS)] for i, lab in enumerate(labels)}
    dash = {ds: ("-", "--", ":", "-.")[i % 4] for i, ds in enumerate(datasets)}

    def name(label, ds):
        return label if len(datasets) == 1 else f"{label}, {ds}"

    top, tte, seen = [], defaultdict(list), set()
    for r in sorted(timed, key=lambda r: (r.params["label"], r.params["n"], r.spec.seed)):
        p, res = r.params, r.result
        ds = p.get("dataset", "")
        rel = np.array(res.residual) / res.residual0
        if p["m"] == mmax and len(rel) and (p["label"], ds) not in seen:
            seen.add((p["label"], ds))
            top.append(Series(np.arange(1, len(rel) + 1), rel, name(p["label"], ds), dash[ds],
                              colour[p["label"]]))
        hit = np.flatnonzero(rel <= p["tol"])
        if hit.size:
            tte[(p["label"], ds, p["m"])].append(float(np.cumsum(res.seconds)[hit[0]]))
    times = []
    for label in labels:
        for ds in datasets:
            pts = sorted((m, float(np.median(t))) for (lab, d, m), t in tte.items()
                         if lab == label and d == ds)
            if pts:
                times.append(Series([x[0] for x in pts], [x[1] for x in pts], name(label, ds),
                                    "o" + dash[ds], colour[label]))
    seeds = len({r.spec.seed for r in timed})
    # an axes without a series keeps a linear y axis, as it always has
    return Plot([Panel(top, "iteration", "||f - y|| / ||f_0 - y||", xscale="log",
                       yscale="log" if top else "linear", title=f"m = {_m_label(mmax)}"),
                 Panel(times, "width m", "seconds to 1e-4 of the initial residual",
                       xscale="log2", yscale="log" if times else "linear")],
                "Residual against iteration for every method at the largest m"
                + (" (the lowest seed)" if seeds > 1 else "") + ", and time-to-eps against m"
                + (f" (median over the seeds that reached it, of {seeds})" if seeds > 1 else "")
                + "; methods that never reached eps are absent.",
                rows=2, cols=1, size=(8, 7))


def records_of(rows) -> list[RunRecord]:
    """Store rows (`ResultStore.runs`) of the views' experiments as typed records."""
    return [RunRecord(row["id"], row["key"], RunSpec(row["experiment"], row["params"],
                                                     row["seed"]),
                      row["status"], typed_result(EXPERIMENTS.get(row["experiment"]),
                                                  row["result"]),
                      row["error"], row["git_commit"] or "unknown", row["seconds"] or 0.0)
            for row in rows if row["experiment"] in VIEW_EXPERIMENTS]


def summary_views(rows) -> list[tuple[str, Plot]]:
    """The report's figures across entries, as (file name, Plot), from the store's
    finished rows of one profile and backend."""
    records = records_of(rows)
    views = [("fig_cost_per_iteration.png", cost_per_iteration(records)),
             ("fig_residual_and_time_to_eps.png", residual_and_time_to_eps(records))]
    return [(name, plot) for name, plot in views if plot is not None]
