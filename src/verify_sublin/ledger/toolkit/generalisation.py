"""Test error against the shift, from ``shift_generalisation`` runs: each run's test error
under one protocol, means over splits, and the paired cost of one shift against another
with its t interval. Used by rq.shift_generalisation and, for its test errors, rq.ntk_krr.
Cost: O(runs x path length).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from ...core.data import LABELS
from .base import HLine, Panel, Plot, Series, Table, color, pow2

__all__ = ["DATA", "METHODS", "PROTOCOLS", "PROTOCOL_NOTE", "Cost", "against_c_table",
           "cost_table", "costs", "curves_plot", "describe", "error_table", "errors_by_cell",
           "lowest_by_data", "mean_at", "mean_test_var", "paired_cost", "score", "t_interval"]

#: the methods of ``shift_generalisation``, with the words the tables use
METHODS = {"ggn": "GN, a fixed", "ggn_train_a": "GN, both layers",
           "ntk_krr": "NTK kernel regression", "second_layer": "second layer alone"}

#: "validated": each method at the point of its path (Gauss-Newton's step, the kernel
#: methods' ridge) of least validation MSE; "interpolation": the path's end
PROTOCOLS = ("validated", "interpolation")

#: the protocol and the initialisations, said once beside the tables
PROTOCOL_NOTE = (
    "Protocol (the same for every method): a fifth of the training inputs is the validation "
    "split; Gauss-Newton's regulariser is early stopping (its iterates after 1 to at most "
    "15 steps), kernel regression's and the second layer's a ridge (9 "
    "values, from 1 to 1e-8 times the kernel's mean diagonal); each is scored at the point "
    "of least validation MSE, and at its path's end (interpolation) in the column so named. "
    "Initialisation 'paired': neurons in pairs w_(r+m/2) = w_r, a_(r+m/2) = -a_r, so f_0 = 0 "
    "and no method starts from a random O(1) output; 'random': the papers' (kernel "
    "regression then fitted to y - f_0 and added to f_0). A split seed draws the same data "
    "and first layer at every c (for the sphere sets it draws the inputs and the teacher), "
    "so the differences are paired. digits is a regression on the digit's value; "
    "breast_cancer is scored by MSE on its +-1 labels and by misclassification.")

#: what each data set's target is: the teacher's activation for the synthetic sets
DATA = {"diabetes": "real, regression", "digits": "real, the digit as a regression target",
        "breast_cancer": "real, classes +-1",
        **{f"sphere-{k}": f"teacher activation {v}" for k, v in LABELS.items()}}


def describe(dataset: str) -> str:
    """The data set's name with what its target is.

    >>> describe("sphere-teacher-smooth")
    'sphere-teacher-smooth (teacher activation tanh(z))'
    """
    return f"{dataset} ({DATA[dataset]})" if dataset in DATA else dataset


def score(fit, protocol: str, what: str = "test_mse") -> float:
    """One method's test figure (``test_mse`` or ``test_error``) of one run under
    `protocol` (`PROTOCOLS`); NaN when the figure is missing."""
    series = getattr(fit, what)
    if not series:
        return math.nan
    return float(series[fit.chosen if protocol == "validated" else -1])


def errors_by_cell(records, protocol: str = "validated", what: str = "test_mse") -> dict:
    """(data set, init, m, method, c) -> {seed: figure} over ``shift_generalisation``
    records."""
    out: dict = defaultdict(dict)
    for r in records:
        p = r.params
        for method, fit in r.result.fits.items():
            out[(p["dataset"], p.get("init", "paired"), p["m"], method, p["c"])][r.spec.seed] = (
                score(fit, protocol, what))
    return dict(out)


def t_interval(x, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): Student's t interval of the mean of x (NaN bounds below 2 values).

    >>> [round(v, 3) for v in t_interval([1.0, 2.0, 3.0])]
    [2.0, -0.484, 4.484]
    """
    x = np.asarray([v for v in x if math.isfinite(v)], dtype=float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    if x.size < 2:
        return float(x.mean()), math.nan, math.nan
    half = student_t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


@dataclass(frozen=True)
class Cost:
    """The paired cost of shift c1 against c0 for one (data set, init, m, method)."""

    base: float         #: mean test figure at c0
    diff: float         #: mean of the paired differences (c1 - c0), same split and init
    low: float          #: 95% t interval of that mean
    high: float
    k: int              #: splits paired

    @property
    def rel(self) -> tuple[float, float, float]:
        """(diff, low, high) relative to the mean at c0."""
        s = self.base if self.base > 0 else math.nan
        return self.diff / s, self.low / s, self.high / s

    def words(self, relative: bool = True) -> str:
        """'+4.1% [-2.0%, +10%]' (relative) or '+0.0031 [-0.0012, +0.0074]'."""
        if relative:
            d, lo, hi = self.rel
            return f"{100 * d:+.1f}% [{100 * lo:+.1f}%, {100 * hi:+.1f}%]"
        return f"{self.diff:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


def paired_cost(errors: dict, key: tuple, c0: float, c1: float) -> Cost | None:
    """The paired cost at `key` = (data set, init, m, method) from `errors_by_cell`' dict:
    differences over the seeds run at both shifts; None if no seed has both."""
    a, b = errors.get((*key, c0), {}), errors.get((*key, c1), {})
    seeds = sorted(s for s in a if s in b and math.isfinite(a[s]) and math.isfinite(b[s]))
    if not seeds:
        return None
    mean, lo, hi = t_interval([b[s] - a[s] for s in seeds])
    return Cost(float(np.mean([a[s] for s in seeds])), mean, lo, hi, len(seeds))


def mean_test_var(records) -> dict:
    """data set -> mean var(y_test) over its runs (the test MSE of predicting the mean)."""
    out: dict = defaultdict(list)
    for r in records:
        out[r.params["dataset"]].append(r.result.test_var)
    return {ds: float(np.mean(v)) for ds, v in out.items()}


def mean_at(errors: dict, key: tuple) -> tuple[float, int]:
    """(mean over splits, splits) of one cell, NaN-free."""
    v = [x for x in errors.get(key, {}).values() if math.isfinite(x)]
    return (float(np.mean(v)) if v else math.nan), len(v)


def lowest_by_data(errors: dict, c: float, init: str = "paired") -> list:
    """Per data set, at its largest m and shift c: (data set, the method of lowest mean
    test figure, that mean, Gauss-Newton's mean), from `errors_by_cell`' dict.

    >>> e = {("a", "paired", 8, "ggn", 0.4): {0: 0.2, 1: 0.4},
    ...      ("a", "paired", 8, "second_layer", 0.4): {0: 0.1, 1: 0.1}}
    >>> lowest_by_data(e, 0.4)
    [('a', 'second_layer', 0.1, 0.30000000000000004)]
    """
    out = []
    for ds in sorted({k[0] for k in errors if k[4] == c and k[1] == init}):
        m = max(k[2] for k in errors if k[0] == ds and k[4] == c and k[1] == init)
        means = {meth: mean_at(errors, (ds, init, m, meth, c))[0] for meth in METHODS}
        means = {k: v for k, v in means.items() if math.isfinite(v)}
        if means:
            best = min(means, key=means.get)
            out.append((ds, best, means[best], means.get("ggn", math.nan)))
    return out


def error_table(records, c: float, protocol: str = "validated") -> Table:
    """Mean test MSE over splits at shift c, per (data set, init, m), one column per
    method, with var(y_test): what rq.ntk_krr shows from these runs."""
    errors = errors_by_cell(records, protocol)
    var: dict = defaultdict(list)
    for r in records:
        var[(r.params["dataset"], r.params.get("init", "paired"), r.params["m"])].append(
            r.result.test_var)
    table = Table(["data", "init", "m", *[f"{w} test MSE" for w in METHODS.values()],
                   "var(y_test)", "splits"])
    for ds, init, m in sorted({k[:3] for k in errors if k[4] == c}):
        cells = [mean_at(errors, (ds, init, m, meth, c)) for meth in METHODS]
        table.add(describe(ds), init, pow2(m), *[f"{x:.4f}" for x, _ in cells],
                  f"{np.mean(var[(ds, init, m)]):.4f}", max(k for _, k in cells))
    return table


def costs(results, c0: float, c1: float) -> tuple[dict, dict, list]:
    """Test MSE and misclassification by protocol (`errors_by_cell`' dicts) and the paired
    costs of c1 against c0: (data set, init, m, method, {protocol: Cost}, misclassification
    Cost or None) for every cell run at both shifts."""
    mse = {p: errors_by_cell(results, p) for p in PROTOCOLS}
    wrong = {p: {k: v for k, v in errors_by_cell(results, p, "test_error").items()
                 if any(math.isfinite(x) for x in v.values())} for p in PROTOCOLS}
    out = []
    for key in sorted({k[:4] for k in mse["validated"]}):
        by = {p: paired_cost(mse[p], key, c0, c1) for p in PROTOCOLS}
        if by["validated"] is not None:
            out.append((*key, by, paired_cost(wrong["validated"], key, c0, c1)))
    return mse, wrong, out


def cost_table(rows: list, c0: float, c1: float) -> Table:
    """The paired costs of `costs`, a row per (data set, init, m, method)."""
    table = Table(["data", "init", "m", "method", f"test MSE c = {c0:g}",
                   f"c = {c1:g} minus c = {c0:g} (95% t)", "relative",
                   "at interpolation: relative", "misclassification difference", "splits"])
    for ds, init, m, meth, by, wrong in rows:
        c, ci = by["validated"], by["interpolation"]
        table.add(describe(ds), init, pow2(m), METHODS[meth], f"{c.base:.4f}", c.words(False),
                  c.words(), ci.words() if ci else "", wrong.words(False) if wrong else "", c.k)
    return table


def against_c_table(errors: dict, cs, what: str, digits: int = 4) -> Table:
    """Mean over splits of a test figure against c, a row per (data set, init, m,
    method), a column per shift."""
    table = Table(["data", "init", "m", "method", *[f"{what} c = {c:g}" for c in cs], "splits"])
    for ds, init, m, meth in sorted({k[:4] for k in errors},
                                    key=lambda k: (k[0], k[1], k[2], list(METHODS).index(k[3]))):
        cells = [mean_at(errors, (ds, init, m, meth, c)) for c in cs]
        table.add(describe(ds), init, pow2(m), METHODS[meth],
                  *[f"{x:.{digits}f}" for x, _ in cells], max(k for _, k in cells))
    return table


def curves_plot(errors: dict, var: dict, cs, widths: dict, caption: str) -> Plot:
    """A panel per data set: mean test MSE over splits against c at the data set's
    largest width (zero-output initialisation), a series per method with the standard
    error of the mean, and var(y_test) (the error of predicting the mean) dashed."""
    panels: list = []
    cols = min(3, len(widths)) or 1
    for ds in sorted(widths):
        series = []
        for k, meth in enumerate(METHODS):
            pts = [(c, errors.get((ds, "paired", widths[ds], meth, c), {})) for c in cs]
            pts = [(c, [x for x in v.values() if math.isfinite(x)]) for c, v in pts]
            pts = [(c, v) for c, v in pts if v]
            se = [float(np.std(v, ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0
                  for _, v in pts]
            series.append(Series([c for c, _ in pts], [float(np.mean(v)) for _, v in pts],
                                 METHODS[meth], "o-", color(k), kind="errorbar",
                                 yerr=(se, se)))
        panels.append(Panel(series, "shift c (b = sqrt(c ln m))", "test MSE",
                            title=f"{ds}, m = {pow2(widths[ds])}",
                            hlines=[HLine(var[ds], "gray", ":")] if ds in var else (),
                            legend=len(panels) == cols - 1))
    return Plot(panels, caption, rows=math.ceil(len(panels) / cols), cols=cols,
                size=(4.0 * cols, 3.4 * math.ceil(len(panels) / cols)))
