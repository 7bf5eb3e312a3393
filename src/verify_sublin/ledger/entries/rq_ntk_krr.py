"""rq.ntk_krr: does wide-network Gauss-Newton predict like kernel regression with the
shifted NTK (which needs no sublinear machinery)?"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..papers import CITE
from ..toolkit import Entry, Panel, Plot, Series, Shown, Sizes, Table, answer_words, color, pow2, worst
from ..toolkit.generalisation import error_table, errors_by_cell, lowest_by_data
from ..toolkit.krr import KRR_NOTE, best_words
from ..toolkit.review import Question
from . import rq_shift_generalisation as gen

#: GN's test predictions "agree" with a kernel predictor when they differ by at most this
#: fraction of their norm
KRR_AGREEMENT = 0.25
#: the runs' shift: the test errors shown are rq.shift_generalisation's at this shift
KRR_C = 0.4

QUESTION = Question(
    "\"can an approximation of the NTK matrix together with kernel ridge regression achieve "
    "sublinear computation time?\"",
    "Gauss-Newton's test predictions agree with kernel regression with the shifted NTK "
    "started from f_0 (whose O(n^2 d + n^3) time does not depend on m at all)",
    "Gauss-Newton's test predictions agree with plain kernel regression, not with the one "
    "started from f_0",
    "Gauss-Newton's test predictions differ from both kernel predictors")

SIZES = Sizes(
    #   tiny            quick                  full
    m=([2**9], [2**12, 2**14], [2**14, 2**16, 2**18]),
    #: (data set, n, n_test, d)
    sets=([("diabetes", 32, 16, 10)],
          [("diabetes", 128, 64, 10), ("sphere-teacher", 64, 64, 16)],
          [("diabetes", 300, 142, 10), ("digits", 300, 300, 61),
           ("sphere-teacher", 128, 128, 32)]),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("krr_compare", {"dataset": ds, "n": n, "n_test": nt, "d": d, "m": m,
                                    "c": 0.4, "steps": 15, "mu": 1e-8}, seed=10)
            for ds, n, nt, d in s.sets for m in s.m] + [
        r for r in gen.runs(gen.SIZES.at(s.profile)) if r.params["c"] == KRR_C]


@dataclass(frozen=True)
class Values:
    mmax: int
    rows: list          #: table rows (cells), by data set and m
    agree: list         #: (data set, GN vs plain KRR, GN vs KRR from f_0) at the largest m
    times: list         #: (data set, GN seconds, KRR seconds) at the largest m
    outcomes: list      #: the premise's outcome per data set at the largest m
    curves: dict        #: data set -> [(m, GN vs KRR, GN vs KRR from f_0)] sorted by m
    test_errors: Table  #: rq.shift_generalisation's test MSE at c = KRR_C
    best: list          #: (data set, method of lowest mean test MSE, its MSE, GN's) there


def values(results) -> Values:
    nan = math.nan
    own = results.of("krr_compare")
    mmax = max((r.params["m"] for r in own), default=1)
    rows, agree, times, outcomes, curves = [], [], [], [], {}
    for r in sorted(own, key=lambda r: (r.params["dataset"], r.params["m"])):
        p, res = r.params, r.result
        g, k, s = res.ggn, res.ntk_krr, res.second_layer
        if g.error is not None or k.error is not None:
            rows.append([p["dataset"], pow2(p["m"]), g.error or "", k.error or "", *[""] * 3])
            continue
        ag = res.agreement or {}
        a_plain, a_f0 = ag.get("ntk_krr", nan), ag.get("ntk_krr_from_f0", nan)
        if p["m"] == mmax and res.agreement is None:
            rows.append([p["dataset"], pow2(p["m"]), "(run made before the prediction "
                         "comparison existed: rerun with --recompute)", *[""] * 4])
            continue
        if p["m"] == mmax:
            agree.append((p["dataset"], a_plain, a_f0))
            times.append((p["dataset"], g.seconds, k.seconds))
            outcomes.append("holds" if a_f0 <= KRR_AGREEMENT else
                            "holds-with-caveat" if a_plain <= KRR_AGREEMENT else "fails")
        rows.append([p["dataset"], pow2(p["m"]), f"{a_plain:.3f}", f"{a_f0:.3f}",
                     f"{g.seconds:.2f}", f"{k.seconds:.2f}", f"{s.seconds:.2f}"])
        curves.setdefault(p["dataset"], []).append((p["m"], a_plain, a_f0))
    return Values(mmax, rows, agree, times, outcomes, {ds: sorted(c) for ds, c in curves.items()},
                  error_table(results.of("shift_generalisation"), KRR_C),
                  lowest_by_data(errors_by_cell(results.of("shift_generalisation")), KRR_C))


def _premise(v: Values) -> tuple[str, str, str, str]:
    """The premise's outcome, claimed and measured sentences and rule."""
    outcome = worst(v.outcomes) if v.outcomes else "inconclusive"
    measured = (
        f"at m = {pow2(v.mmax)}, GN's test predictions differ from KRR-from-f_0's by "
        + ", ".join(f"{ds} {a0:.2f}" for ds, _, a0 in v.agree) + " and from plain KRR's by "
        + ", ".join(f"{ds} {a:.2f}" for ds, a, _ in v.agree) + " (relative); seconds GN / KRR: "
        + ", ".join(f"{ds} {tg:.2f} / {tk:.2f}" for ds, tg, tk in v.times)
        if v.rows else "no krr_compare run finished (only the test errors' runs)")
    if v.best:
        measured += (f"; in test error (mean over splits at c = {KRR_C:g}, each method at its "
                     f"best validation point) {best_words(v.best)}")
    rule = (f"at the largest m, per data set: holds if Gauss-Newton's test predictions differ "
            f"from those of kernel regression fitted to y - f_0 (plus f_0) by at most "
            f"{KRR_AGREEMENT:g} of their norm, holds-with-caveat if only plain kernel "
            "regression (from zero) agrees that well, fails otherwise. Test errors, "
            "second-layer training and times (including construction) are reported beside.")
    return (outcome, "wide-network Gauss-Newton predicts like NTK kernel regression (NTK "
            "regime); KRR needs no sublinear machinery", measured, rule)


