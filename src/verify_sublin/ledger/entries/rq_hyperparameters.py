"""rq.hyperparameters: do the sketched solver's defaults (sketch sizes per type, CG
tolerance, no periodic refresh of the cached inner products) need tuning?"""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..entry import Entry, Shown, Sizes, Table
from ..toolkit import CITE, CONTRACTION_MAX, answer_words, premise_answer, worst
from ..toolkit import sketch as sk
from . import sketch_conditioning
from .sketch_conditioning import SKETCH_KAPPA_MAX

#: the loose CG tolerance that must keep the contraction
CG_TOL_CHECKED = 1e-6
#: largest drift of the cached inner products without refresh
DRIFT_MAX = 1e-10
#: the CG tolerances run (up to 1e-1: a CG step that reduces the residual only 10x)
TOLS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10)
#: the drift runs: step size, steps and refresh periods (0: never); at eta = 0.1 the residual
#: shrinks ~0.9x a step, so after 100 steps it is still ~3e-5 of the initial one (the weights
#: move at every step, never converged) and a refresh every 5 or 25 steps runs 20 or 4 times
DRIFT_ETA, DRIFT_STEPS, DRIFT_PERIODS = 0.1, 100, (0, 1, 5, 25)

#: the reviewer's words, and the answer by the premise's outcome (holds, caveat, fails)
QUOTE = ("\"it has sketching which again has more hyper-params like sketch size, sketch "
         "tolerance and sketch failure probability, also things like tree update frequency "
         "need to be taken into account\"")
ANSWERS = ("The defaults suffice: no tuning was needed", "The defaults mostly suffice",
           "Some default needs tuning")

SIZES = Sizes(
    #  tiny  quick   full
    m=(2**9, 2**12, 2**16),
    n=(8, 32, 64),
    d=(4, 16, 32),
)


def runs(s) -> list[RunSpec]:
    opts = {"fire_sets": "cache", "solver": "sketch", "mu": 1e-10}
    tol_runs = [RunSpec("training", {"method": "sublinear_gn", "options": {**opts, "tol": t}, "dataset":
                                     "sphere-teacher", "n": s.n, "d": s.d, "m": s.m, "c": 0.4, "steps": 12,
                                     "tol": 1e-9}, seed=11) for t in TOLS]
    drift_runs = [RunSpec("refresh_drift", {"m": s.m, "n": s.n, "d": s.d, "c": 0.4, "eta": DRIFT_ETA,
                                            "steps": DRIFT_STEPS, "refresh_every": k, "tol": 1e-10},
                          seed=11) for k in DRIFT_PERIODS]
    sketch = sketch_conditioning.runs(sketch_conditioning.SIZES.at(s.profile))
    return sketch + tol_runs + drift_runs


@dataclass(frozen=True)
class Values:
    #: per sketch type: the s / n it needs and its default (`toolkit.sketch.needed_sizes`)
    sketch: list
    #: per CG tolerance, loosest first: (tol, worst contraction, steps, CG iterations, kept 2x)
    tols: list
    #: per refresh period (0: never): (period, steps, drift, output drift, residual ratio)
    drifts: list


def values(results) -> Values:
    sketch = sk.needed_sizes(results.of("sketch_conditioning"), SKETCH_KAPPA_MAX)
    tols = sk.tolerance_rows(results.of("training"), CONTRACTION_MAX)
    drifts = [(r.params["refresh_every"], r.result.steps, r.result.drift, r.result.output_drift,
               r.result.residual_ratio)
              for r in sorted(results.of("refresh_drift"), key=lambda r: r.params["refresh_every"])]
    return Values(sketch, tols, drifts)


def _drift0(v: Values, period: int = 0) -> float | None:   # the drift at a refresh period (0: never)
    return next((x[2] for x in reversed(v.drifts) if x[0] == period), None)


def _premise(v: Values) -> str:
    """The premise's rule: the default sketch sizes, the loose CG tolerance, no refresh."""
    ok, drift0 = {t: good for t, *_, good in v.tols}, _drift0(v)
    outcome = lambda have, good: "inconclusive" if not have else "holds" if good else "fails"  # noqa: E731
    return worst([outcome(v.sketch, all(r is not None and r <= dflt for _, r, _, dflt in v.sketch)),
                  outcome(ok, ok.get(CG_TOL_CHECKED) and ok.get(min(TOLS))),
                  outcome(drift0 is not None, drift0 is not None and drift0 < DRIFT_MAX)])


