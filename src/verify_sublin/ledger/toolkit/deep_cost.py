"""What the multi-layer cost entries (cpi.multilayer, init.multilayer) show: every cost row
of deep_step_speed with its layers' mean fire-set sizes and its timing spread, fitted
growths in words, and the figure of cost against m.

Cost: O(runs) for the rows, O(k log k) per timing spread of k steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..fitting import LogLogFit
from ..plot import Plot, Series
from ..verdict import Table
from .base import color, loglog, pow2
from .deep import DECIDING, METHODS
from .spread import Spread

__all__ = ["CONSTRUCTION_NOTE", "TIMES_NOTE", "WidthRow", "cost_plot", "fit_table", "fit_words",
           "layer_note", "merge_lines", "sizes_cell", "width_rows", "width_table"]

#: what the timing figures of the deep cost entries summarise (written once)
TIMES_NOTE = ("Seconds per step: the median of the timed steps of one run per width (seed 15: one "
              "net and one data set of n inputs), with their interquartile range and count; the "
              "speed-up is the ratio of the two methods' medians, measured in one process.")

#: what the construction and the two steps read (written once)
CONSTRUCTION_NOTE = (
    "deep_sublinear's construction, as counted: m d + (L - 1) m^2 for the copied weights, plus "
    "its first sparse forward pass (the net's own N(0, 1) draw of the weights, shared by both "
    "methods, is not counted). The dense step reads every weight, m^2 per layer; the sublinear "
    "step reads only the fired columns and rows, plus the pending sparse updates.")


def fit_words(fit: LogLogFit) -> str:
    """'m^1.61 [1.20, 2.00]': a fitted growth in m with its 95% interval.

    >>> fit_words(LogLogFit(1.608, 1.0, 1.203, 2.003, 5, 5))
    'm^1.61 [1.20, 2.00]'
    """
    return f"m^{fit.exponent:.2f} [{fit.low:.2f}, {fit.high:.2f}]"


def sizes_cell(means: Sequence[float]) -> str:
    """The mean fire-set size of each layer, 3 significant digits.

    >>> sizes_cell([389.04, 0.4, 1652.0])
    '389 / 0.4 / 1.65e+03'
    """
    return " / ".join(f"{x:.3g}" for x in means)


@dataclass(frozen=True)
class WidthRow:
    """One width of one (scaling, c) of deep_step_speed: a cost row of the report."""

    scale: str
    c: float
    m: int
    ops: dict           #: method -> counted operations per step (mean over the timed steps)
    init_ops: int       #: deep_sublinear's construction, counted operations
    times: dict         #: method -> the timed steps' seconds
    sizes: tuple        #: mean fire-set size per layer, at the last weights
    expected: float     #: m Q(b), the mean fire set of N(0, 1) pre-activations


def width_rows(groups: dict) -> list[WidthRow]:
    """The cost rows of `deep.speed_groups`' groups, the deciding scale first."""
    return [WidthRow(sc, c, r.params["m"], {k: x.total_ops for k, x in r.result.rows.items()},
                     r.result.rows["deep_sublinear"].init_ops,
                     {k: x.times for k, x in r.result.rows.items()},
                     tuple(r.result.rows["deep_sublinear"].layer_sizes_mean),
                     r.result.expected_fire_set)
            for (sc, c), rows in sorted(groups.items(), key=lambda kv: (kv[0][0] != DECIDING, kv[0]))
            for r in rows]


def width_table(rows: Sequence[WidthRow], times: bool = True) -> Table:
    """Every cost row with its layers' mean fire-set sizes (and, with `times`, the two
    steps' timing spreads; without, deep_sublinear's construction)."""
    cols = (["deep_sublinear step", "deep_dense step"] if times
            else ["deep_sublinear construction ops", "construction / step"])
    table = Table(["scale", "c", "m", "counted ops per step: deep_dense / deep_sublinear", *cols,
                   "mean fire-set size per layer (m Q(b))"])
    for x in rows:
        sub = x.ops["deep_sublinear"]
        cells = ([Spread.of(x.times[k]).ms("steps") for k in ("deep_sublinear", "deep_dense")]
                 if times else [f"{x.init_ops:.3g}", f"{x.init_ops / sub:.3g}"])
        table.add(x.scale + (" (decides)" if x.scale == DECIDING else ""), f"{x.c:g}", pow2(x.m),
                  f"{x.ops['deep_dense']:.3g} / {sub:.3g}", *cells,
                  f"{sizes_cell(x.sizes)} ({x.expected:.3g})")
    return table


