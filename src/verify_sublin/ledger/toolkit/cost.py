"""Cost per iteration: what cpi.sketched_gn and cpi.sublinear_gn share.

A cost-per-iteration entry runs a method with m, n and d varied one at a time around a
base size: timed steps (`speed_runs`) and, for the sublinear method, counted steps from
initialisation over three seeds and along the paths m = n^k (`count_runs`). The grids
are rows of the entry's `Sizes`: ``m``, ``n``, ``d`` (the values of each axis),
``base`` (m, n, d), ``steps`` (timed steps per run) and, for counted runs, ``paths``
({k: [n, ...]}). `cpi_values` fits the growth exponent of the counted operations (and of
the time) along every axis, `cpi_decide` applies the rule, `cpi_shown` writes the table,
the sentences and the figure (`cpi_plot`). Cost: one bootstrap fit (`loglog_fit`) per
axis and c, O(runs) for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..entry import Results, Shown, SizesAt, Table
from ..fitting import LogLogFit, loglog_fit
from ..plot import Plot, Series, Text
from ..rules import exponent_at_most, worst
from .base import color, loglog

__all__ = [
    "COUNT_SEEDS",
    "CPI_EXPONENT_TOL",
    "CPI_RULE",
    "AxisFit",
    "CpiValues",
    "axis_verdict",
    "count_runs",
    "count_spec",
    "cpi_decide",
    "cpi_headline",
    "cpi_plot",
    "cpi_shown",
    "cpi_values",
    "on_axis",
    "results_where",
    "sizes_with",
    "speed_runs",
]

#: slack on the claimed exponent
CPI_EXPONENT_TOL = 0.1
#: seeds of the counted steps (steps 1-3 from initialisation, before convergence)
COUNT_SEEDS = (8, 9, 10)

#: the rule of both entries, as applied
CPI_RULE = (
    "for each axis (m, n, d varied alone around a base size; for the sublinear method "
    "also n along m = n^3 and m = n^4) fit log(counted operations) against log(size) "
    "with a 95% bootstrap interval, and take as the claimed exponent the slope of the "
    "paper's cost formula over the same sizes (so an n^3 term counts where it "
    f"dominates); holds if every interval is <= the claimed exponent + {CPI_EXPONENT_TOL:g}, "
    "fails if one lies entirely above it, inconclusive otherwise. Time exponents and "
    "the constant (ops / claimed cost) are reported beside them.")


def speed_runs(method: str, options: dict, s, cs=(0.4,)) -> list[RunSpec]:
    """Timed steps (`step_speed`, seed 8) with m, n and d varied one at a time around
    ``s.base``, at every c of `cs`; the base run is shared by the three axes."""
    base = dict(zip("mnd", s.base))
    seen, specs = set(), []
    for c in cs:
        for axis in "mnd":
            for v in s[axis]:
                params = dict(base, c=c)
                params[axis] = v
                key = tuple(sorted(params.items()))
                if key not in seen:
                    seen.add(key)
                    specs.append(RunSpec("step_speed", {"method": method, "options": options,
                                                        "steps": s.steps, "warmup": 1, **params},
                                         seed=8))
    return specs


def count_runs(method: str, options: dict, s, cs) -> list[RunSpec]:
    """Counted operations of steps 1-3 from initialisation (`step_counts`), seeds
    `COUNT_SEEDS`, over the axes of the grid and along m = n^k for the n of
    ``s.paths[k]``. Deterministic (not timed)."""
    base = dict(zip("mnd", s.base))
    seen, specs = set(), []
    for c in cs:
        points = [dict(base, **{axis: v}) for axis in "mnd" for v in s[axis]]
        for k, ns in s.paths.items():
            points += [dict(base, n=n, m=n**k, path=f"m=n^{k}") for n in ns]
        for params in points:
            key = (*sorted(params.items()), c)
            if key in seen:
                continue
            seen.add(key)
            specs += [count_spec(method, options, c, seed, **params) for seed in COUNT_SEEDS]
    return specs


def count_spec(method: str, options: dict, c: float, seed: int, **sizes) -> RunSpec:
    """One `step_counts` run: the counted operations of steps 1-3 from initialisation of
    `method` with `options` at shift c, sizes m, n, d (and a ``path`` label if any)."""
    return RunSpec("step_counts", {"method": method, "options": options, "steps": 3, "c": c,
                                   **sizes}, seed=seed)


def sizes_with(s, **rows) -> SizesAt:
    """The profile's sizes `s` with some rows replaced (e.g. a method's own m axis)."""
    return SizesAt(s.profile, {**{k: s[k] for k in ("m", "n", "d", "base", "steps", "paths")},
                               **rows})


def results_where(results, keep, sizes=None) -> Results:
    """The finished runs of `results` that `keep` accepts, with `sizes` (default: the
    same) as the sizes they were planned at."""
    return Results([r for r in results if keep(r)], results.failed,
                   results.sizes if sizes is None else sizes, results.profile)


def on_axis(params: dict, axis: str, base: dict) -> bool:
    """Does a run belong to the sweep along `axis` (the other two at their base values)?"""
    return "path" not in params and all(params[k] == base[k] for k in "mnd" if k != axis)


@dataclass(frozen=True)
class AxisFit:
    """The fits along one axis at one c."""

    c: float
    label: str                  #: "m", "n", "d" or "n along m=n^k"
    axis: str                   #: the parameter varied
    ops: LogLogFit              #: counted operations against the size
    time: LogLogFit | None      #: seconds against the size (None: not timed)
    claimed: float              #: slope of the paper's cost formula over the same sizes
    const: float                #: max ops / claimed cost


@dataclass(frozen=True)
class CpiValues:
    fits: list          #: AxisFit per (c, axis) with two sizes or more
    curves: dict        #: axis -> [(c, [(size, ops, claimed cost)] sorted by size)] per c


def cpi_values(results) -> CpiValues:
    """The fits of a cost-per-iteration entry along m, n, d and the paths m = n^k of its
    sizes (timed runs stand in for counted ones when there are none), and the curves of
    its figure (every run on an axis)."""
    base = dict(zip("mnd", results.sizes.base))
    paths = getattr(results.sizes, "paths", {})
    timed = results.of("step_speed")
    counted = results.of("step_counts") or timed
    cs = sorted({r.params["c"] for r in results})
    fits = []
    for c in cs:
        axes = [(axis, axis, lambda r, axis=axis: on_axis(r.params, axis, base)) for axis in "mnd"]
        axes += [(f"n along m=n^{k}", "n", lambda r, k=k: r.params.get("path") == f"m=n^{k}")
                 for k in paths]
        for label, axis, member in axes:
            rows = [r for r in counted if member(r) and r.params["c"] == c]
            if len({r.params[axis] for r in rows}) < 2:
                continue
            xs = [r.params[axis] for r in rows]
            trows = [r for r in timed if member(r) and r.params["c"] == c]
            time_fit = (loglog_fit([r.params[axis] for r in trows for _ in r.result.times],
                                   [t for r in trows for t in r.result.times])
                        if len({r.params[axis] for r in trows}) >= 2 else None)
            fits.append(AxisFit(
                c, label, axis, loglog_fit(xs, [r.result.total_ops for r in rows]), time_fit,
                loglog_fit(xs, [r.result.claimed_cost for r in rows]).exponent,
                max(r.result.total_ops / r.result.claimed_cost for r in rows)))
    curves = {axis: [(c, sorted(((r.params[axis], r.result.total_ops, r.result.claimed_cost)
                                 for r in results
                                 if on_axis(r.params, axis, base) and r.params["c"] == c),
                                key=lambda x: x[0])) for c in cs]
              for axis in "mnd"}
    return CpiValues(fits, curves)


def axis_verdict(f: AxisFit) -> str:
    """The rule along one axis: the ops exponent against the claimed one (+ the slack)."""
    return exponent_at_most(f.ops, f.claimed, tol=CPI_EXPONENT_TOL)[0]


def cpi_decide(v: CpiValues) -> tuple[str, str]:
    """The least favourable verdict over the axes (inconclusive without a fit)."""
    return (worst([axis_verdict(f) for f in v.fits]) if v.fits else "inconclusive"), ""


def cpi_shown(v: CpiValues, claimed: str, notes: list, prefix: str = "", others=()) -> Shown:
    """Claimed and measured exponents (of `v`, which decides), the table of fits followed
    by `notes`, the named figures (<prefix>ops_exp_<axis>_c<c>, <prefix>time_exp_<axis>_c<c>)
    and the figure. `others`: (label, prefix, CpiValues, tag) shown beside `v` but not
    deciding; with them the table gains a first column "measured on" (`v`'s: "the paper's
    method") and the figure their curves, named by `tag` (`v`'s by "paper")."""
    groups = [("the paper's method", prefix, v, "paper"), *others]
    table = Table(["measured on"] * bool(others) + [
        "c", "axis", "exponent of counted ops", "exponent of time", "claimed",
        "ops / claimed cost", "verdict"])
    figures = {}
    for label, pre, g, _ in groups:
        for f in g.fits:
            figures[f"{pre}ops_exp_{f.label.replace(' ', '_')}_c{f.c:g}"] = f.ops.exponent
            if f.time:
                figures[f"{pre}time_exp_{f.axis}_c{f.c:g}"] = f.time.exponent
            table.add(*[label] * bool(others), f.c, f.label, f.ops, f.time or "not timed",
                      f"{f.claimed:.3f}", f"<= {f.const:.3g}",
                      axis_verdict(f) if g is v else f"{axis_verdict(f)} (not deciding)")
    return Shown(claimed, cpi_headline(v), CPI_RULE, [table, *notes], figures,
                 cpi_plot(v, [(tag, g) for *_, g, tag in others]))


_SEVERITY = {"fails": 0, "inconclusive": 1, "holds": 2}


def cpi_headline(v: CpiValues) -> str:
    """The deciding axis first, in words, then the others' exponents against the claimed:
    'along n at c = 0.4 the counted work grows as n^1.87 [1.80, 1.95], where the claim
    allows n^1.05 (+ 0.1); the other axes (fitted vs claimed): m 0.78 vs 0.76, ...'."""
    if not v.fits:
        return "no axis with two sizes"
    order = sorted(v.fits, key=lambda f: (_SEVERITY.get(axis_verdict(f), 1),
                                          -(f.ops.exponent - f.claimed)))
    first, rest = order[0], order[1:]
    text = (f"along {first.label} at c = {first.c:g} the counted work grows as {first.axis}^"
            f"{first.ops.exponent:.2f} [{first.ops.low:.2f}, {first.ops.high:.2f}], where the "
            f"claim allows {first.axis}^{first.claimed:.2f} (+ {CPI_EXPONENT_TOL:g})")
    if rest:
        text += ("; the other axes (fitted vs claimed exponent): " + ", ".join(
            f"{f.label} c={f.c:g} {f.ops.exponent:.2f} vs {f.claimed:.2f}" for f in rest))
    return text


def cpi_plot(v: CpiValues, others=()) -> Plot:
    """Counted operations and the paper's formula against m, n and d, one panel each,
    with the fitted slope of every curve; `others`: (label, CpiValues) drawn beside."""
    panels = []
    for axis in "mnd":
        series, texts, j = [], [], -1
        for label, g in [("paper" if others else "", v), *others]:
            tag = f"{label} " if label else ""
            for c, rows in g.curves[axis]:
                j += 1
                if not rows:
                    continue
                xs, ops = [x[0] for x in rows], [x[1] for x in rows]
                series += [Series(xs, ops, f"{tag}ops c={c}", "o-", color(j)),
                           Series(xs, [x[2] for x in rows], f"{tag}claimed c={c}", "--", color(j))]
                if len(set(xs)) >= 2:
                    texts.append(Text(0.05, 0.9 - 0.08 * j,
                                      f"{tag}slope {loglog_fit(xs, ops).exponent:.2f}", color(j)))
        panels.append(loglog(series, axis, "operations per step", texts=texts))
    return Plot(panels, "Counted operations per step against m, n and d (dashed: the paper's "
                        "cost formula).")
