"""rq.jacobian_sparsity: how sparse is the Jacobian in practice, and does it stay sparse
in training? Premise: nnz(J)/(n m d) ~ Q(b) <= m^(-c/2) throughout training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from ...bench.spec import RunSpec
from ..toolkit import (
    CITE,
    VARIANT,
    Entry,
    HLine,
    Plot,
    Shown,
    Sizes,
    Table,
    answer_words,
    expected_fire,
    exponent_matches,
    local_slope,
    loglog_fit,
    premise_answer,
    worst,
)
from ..toolkit.training import median_bar_panels
from . import sparsity_init, sparsity_training

#: fitted and predicted slopes of |S_i(0)| in m agree within this
SLOPE_MATCH_TOL = 0.03
#: nnz(J_t) / nnz(J_0) counts as "survives training" inside this band
NNZ_BAND = (0.8, 1.25)

#: the review's words, and the answers when the premise holds, partly holds, or fails
QUOTE = "\"it is not exactly clear to me how sparse the Jacobian would be\""
YES = "As sparse as m Q(b) predicts, and it stays so in training"
PARTLY = ("As sparse as m Q(b) predicts at initialisation (slopes below 1 - c/2 at feasible "
          "m), and the density stays within the band during training")
NO = ("The initial density follows m Q(b), but during training it moves outside "
      f"[{NNZ_BAND[0]:g}, {NNZ_BAND[1]:g}] x its initial value in some runs")

#: no sizes of its own: the runs of sparsity.init and sparsity.training at each profile
SIZES = Sizes()


def runs(s) -> list[RunSpec]:
    return (sparsity_init.runs(sparsity_init.SIZES.at(s.profile))
            + sparsity_training.runs(sparsity_training.SIZES.at(s.profile)))


@dataclass(frozen=True)
class Values:
    has_init: bool      #: some fire_sets_init run finished
    slopes: list        #: (c, fit of |S_i(0)| in m, local slope of m Q(b), match) per c > 0
    fracs: list         #: nnz(J_t) / nnz(J_0) over every step of every training run
    dens: list          #: nnz(J_t) / (n m d) over the same steps
    curves: list        #: (data set, c, nnz(J_t) / (n m d Q(b)) per step) per training run


def values(results) -> Values:
    by_c = {}
    for r in results.of("fire_sets_init"):
        by_c.setdefault(r.params["c"], []).append((r.params["m"], r.result.mean))
    slopes = []
    for c, rows in sorted(by_c.items()):
        rows.sort()
        if len(rows) < 2 or c == 0:
            continue
        fit = loglog_fit([x[0] for x in rows], [x[1] for x in rows])
        pred = local_slope(lambda m, c=c: expected_fire(m, c), rows[0][0], rows[-1][0])
        slopes.append((c, fit, pred, exponent_matches(fit, pred, tol=SLOPE_MATCH_TOL)[0]))
    fracs, dens, curves = [], [], []
    for r in results.of("training"):
        p, res = r.params, r.result
        curves.append((p["dataset"], p["c"], np.array(res.mean_fire) / (p["m"] * norm.sf(res.b))))
        fracs.extend(mf / res.mean_fire[0] for mf in res.mean_fire)
        dens.extend(mf / p["m"] for mf in res.mean_fire)
    return Values(bool(by_c), slopes, fracs, dens, curves)


def _premise(v: Values) -> tuple[str, str, str]:
    """The premise's outcome, and its measured sentence and rule before the answer."""
    stays = not v.fracs or (NNZ_BAND[0] <= min(v.fracs) and max(v.fracs) <= NNZ_BAND[1])
    outcome = (worst([*(x[3] for x in v.slopes), "holds" if stays else "fails"])
               if v.slopes else "inconclusive")
    nan = float("nan")
    measured = (f"nnz(J_t) / nnz(J_0) during training {min(v.fracs, default=nan):.3f}.."
                f"{max(v.fracs, default=nan):.3f}; fitted slope of |S_i(0)| in m vs the local "
                "slope of m Q(b): "
                + ", ".join(f"c={c:g} {fit.exponent:.3f} vs {pred:.3f}"
                            for c, fit, pred, _ in v.slopes))
    rule = ("holds-with-caveat when the fitted slope of |S_i(0)| in m matches the local slope "
            f"of m Q(b) (within {SLOPE_MATCH_TOL:g}) at every c > 0 and nnz(J_t) stays within "
            f"[{NNZ_BAND[0]:g}, {NNZ_BAND[1]:g}] x nnz(J_0) during training: sparse as "
            "claimed, but the exponent 1 - c/2 is reached only asymptotically (at feasible m "
            "the slope is lower); fails otherwise.")
    return ("holds-with-caveat" if outcome == "holds" else outcome), measured, rule


def decide(v: Values) -> tuple[str, str]:
    if not v.has_init:
        return "inconclusive", "no finished fire_sets_init run"
    outcome, measured, rule = _premise(v)
    return premise_answer(outcome, YES, PARTLY, NO, measured, rule)[0], outcome


def show(v: Values, verdict: str, reason: str) -> Shown:
    if not v.has_init:
        return Shown("", "no finished run", "No run finished, so nothing can be decided.")
    outcome, measured, rule = _premise(v)
    _, measured, rule = premise_answer(outcome, YES, PARTLY, NO, measured, rule)
    table = Table(["c", "fitted slope of |S_i(0)| in m", "local slope of m Q(b)", "1 - c/2",
                   "matches m Q(b)"])
    for c, fit, pred, match in v.slopes:
        table.add(c, fit, f"{pred:.3f}", f"{1 - c / 2:.3f}", match)
    details = [table]
    if v.fracs:
        details.append(f"During training nnz(J_t) / nnz(J_0) stayed in [{min(v.fracs):.3f}, "
                       f"{max(v.fracs):.3f}] (density nnz / (n m d) between {min(v.dens):.2e} "
                       f"and {max(v.dens):.2e}).")
    plot = Plot(median_bar_panels(v.curves, "nnz(J_t) / (n m d Q(b))", [HLine(1.0)]),
                "Jacobian density during training, relative to its expectation Q(b) at "
                "initialisation: per data set and shift, the median over the runs (every width "
                "and seed) at each step, bars from the lowest to the highest run.")
    return Shown("nnz(J)/(n m d) ~ Q(b) survives training; |S_i| grows as m^(1 - c/2)",
                 measured, rule, details,
                 {"nnz_fraction_min": min(v.fracs) if v.fracs else None,
                  "nnz_fraction_max": max(v.fracs) if v.fracs else None}, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"it is not exactly clear to me how sparse the Jacobian would"
          " be\"; the authors replied: \"Theoretical sparsity is rigorously quantified in "
          "our analysis and naturally arises in wide, overparameterized networks\"")

ENTRY = Entry(
    id="rq.jacobian_sparsity", kind="question", paper="RQ",
    statement="How sparse is J in practice, and does it survive training? Premise: "
              "nnz(J)/(n m d) ~ Q(b) <= m^(-c/2) throughout training.",
    source=SOURCE,
    experiment="The runs of sparsity.init and sparsity.training: density per iteration, "
               "fitted slope of |S_i| in m against 1 - c/2 and against m Q(b).",
    rule=answer_words(f"Slopes match m Q(b); nnz(J_t) within [{NNZ_BAND[0]:g}, "
                      f"{NNZ_BAND[1]:g}] nnz(J_0) during training."),
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show,
    measured_on=f"{VARIANT} during training")

__all__ = ["ENTRY", "NNZ_BAND", "NO", "PARTLY", "QUOTE", "SIZES", "SLOPE_MATCH_TOL", "YES"]