def cost_plot(rows: Sequence[WidthRow]) -> Plot:
    """Counted operations and median seconds per step against m, per (scale, c) and
    method, with an m^2 reference."""
    ops, time = [], []
    keys = sorted({(x.scale != DECIDING, x.scale, x.c) for x in rows})
    for k, (_, sc, c) in enumerate(keys):
        group = [x for x in rows if (x.scale, x.c) == (sc, c)]
        ms = [x.m for x in group]
        for meth, style in (("deep_dense", "s--"), ("deep_sublinear", "o-")):
            ops.append(Series(ms, [x.ops[meth] for x in group], f"{meth} c={c} {sc}", style,
                              color(k)))
            time.append(Series(ms, [Spread.of(x.times[meth]).median for x in group], None, style,
                               color(k)))
    ms = sorted({x.m for x in rows})
    ops += [Series(ms, [m**2 * 10 for m in ms], "m^2 (scaled)", ":", "k")] if ms else []
    return Plot([loglog(ops, "width m", "operations per step"),
                 loglog(time, "width m", "seconds per step (median)")],
                "Multi-layer cost per iteration against m (L layers): dense reference and the "
                "sublinear method, at the paper's fixed scale (decides) and the normalised net.")


def fit_table(fits: dict, speedup: dict, rows: Sequence[WidthRow]) -> tuple[list, dict]:
    """The fitted exponents of both methods per (scale, c), with the layers' mean fire-set
    sizes at the largest m, and the named figures ("_fixed" marks the fixed scale, the
    names of the normalised net are those of the reports before the fixed scale decided).
    Returns ([the table, and a sentence per (scale, c) below two widths], figures)."""
    table = Table(["scale", "c", "method", "exponent of counted ops", "exponent of time",
                   "slope of the claimed terms", "construction ops exponent",
                   "speed-up at the largest m", "mean fire-set size per layer at the largest m"])
    out, figures = [table], {}
    for (sc, c), f in fits.items():
        if f is None:
            out.append(f"c = {c} ({sc}): fewer than two widths finished; no exponent.")
            continue
        tag, last = "" if sc == "normalized" else "_fixed", [x for x in rows if (x.scale, x.c) == (sc, c)][-1]
        for meth in METHODS:
            x = f[meth]
            figures[f"{meth}_ops_exp_c{c:g}{tag}"] = x.ops.exponent
            figures[f"{meth}_time_exp_c{c:g}{tag}"] = x.time.exponent
            table.add(sc, f"{c:g}", meth, x.ops, x.time, f"{x.claimed.exponent:.3f}",
                      f"{x.init.exponent:.3f}",
                      f"{speedup[sc, c] if meth == 'deep_sublinear' else 1.0:.1f}x",
                      sizes_cell(last.sizes))
        figures[f"speedup_c{c:g}{tag}"] = speedup[sc, c]
    return out, figures


def merge_lines(merges: Sequence) -> list[str]:
    """A sentence per deep_merge run: (m, c, {period: mean seconds}, fastest period)."""
    return [f"Merge period at m = {pow2(m)}, c = {c} (normalised net; mean seconds of 12 steps, a "
            "whole number of merge cycles, so the amortised step; their spread is not stored): "
            + ", ".join(f"every {k}: {1e3 * t:.1f} ms" for k, t in means.items())
            + f" (fastest: every {best})." for m, c, means, best in merges]


def layer_note(rows: Sequence[WidthRow]) -> str:
    """How far each scale's mean fire sets stray from m Q(b): the largest and smallest ratio
    over layers and widths, with where the largest is."""
    out = []
    for sc in sorted({x.scale for x in rows}, key=lambda sc: sc != DECIDING):
        cells = [(s / x.expected, k, x) for x in rows if x.scale == sc
                 for k, s in enumerate(x.sizes, start=1)]
        hi, lo = max(cells, key=lambda t: t[0]), min(cells, key=lambda t: t[0])
        out.append(f"at the {sc} scale the layers' mean fire sets lie between {lo[0]:.2g} and "
                   f"{hi[0]:.2g} times m Q(b) (the largest: layer {hi[1]}, c = {hi[2].c:g}, m = "
                   f"{pow2(hi[2].m)})")
    return ("Mean fire-set sizes against m Q(b): " + "; ".join(out) + ". A mean far above m Q(b) "
            "hides inputs on which the layer is silent beside inputs on which it fires widely "
            "(see convergence.multilayer).") if out else ""

