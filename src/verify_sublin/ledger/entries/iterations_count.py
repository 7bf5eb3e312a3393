"""iterations.count: the Gauss-Newton steps to reach eps do not grow with the batch size
n, where gradient descent's (the positive control) do."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..toolkit import CACHE_IMPLICIT, CITE, SAME, SOURCE_RECONSTRUCTED, VARIANT, Entry, Shown, Sizes
from ..toolkit.spread import bootstrap_note
from ..toolkit.training import fit_text, fit_words, group_fits, steps_plot, steps_tables, steps_to

#: T is counted to this fraction of the initial residual (gradient descent reaches it in
#: <= 33 steps at n = 128 on the full profile's data; T ~ log2(n / EPS) has exponent 0.08)
EPS = 1e-4
#: largest exponent of T in n counted as "independent of n"
N_EXPONENT_MAX = 0.1
#: the steps a Gauss-Newton run may take (3x the log2(128 / EPS) = 20 halvings)
STEPS = 60
#: the steps a gradient-descent run may take; one that needs more is reported, not fitted
GD_STEPS = 2000
#: the shift constant of every run (b = sqrt(c ln m))
C = 0.4
#: (method, options, step cap): Gauss-Newton (this project's variant) and the control
METHODS = (("sublinear_gn", CACHE_IMPLICIT, STEPS), ("gd", {}, GD_STEPS))

SIZES = Sizes(
    #   tiny         quick            full
    m=(2**12, 2**16, SAME),
    d=(8, 16, SAME),
    n=([8, 16, 32], [8, 16, 32, 64], [8, 16, 32, 64, 128]),
    seeds=([0], [0, 1, 2], [0, 1, 2, 3, 4]),
    data=(["sphere-teacher", "sphere-random"], SAME, SAME),
)


def spec(method: str, ds: str, n: int, d: int, m: int, seed: int) -> RunSpec:
    """One run of `method` ("sublinear_gn" or "gd") to EPS of the initial residual."""
    _, options, cap = next(x for x in METHODS if x[0] == method)
    return RunSpec("training", {"method": method, "options": options, "dataset": ds, "n": n,
                                "d": d, "m": m, "c": C, "steps": cap, "tol": EPS}, seed=seed)


def runs(s) -> list[RunSpec]:
    return [spec(method, ds, n, s.d, s.m, seed) for ds in s.data for method, _, _ in METHODS
            for n in s.n for seed in s.seeds]


@dataclass(frozen=True)
class Values:
    steps: dict     #: (data, method) -> {n: [T per seed, None where EPS was not reached]}
    fits: dict      #: (data, method) -> LogLogFit of T in n (None: fewer than two n)
    missed: dict    #: method -> runs that did not reach EPS within the method's cap


def values(results) -> Values:
    steps, pts, missed = {}, {}, {}
    for r in sorted(results, key=lambda r: (r.params["n"], r.spec.seed)):
        key, t = (r.params["dataset"], r.params["method"]), steps_to(r.result, EPS)
        steps.setdefault(key, {}).setdefault(r.params["n"], []).append(t)
        missed[key[1]] = missed.get(key[1], 0) + (t is None)
        if t is not None:
            pts.setdefault(key, []).append((r.params["n"], t))
    return Values(dict(sorted(steps.items())), group_fits(pts), missed)


def iterations_verdict(gn: list, gd: list, gn_missed: int) -> tuple[str, str]:
    """gn, gd: the fits of T in n per data set. fails if a Gauss-Newton run never reaches
    EPS or some data set's GN interval lies at or above `N_EXPONENT_MAX`; holds if every
    GN interval lies below it and every control (GD) interval above it; inconclusive
    otherwise (a GN interval straddles, or the control cannot see n-dependence).

    >>> from verify_sublin.ledger.fitting import LogLogFit
    >>> flat, grows = LogLogFit(0, 1, -0.02, 0.03, 25, 5), LogLogFit(0.4, 1, 0.3, 0.5, 25, 5)
    >>> [iterations_verdict([flat], [grows], 0)[0], iterations_verdict([grows], [grows], 0)[0],
    ...  iterations_verdict([flat], [flat], 0)[0], iterations_verdict([flat], [grows], 1)[0]]
    ['holds', 'fails', 'inconclusive', 'fails']
    """
    if gn_missed:
        return "fails", f"{gn_missed} Gauss-Newton runs never reached {EPS:g} in {STEPS} steps"
    if not gn or None in gn:
        return "inconclusive", "too few n"
    if any(f.low >= N_EXPONENT_MAX for f in gn):
        return "fails", f"Gauss-Newton's T grows with n (exponent {', '.join(map(fit_text, gn))})"
    if any(f.high >= N_EXPONENT_MAX for f in gn):
        return "inconclusive", f"Gauss-Newton's exponent {', '.join(map(fit_text, gn))} straddles the limit"
    if not gd or any(f is None or f.low <= N_EXPONENT_MAX for f in gd):
        return "inconclusive", "the control (gradient descent) does not show n-dependence"
    return "holds", (f"Gauss-Newton {', '.join(map(fit_text, gn))}; gradient descent "
                     f"{', '.join(map(fit_text, gd))}")


def _of(v: Values, method: str) -> list:
    return [f for (_, m), f in v.fits.items() if m == method]


def decide(v: Values) -> tuple[str, str]:
    return iterations_verdict(_of(v, "sublinear_gn"), _of(v, "gd"), v.missed.get("sublinear_gn", 0))


def show(v: Values, verdict: str, reason: str) -> Shown:
    measured = (f"exponent in n of Gauss-Newton's steps to {EPS:g}: "
                f"{fit_words(v.fits, v.steps, 'sublinear_gn', N_EXPONENT_MAX)}; of gradient descent's "
                f"(the control): {fit_words(v.fits, v.steps, 'gd', N_EXPONENT_MAX)}")
    rule = (f"count the steps T to reach {EPS:g} x the initial residual for Gauss-Newton (exact "
            "Gram, tree-free cache: this project's variant, at most "
            f"{STEPS} steps) and gradient descent (eta = 1 / lambda_max(G_0), at most {GD_STEPS} "
            "steps; the positive control: its T grows with n, so the test can see n-dependence) "
            f"on the same data, width, shift c = {C:g} and seeds; fit log T against log n per data "
            "set and method (seeds as repeated points, 95% bootstrap intervals). holds if every "
            f"Gauss-Newton interval lies below {N_EXPONENT_MAX:g} and every control interval above "
            f"it; fails if a Gauss-Newton run never reaches {EPS:g} or an interval of Gauss-Newton "
            f"lies at or above {N_EXPONENT_MAX:g}; inconclusive otherwise. A control run that "
            f"hits its cap is reported and left out of its fit. Here: {reason}.")
    note = (f"log2(n / eps) is the number of halvings T = O(log(n / eps)) allows; T proportional "
            f"to it would have exponent {math.log(math.log(128 / EPS) / math.log(8 / EPS), 16):.2f} "
            f"in n over n = 8..128, below the limit {N_EXPONENT_MAX:g}.")
    fits, table = steps_tables(v.steps, v.fits, EPS, N_EXPONENT_MAX)
    return Shown("the Gauss-Newton steps T to reach eps do not depend on n (T = O(log(n / eps)))",
                 measured, rule, [fits, bootstrap_note, table, note],
                 {"n_exponent": max((f.exponent for f in _of(v, "sublinear_gn") if f), default=None),
                  "gd_n_exponent": min((f.exponent for f in _of(v, "gd") if f), default=None),
                  "missed": dict(v.missed)}, steps_plot(v.steps, EPS))


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['BPSW']}, abstract: second-order algorithms have a \"remarkable "
          "convergence rate (independent of the training batch size n)\"; "
          f"{CITE['REVIEW']}: \"The method also achieves [formula omitted in the source] "
          "iterations to reach a training error below [formula omitted in the source], "
          "matching the convergence rate of existing second-order methods\"; T = O(log(n /"
          f" eps)) in {CITE['DHSWZ']} is {SOURCE_RECONSTRUCTED}")

ENTRY = Entry(
    id="iterations.count", kind="claim", paper="DHSWZ",
    statement="T = O(log(n / eps)) iterations reach training error eps; the second-order "
              "rate does not depend on n.",
    source=SOURCE,
    experiment="Sublinear Gauss-Newton (exact Gram, tree-free cache: this project's variant) and gradient "
               "descent (positive control) on the same data, width and seeds over n; steps to reach "
               f"{EPS:g} of the initial residual. Budget: full ~17 s of computation (100 runs).",
    rule=f"Exponent of Gauss-Newton's T in n below {N_EXPONENT_MAX:g}, gradient descent's "
         "above it (the control sees n-dependence).",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show,
    measured_on=VARIANT)

__all__ = ["ENTRY", "EPS", "GD_STEPS", "METHODS", "N_EXPONENT_MAX", "SIZES", "STEPS", "C",
           "iterations_verdict", "spec"]
