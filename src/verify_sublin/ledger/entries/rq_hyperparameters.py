"""rq.hyperparameters: do the sketched solver's defaults (sketch sizes per type, CG
tolerance, no periodic refresh of the cached inner products) need tuning?"""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..entry import Entry, Shown, Sizes, Table
from ..toolkit import CITE, CONTRACTION_MAX, answer_words, premise_answer, worst
from ..toolkit.sketch import default_kappas
from . import sketch_conditioning
from .sketch_conditioning import SKETCH_KAPPA_MAX

#: the loose CG tolerance that must keep the contraction
CG_TOL_CHECKED = 1e-6
#: largest drift of the cached inner products without refresh
DRIFT_MAX = 1e-10
#: the CG tolerances run
TOLS = (1e-4, 1e-6, 1e-8, 1e-10)

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
    #: steps of the drift runs
    drift_steps=(5, 20, 40),
)


def runs(s) -> list[RunSpec]:
    """The sketch.conditioning runs, a CG-tolerance grid and three drift runs."""
    tol_runs = [RunSpec("training", {"method": "sublinear_gn",
                                     "options": {"fire_sets": "cache", "solver": "sketch",
                                                 "tol": t, "mu": 1e-10},
                                     "dataset": "sphere-teacher", "n": s.n, "d": s.d, "m": s.m,
                                     "c": 0.4, "steps": 12, "tol": 1e-9}, seed=11)
                for t in TOLS]
    drift_runs = [RunSpec("refresh_drift", {"m": s.m, "n": s.n, "d": s.d, "c": 0.4,
                                            "steps": s.drift_steps, "refresh_every": k,
                                            "tol": 1e-10}, seed=11) for k in (0, 1, 5)]
    sketch = sketch_conditioning.runs(sketch_conditioning.SIZES.at(s.profile))
    return sketch + tol_runs + drift_runs


@dataclass(frozen=True)
class Values:
    kappas: list    #: preconditioned kappa of every sketch type at its default size, every run
    #: per CG tolerance, loosest first: (tol, worst contraction, steps, seconds, kept 2x)
    tols: list
    #: per refresh period (0: never): (period, steps, drift, output drift, seconds)
    drifts: list


def values(results) -> Values:
    kappas = [k for r in results.of("sketch_conditioning") for k in default_kappas(r.result.rows).values()]
    tols = []
    for r in sorted(results.of("training"), key=lambda r: -r.params["options"]["tol"]):
        res = r.result
        wc = max(res.contraction) if res.contraction else float("inf")
        tols.append((r.params["options"]["tol"], wc, len(res.contraction), sum(res.seconds),
                     wc <= CONTRACTION_MAX and res.error is None))
    drifts = [(r.params["refresh_every"], r.result.steps, r.result.drift, r.result.output_drift,
               r.result.seconds)
              for r in sorted(results.of("refresh_drift"), key=lambda r: r.params["refresh_every"])]
    return Values(kappas, tols, drifts)


def _drift0(v: Values) -> float | None:
    """The drift without refresh (None: not run)."""
    return next((x[2] for x in reversed(v.drifts) if x[0] == 0), None)


def _premise(v: Values) -> str:
    """The premise's rule: the default sketch sizes, the loose CG tolerance, no refresh."""
    v_sketch = ("holds" if v.kappas and max(v.kappas) <= SKETCH_KAPPA_MAX else "fails" if v.kappas
                else "inconclusive")
    ok = {t: good for t, *_, good in v.tols}
    v_tol = "holds" if ok.get(CG_TOL_CHECKED) and ok.get(min(TOLS)) else "fails" if ok else "inconclusive"
    drift0 = _drift0(v)
    v_drift = "holds" if drift0 is not None and drift0 < DRIFT_MAX else (
        "fails" if drift0 is not None else "inconclusive")
    return worst([v_sketch, v_tol, v_drift])


def _answer(v: Values) -> tuple[str, str, str]:
    """(verdict, measured, rule): the premise's outcome read as the answer."""
    loosest = max((t for t, *_, good in v.tols if good), default=None)
    drift0 = _drift0(v)
    measured = "; ".join([
        f"sketch: max kappa at default sizes {max(v.kappas) if v.kappas else float('nan'):.2f}",
        f"loosest tolerance keeping 2x: {loosest:g}" if loosest else "no tolerance kept 2x",
        f"drift without refresh {drift0:.1e}" if drift0 is not None else "no drift run"])
    rule = (f"holds if all three hold: every sketch type at its default size has kappa <= "
            f"{SKETCH_KAPPA_MAX:g}; the sketch-solver Gauss-Newton still contracts to <= "
            f"{CONTRACTION_MAX:g} per step with CG tolerance {CG_TOL_CHECKED:g} (and "
            f"{min(TOLS):g}); the implicit cache drifts by less than {DRIFT_MAX:g} from exact "
            "inner products without any refresh, measured after every step before convergence "
            "(to 1e-10 of the initial residual), where the weights still move. The sketch grid "
            "is in sketch.conditioning.")
    return premise_answer(_premise(v), *ANSWERS, measured, rule)


def decide(v: Values) -> tuple[str, str]:
    return _answer(v)[0], ""


def show(v: Values, verdict: str, reason: str) -> Shown:
    tol_table = Table(["CG tolerance", "worst contraction", "steps to 1e-9", "seconds"])
    for t, wc, steps, seconds, _ in v.tols:
        tol_table.add(f"{t:g}", f"{wc:.3g}", steps, f"{seconds:.3f}")
    drift_table = Table(["refresh period", "steps before convergence (to 1e-10)",
                         "max |cached - exact| inner product", "max output drift", "seconds"])
    for k, steps, drift, output_drift, seconds in v.drifts:
        drift_table.add(k or "never", steps, f"{drift:.2e}", f"{output_drift:.2e}", f"{seconds:.3f}")
    _, measured, rule = _answer(v)
    return Shown(f"defaults adequate: default sketch sizes give kappa <= {SKETCH_KAPPA_MAX:g}; CG "
                 f"tol {CG_TOL_CHECKED:g} keeps the 2x contraction; no refresh needed (drift < "
                 f"{DRIFT_MAX:g})", measured, rule, [tol_table, drift_table],
                 {"max_kappa_default": max(v.kappas) if v.kappas else None,
                  "drift_no_refresh": _drift0(v)})


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"it has sketching which again has more hyper-params like "
          "sketch size, sketch tolerance and sketch failure probability, also things like"
          " tree update frequency need to be taken into account\"")

ENTRY = Entry(
    id="rq.hyperparameters", kind="question", paper="RQ",
    statement="Sketch size, sketch type, solver tolerance, tree rebuild frequency? Premise: "
              "the defaults (sizes per type, CG tol 1e-10, no periodic refresh) are adequate.",
    source=SOURCE,
    experiment="Sketch grid (sketch.conditioning runs), CG tolerance grid with contraction "
               "and time, drift of the implicitly maintained inner products with refresh "
               "periods never / 1 / 5.",
    rule=answer_words(f"kappa <= {SKETCH_KAPPA_MAX:g} at default sizes; 2x contraction at tol "
                      f"{CG_TOL_CHECKED:g}; drift < {DRIFT_MAX:g}."),
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ANSWERS", "CG_TOL_CHECKED", "DRIFT_MAX", "ENTRY", "QUOTE", "SIZES", "TOLS"]
