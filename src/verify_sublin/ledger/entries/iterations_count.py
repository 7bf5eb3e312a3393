"""iterations.count: T = O(log(n / eps)) Gauss-Newton steps reach eps, at a rate that does
not depend on n."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..toolkit import CACHE_IMPLICIT, CITE, SOURCE_RECONSTRUCTED, Entry, Shown, Sizes, Table, loglog_fit

#: the accuracies at which the steps are counted
EPS = (1e-4, 1e-6, 1e-8, 1e-10, 1e-12)
#: largest exponent of T in log(1/eps) counted as "at most linear"
LOG_EXPONENT_MAX = 1.0
#: largest exponent of T in n counted as "independent of n"
N_EXPONENT_MAX = 0.1
#: the steps a run may take to reach min(EPS)
STEPS = 60

SIZES = Sizes(
    #   tiny         quick            full
    m=(2**10, 2**14, 2**16),
    d=(8, 16, 32),
    n=([8, 16, 32], [8, 16, 32, 64], [8, 16, 32, 64, 128]),
    seeds=([0], [0, 1, 2], [0, 1, 2, 3, 4]),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("training", {"method": "sublinear_gn", "options": CACHE_IMPLICIT,
                                 "dataset": "sphere-teacher", "n": n, "d": s.d, "m": s.m,
                                 "c": 0.4, "steps": STEPS, "tol": min(EPS)}, seed=seed)
            for n in s.n for seed in s.seeds]


def steps_to(res, eps: float) -> int | None:
    """The first step whose residual is <= eps times the initial one (None: never)."""
    for t, r in enumerate(res.residual, start=1):
        if r <= eps * res.residual0:
            return t
    return None


@dataclass(frozen=True)
class Values:
    steps: list         #: (n, eps, [T per seed, None where not reached]) for every n and eps
    log_fit: object     #: LogLogFit of T against log(1/eps) (None: too few sizes)
    n_fit: object       #: LogLogFit of T against n at eps = min(EPS) (None: too few sizes)
    missed: int         #: (run, eps) pairs that never reached eps


def values(results) -> Values:
    by_n = {}
    for r in results:
        by_n.setdefault(r.params["n"], []).append(r.result)
    steps, xs_eps, ts_eps, xs_n, ts_n = [], [], [], [], []
    for n, res in sorted(by_n.items()):
        for eps in EPS:
            ts = [steps_to(x, eps) for x in res]
            steps.append((n, eps, ts))
            ok = [t for t in ts if t is not None]
            xs_eps += [math.log(1 / eps)] * len(ok)
            ts_eps += ok
            if eps == min(EPS):
                xs_n += [n] * len(ok)
                ts_n += ok
    return Values(steps, loglog_fit(xs_eps, ts_eps) if len(set(xs_eps)) >= 2 else None,
                  loglog_fit(xs_n, ts_n) if len(set(xs_n)) >= 2 else None,
                  sum(t is None for _, _, ts in steps for t in ts))


def iterations_verdict(log_fit, n_fit, missed: int) -> tuple[str, str]:
    """holds if T grows at most linearly in log(1/eps) (interval of its exponent <=
    `LOG_EXPONENT_MAX`) and T's exponent in n has its interval below `N_EXPONENT_MAX`;
    fails if a run never reaches eps, or an interval lies wholly above its limit;
    inconclusive otherwise.

    >>> from verify_sublin.ledger.fitting import LogLogFit
    >>> iterations_verdict(LogLogFit(0.5, 1, 0.4, 0.6, 5, 5), LogLogFit(0, 1, -0.05, 0.05, 4, 4), 0)[0]
    'holds'
    >>> iterations_verdict(LogLogFit(0.5, 1, 0.4, 0.6, 5, 5), LogLogFit(0.5, 1, 0.3, 0.7, 4, 4), 0)[0]
    'fails'
    """
    if missed:
        return "fails", f"{missed} runs never reached eps within {STEPS} steps"
    if log_fit is None or n_fit is None:
        return "inconclusive", "too few sizes"
    if log_fit.low > LOG_EXPONENT_MAX or n_fit.low >= N_EXPONENT_MAX:
        return "fails", f"log(1/eps) exponent {log_fit}, n exponent {n_fit}"
    if log_fit.high <= LOG_EXPONENT_MAX and n_fit.high < N_EXPONENT_MAX:
        return "holds", f"log(1/eps) exponent {log_fit}, n exponent {n_fit}"
    return "inconclusive", f"log(1/eps) exponent {log_fit}, n exponent {n_fit} straddle the limits"


def decide(v: Values) -> tuple[str, str]:
    return iterations_verdict(v.log_fit, v.n_fit, v.missed)


def show(v: Values, verdict: str, reason: str) -> Shown:
    table = Table(["n", "eps", "log2(n / eps)", "steps taken T (min..max over seeds)"])
    for n, eps, ts in v.steps:
        ok = [t for t in ts if t is not None]
        table.add(n, f"{eps:g}", f"{math.log2(n / eps):.1f}",
                  f"{min(ok)}..{max(ok)}" if ok else "not reached")
    note = ("log2(n / eps) is the number of halvings the claimed rate allows; T is the "
            "first step whose residual is <= eps times the initial one.")
    return Shown(
        "T = O(log(n / eps)) iterations; the rate independent of n",
        f"exponent of T in log(1/eps): {v.log_fit}; exponent of T in n (eps = "
        f"{min(EPS):g}): {v.n_fit}",
        f"count the steps T to reach eps x the initial residual for eps in "
        f"{', '.join(f'{e:g}' for e in EPS)}; fit log T against log log(1/eps) and, at "
        f"eps = {min(EPS):g}, against log n (seeds as repeated points, 95% bootstrap "
        f"intervals): holds if the first interval is <= {LOG_EXPONENT_MAX:g} (T at most "
        f"linear in log(1/eps)) and the second lies below {N_EXPONENT_MAX:g} (T "
        f"independent of n); fails if a run never reaches eps in {STEPS} steps or an "
        f"interval lies wholly above its limit; inconclusive otherwise. Here: {reason}.",
        [table, note],
        {"log_exponent": v.log_fit.exponent if v.log_fit else None,
         "n_exponent": v.n_fit.exponent if v.n_fit else None, "missed": v.missed})


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
    experiment="Sublinear Gauss-Newton (exact Gram) at fixed m over n and seeds; steps to "
               "reach eps for eps = 1e-4..1e-12.",
    rule=f"T at most linear in log(1/eps) (exponent <= {LOG_EXPONENT_MAX:g}); exponent "
         f"of T in n below {N_EXPONENT_MAX:g}.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "EPS", "LOG_EXPONENT_MAX", "N_EXPONENT_MAX", "SIZES", "STEPS",
           "iterations_verdict", "steps_to"]
