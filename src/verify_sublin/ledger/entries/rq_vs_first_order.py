"""rq.vs_first_order: do Gauss-Newton-type methods reach a given training error sooner in
wall clock than gradient descent and Adam?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...bench.spec import RunSpec
from ..papers import CITE
from ..toolkit import (
    CACHE_IMPLICIT,
    Entry,
    HLine,
    Panel,
    Plot,
    Series,
    Shown,
    Sizes,
    Table,
    answer_words,
    color,
    pow2,
)
from ..toolkit.review import Question

#: the training error to reach, relative to the initial residual
EPS = 1e-4
#: (label, method, options) of the methods compared
METHODS = [("gd", "gd", {}), ("adam 1e-3", "adam", {"eta": 1e-3}),
           ("adam 1e-2", "adam", {"eta": 1e-2}), ("adam 1e-1", "adam", {"eta": 1e-1}),
           ("ggn", "ggn", {}), ("sketched_gn", "sketched_gn", {}),
           ("sublinear_gn", "sublinear_gn", CACHE_IMPLICIT)]
GN_METHODS = ("ggn", "sketched_gn", "sublinear_gn")

QUESTION = Question(
    "\"empirical results comparing the total training time and CPI of the proposed method "
    "with other second-order methods and SGD would strengthen the paper’s practical "
    "relevance\"",
    "Gauss-Newton-type methods reached eps sooner than GD and Adam", "Partly sooner",
    "A first-order method reached eps sooner")

SIZES = Sizes(
    #   tiny    quick           full
    m=([2**9], [2**12, 2**14], [2**14, 2**16, 2**18]),
    n=(8, 32, 64),
    d=(4, 16, 32),
    #: step cap of gradient descent and Adam (Gauss-Newton methods: 30 steps)
    cap=(100, 400, 2000),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("training_timed", {"method": method, "options": opts, "label": label,
                                       "dataset": "sphere-teacher", "n": s.n, "d": s.d, "m": m,
                                       "c": 0.4, "steps": 30 if method in GN_METHODS else s.cap,
                                       "tol": EPS}, seed=12)
            for m in s.m for label, method, opts in METHODS]


def time_to_eps(res) -> tuple[float | None, float]:
    """Seconds until the residual is <= EPS r0 (None if not reached) and seconds spent,
    construction included."""
    total = float(res.build_seconds)
    for r, s in zip(res.residual, res.seconds):
        total += s
        if r <= EPS * res.residual0:
            return total, total
    return None, total


@dataclass(frozen=True)
class Values:
    mmax: int
    rows: list      #: (m, label, seconds to eps or None, seconds spent, steps), sorted
    best: dict      #: label -> (seconds to eps or None, seconds spent) at the largest m
    traces: list    #: (label, cumulative seconds, residual / r0) at the largest m


def values(results) -> Values:
    mmax = max(r.params["m"] for r in results)
    rows, best = [], {}
    for r in sorted(results, key=lambda r: (r.params["m"], r.params["label"])):
        t, spent = time_to_eps(r.result)
        rows.append((r.params["m"], r.params["label"], t, spent, len(r.result.residual)))
        if r.params["m"] == mmax:
            best[r.params["label"]] = (t, spent)
    traces = [(r.params["label"], np.cumsum(r.result.seconds),
               np.array(r.result.residual) / r.result.residual0)
              for r in results if r.params["m"] == mmax]
    return Values(mmax, rows, best, traces)


def _premise(v: Values) -> tuple[str, str, str]:
    """The premise's outcome, measured sentence and rule."""
    gn = [t for k, (t, _) in v.best.items() if k in GN_METHODS and t is not None]
    fo = {k: x for k, x in v.best.items() if k == "gd" or k.startswith("adam")}
    if not gn:
        outcome, measured = "fails", "no Gauss-Newton method reached eps"
    else:
        g = min(gn)
        # a first-order method that never reached eps took longer than the time it spent
        beaten = all((t is None and spent >= g) or (t is not None and t > g)
                     for t, spent in fo.values())
        outcome = "holds" if beaten else "fails"
        fo_best = min((t for t, _ in fo.values() if t is not None), default=None)
        measured = (f"at m = {pow2(v.mmax)}: fastest GN {g:.3f} s; fastest first-order "
                    f"{f'{fo_best:.3f} s' if fo_best is not None else 'did not reach eps'}")
    rule = (f"time to reach a residual <= {EPS:g} x the initial one (sum of step times, "
            "construction included: the trainer's set-up, e.g. the tree or the sketch, is part "
            "of the cost) at the largest m: holds if the fastest Gauss-Newton variant "
            "is faster than gradient descent (step 1 / lambda_max) and than Adam at its best "
            "step size in {1e-3, 1e-2, 1e-1}; a method that did not reach eps within its step "
            "cap counts as slower than the time it spent.")
    return outcome, measured, rule


def decide(v: Values) -> tuple[str, str]:
    outcome, measured, rule = _premise(v)
    return QUESTION.answer(outcome, measured, rule)[0], outcome


def show(v: Values, verdict: str, reason: str) -> Shown:
    _, measured, rule = QUESTION.answer(*_premise(v))
    table = Table(["m", "method", "time to 1e-4 r0 (s, construction included)", "steps",
                   "s per step"])
    for m, label, t, spent, steps in v.rows:
        table.add(pow2(m), label, f"{t:.3f}" if t is not None else f"> {spent:.2f} (not reached)",
                  steps, f"{spent / max(steps, 1):.2e}")
    series = [Series(secs, rel, label, "-", color(k)) for k, (label, secs, rel) in enumerate(v.traces)]
    plot = Plot([Panel(series, "wall seconds", "||f - y|| / ||f_0 - y||", xscale="log",
                       yscale="log", hlines=[HLine(EPS)])],
                f"Residual against wall time at m = {pow2(v.mmax)} (dashed: eps).")
    return Shown("GN-type methods reach eps sooner in wall clock than GD and Adam", measured,
                 rule, [table], {}, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"empirical results comparing the total training time and CPI"
          " of the proposed method with other second-order methods and SGD would "
          "strengthen the paper’s practical relevance\"")

ENTRY = Entry(
    id="rq.vs_first_order", kind="question", paper="RQ",
    statement="Versus SGD/GD/Adam in wall clock? Premise: Gauss-Newton-type methods reach a "
              "given training error sooner than first-order methods.",
    source=SOURCE,
    experiment="Time to reach 1e-4 of the initial residual for GD, Adam (three step sizes), "
               "GGN, sketched GN and sublinear GN over m.",
    rule=answer_words("The fastest GN variant beats GD and the best Adam at the largest m."),
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "EPS", "GN_METHODS", "METHODS", "QUESTION", "SIZES", "time_to_eps"]