def decide(v: Values) -> tuple[str, str]:
    outcome, _, measured, rule = _premise(v)
    return QUESTION.answer(outcome, measured, rule)[0], outcome


def show(v: Values, verdict: str, reason: str) -> Shown:
    outcome, claimed, measured, rule = _premise(v)
    _, measured, rule = QUESTION.answer(outcome, measured, rule)
    table = Table(["data", "m", "GN vs KRR predictions", "GN vs KRR-from-f_0 predictions",
                   "GN s", "KRR s", "2nd s"])
    for row in v.rows:
        table.add(*row)
    note = (f"{KRR_NOTE} The test errors are "
            f"rq.shift_generalisation's at c = {KRR_C:g} (its data sizes and splits, the "
            "zero-output initialisation, each method at its best validation point): this "
            "entry's own runs measure only how the predictions agree.")
    series = [Series([x[0] for x in rows], [x[j] for x in rows], f"{ds} {name}", style, color(k))
              for k, (ds, rows) in enumerate(sorted(v.curves.items()))
              for j, name, style in [(1, "vs KRR", "o-"), (2, "vs KRR from f_0", "--")]]
    plot = Plot([Panel(series, "width m", "||p - p_GN|| / ||p_GN|| (test inputs)", xscale="log2")],
                "How far the test predictions of NTK kernel ridge regression (from zero, and "
                "from f_0) lie from Gauss-Newton's.")
    figures = {"agreement": v.agree, "seconds": v.times, "best": v.best}
    return Shown(claimed, measured, rule, [table, note, v.test_errors], figures, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"can an approximation of the NTK matrix together with kernel"
          " ridge regression achieve sublinear computation time?\"; \"Can the authors "
          "comment on how an algorithm that approximates the NTK matrix and trains only "
          "the second layer would compare to their algorithm?\"")

ENTRY = Entry(
    id="rq.ntk_krr", kind="question", paper="RQ",
    statement="Versus NTK kernel ridge regression, or training only the second layer? "
              "Premise: in the NTK regime the trained network predicts like KRR with the "
              "shifted NTK.",
    source=SOURCE,
    experiment="Same data and split: Gauss-Newton on the first layer to convergence, exact "
               "least squares on the second layer, KRR with the exact shifted NTK; agreement "
               "of their test predictions and time against m. Test errors: rq.shift_"
               "generalisation's runs at c = 0.4.",
    rule=answer_words(f"holds if at the largest m GN's test predictions differ from KRR-from-f_0's by "
                      f"<= {KRR_AGREEMENT:g} of their norm on every data set; holds-with-caveat if only "
                      "plain KRR's do."),
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "KRR_AGREEMENT", "KRR_C", "QUESTION", "SIZES"]