def _answer(v: Values) -> tuple[str, str, str]:
    """(verdict, measured, rule): the premise's outcome read as the answer."""
    drift0 = _drift0(v)
    measured = "; ".join([
        f"sketch rows needed for kappa <= {SKETCH_KAPPA_MAX:g} on every input: {sk.needed_words(v.sketch)}",
        sk.tolerance_words(v.tols), f"{'no' if drift0 < DRIFT_MAX else 'a'} rebuild needed: the cached inner "
        f"products, updated incrementally at every step and never recomputed, drift by {drift0:.1e} over "
        f"{v.drifts[0][1]} steps at eta = "
        f"{DRIFT_ETA:g} (recomputed every step: {_drift0(v, 1) or float('nan'):.1e})"
        if drift0 is not None else "no drift run"])
    rule = (f"holds if all three hold: for every sketch type the smallest s / n of the table "
            f"{sk.S_OVER_N} at which kappa <= {SKETCH_KAPPA_MAX:g} on every input of sketch.conditioning is "
            "at most the library's default s / n for that type (4 for the Gaussian, 2 ln n for the SRHT, "
            f"4 ln n for the others); the sketch-solver Gauss-Newton still contracts to <= "
            f"{CONTRACTION_MAX:g} per step with CG tolerance {CG_TOL_CHECKED:g} (and {min(TOLS):g}); the "
            f"implicit cache drifts by less than {DRIFT_MAX:g} from exact inner products without any "
            f"refresh, measured after every one of {DRIFT_STEPS} steps at step size {DRIFT_ETA:g}, "
            "before convergence, where the weights still move.")
    return premise_answer(_premise(v), *ANSWERS, measured, rule)


def decide(v: Values) -> tuple[str, str]:
    return _answer(v)[0], ""


def show(v: Values, verdict: str, reason: str) -> Shown:
    drift_table = Table(["full recompute", f"steps (eta = {DRIFT_ETA:g})", "residual after / before",
                         "max |cached - exact| inner product", "max output drift"])
    for k, steps, drift, output_drift, ratio in v.drifts:
        drift_table.add({0: "never", 1: "every step"}.get(k, f"every {k} steps"), steps, "-" if ratio
                        is None else f"{ratio:.1e}", f"{drift:.2e}", f"{output_drift:.2e}")
    _, measured, rule = _answer(v)
    return Shown(f"defaults adequate: default sketch sizes give kappa <= {SKETCH_KAPPA_MAX:g}; CG "
                 f"tol {CG_TOL_CHECKED:g} keeps the 2x contraction; no refresh needed (drift < "
                 f"{DRIFT_MAX:g})", measured, rule, [
                     sk.needed_table(v.sketch, SKETCH_KAPPA_MAX), sk.tolerance_table(v.tols), drift_table],
                 {"needed_s_over_n": {k: r for k, r, *_ in v.sketch}, "drift_no_refresh": _drift0(v)})


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = f"{CITE['REVIEW']}: {QUOTE}"

ENTRY = Entry(
    id="rq.hyperparameters", kind="question", paper="RQ",
    statement="Sketch size, sketch type, solver tolerance, tree rebuild frequency? Premise: "
              "the defaults (sizes per type, CG tol 1e-10, no periodic refresh) are adequate.",
    source=SOURCE,
    experiment="Sketch sizes (the sketch.conditioning runs, every type at the same s / n), CG "
               f"tolerances {TOLS[0]:g}..{TOLS[-1]:g} with contraction and CG iterations, and the drift of "
               f"the cached inner products over {DRIFT_STEPS} steps at step size {DRIFT_ETA:g}. Update "
               "schedule tried, on this project's tree-free cache (fire_sets=\"cache\") with implicit "
               "pre-activations: the inner products <w_r, x_i> of the changed neurons are updated "
               "incrementally at every step from X X^T, W untouched (the papers' implicitly maintained "
               "weights), against a full recompute of them from the weights every 1, 5 or 25 steps, "
               "or never. The cache has no tree, so no other rebuild period exists; the papers' tree "
               "holds the same inner products in its leaves and takes the same incremental update, so "
               "this period is its update frequency too. Full: m = 2^16, n = 64, d = 32; "
               "quick: m = 2^12, n = 32. Budget beyond sketch.conditioning's runs: full ~31 s measured (the "
               "drift runs check the cache against the weights after every step), quick ~2 s.",
    rule=answer_words(f"the s / n that keeps kappa <= {SKETCH_KAPPA_MAX:g} within each type's default; "
                      f"2x contraction at tol {CG_TOL_CHECKED:g}; drift < {DRIFT_MAX:g} without refresh."),
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ANSWERS", "CG_TOL_CHECKED", "DRIFT_ETA", "DRIFT_MAX", "DRIFT_PERIODS", "DRIFT_STEPS", "ENTRY",
           "QUOTE", "SIZES", "TOLS"]
