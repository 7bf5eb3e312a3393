"""rq.plain_relu: with plain ReLU (b = 0) about half the neurons fire, so the sublinear
method has nothing to exploit; does Gauss-Newton still converge?"""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..papers import CITE
from ..toolkit import CACHE_IMPLICIT, CONTRACTION_MAX, VARIANT, Entry, Shown, Sizes, answer_words, pow2
from ..toolkit.review import Question
from ..toolkit.spread import Spread

#: the fraction of neurons that fire at b = 0
RELU_FIRE_BAND = (0.45, 0.55)
#: the largest gain of the sublinear method counted as "nothing to exploit"
RELU_GAIN_MAX = 2.0

QUESTION = Question(
    "\"This raises concerns about the generalizability of the results to practical setups, "
    "including standard ReLU networks\"",
    "With b = 0 half the neurons fire, Gauss-Newton still converges, and the sublinear "
    "method gains nothing",
    "With b = 0 half the neurons fire and Gauss-Newton converges; the sublinear code is "
    "faster only by a constant factor of the implementation, not by sparsity",
    "The b = 0 runs do not match the expected picture")

SIZES = Sizes(
    #   tiny    quick    full
    m=(2**9, 2**13, 2**18),
    n=(8, 32, 64),
    d=(4, 16, 32),
)


def runs(s) -> list[RunSpec]:
    m, n, d = s.m, s.n, s.d
    return [RunSpec("fire_sets_init", {"m": m, "c": 0.0, "n": n, "d": d}, seed=14),
            RunSpec("training", {"method": "sublinear_gn", "options": CACHE_IMPLICIT,
                                 "dataset": "sphere-teacher", "n": n, "d": d, "m": m, "c": 0.0,
                                 "steps": 20, "tol": 1e-10}, seed=14),
            RunSpec("step_speed", {"method": "ggn", "options": {}, "m": m, "n": n, "d": d,
                                   "c": 0.0, "steps": 5, "warmup": 1}, seed=14),
            RunSpec("step_speed", {"method": "sublinear_gn", "variant": "sublinear cache implicit",
                                   "m": m, "n": n, "d": d, "c": 0.0, "steps": 5, "warmup": 1},
                    seed=14)]


@dataclass(frozen=True)
class Values:
    complete: bool      #: all four runs finished (else nothing is decided)
    m: int = 0
    fire_fraction: float = 0.0      #: mean |S_i(0)| / m
    worst_contraction: float = 0.0  #: of the sublinear Gauss-Newton run
    speedup: float = 0.0            #: GGN / sublinear median seconds per step
    ops_ratio: float = 0.0          #: GGN / sublinear counted operations per step
    spreads: tuple = ()             #: Spread of the step seconds of GGN and of sublinear


def values(results) -> Values:
    by = {(r.experiment, r.params.get("method")): r.result for r in results}
    init, train = by.get(("fire_sets_init", None)), by.get(("training", "sublinear_gn"))
    ggn, sub = by.get(("step_speed", "ggn")), by.get(("step_speed", "sublinear_gn"))
    if any(x is None for x in (init, train, ggn, sub)):
        return Values(False)
    m = next(r.params["m"] for r in results)
    return Values(True, m, init.mean / m,
                  max(train.contraction) if train.contraction else float("inf"),
                  ggn.median / sub.median, ggn.total_ops / sub.total_ops,
                  (Spread.of(ggn.times), Spread.of(sub.times)))


def _parts(v: Values) -> dict:
    return {"fire fraction": RELU_FIRE_BAND[0] <= v.fire_fraction <= RELU_FIRE_BAND[1],
            "2x contraction": v.worst_contraction <= CONTRACTION_MAX,
            "no sparsity to exploit (counted operations)": v.ops_ratio <= RELU_GAIN_MAX}


def _premise(v: Values) -> tuple[str, str, str]:
    """The premise's outcome, measured sentence and rule."""
    if not all(_parts(v).values()):
        outcome = "fails"
    else:
        outcome = "holds" if v.speedup <= RELU_GAIN_MAX else "holds-with-caveat"
    measured = (f"mean |S_i| / m = {v.fire_fraction:.3f}; worst contraction "
                f"{v.worst_contraction:.3g}; ggn / sublinear {v.ops_ratio:.2f}x in counted "
                f"operations, {v.speedup:.2f}x in time at m = {pow2(v.m)}")
    rule = (f"holds if mean |S_i|/m is in [{RELU_FIRE_BAND[0]:g}, {RELU_FIRE_BAND[1]:g}], "
            f"every Gauss-Newton step contracts to <= {CONTRACTION_MAX:g}, and the sublinear "
            f"method does at most {RELU_GAIN_MAX:g}x fewer counted operations than the dense "
            f"GGN step (nothing to exploit), and is at most {RELU_GAIN_MAX:g}x faster in time; "
            f"holds-with-caveat if only the time gain exceeds {RELU_GAIN_MAX:g}x (a constant "
            "factor of the implementation, not sparsity: the time ratio straddled it between "
            "runs, the deterministic count does not); fails otherwise.")
    return outcome, measured, rule


def decide(v: Values) -> tuple[str, str]:
    if not v.complete:
        return "inconclusive", "a run of the four is missing"
    outcome, measured, rule = _premise(v)
    return QUESTION.answer(outcome, measured, rule)[0], outcome


def show(v: Values, verdict: str, reason: str) -> Shown:
    if not v.complete:
        # as before the entry became a module: the words of "no finished run"
        return Shown("", "no finished run", " No run finished, so nothing can be decided.")
    _, measured, rule = QUESTION.answer(*_premise(v))
    lines = [f"{k}: {'yes' if ok else 'no'}" for k, ok in _parts(v).items()]
    lines.append(f"time speed-up {v.speedup:.2f}x against {v.ops_ratio:.2f}x in counted "
                 f"operations (a step of ggn {v.spreads[0].ms('steps')}, of the sublinear method "
                 f"{v.spreads[1].ms('steps')}; one seed, ratio of medians in one process)")
    return Shown("b = 0: half the neurons fire, no sparsity to exploit; Gauss-Newton still "
                 "converges", measured, rule, lines,
                 {"fire_fraction": v.fire_fraction, "worst_contraction": v.worst_contraction,
                  "speedup": v.speedup, "ops_ratio": v.ops_ratio})


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"This raises concerns about the generalizability of the "
          "results to practical setups, including standard ReLU networks\"; the "
          "meta-review: \"I am worried if the proposed algorithm will prove useful in "
          "neural networks using other activation functions, such as “unshifted” ReLU\"")

ENTRY = Entry(
    id="rq.plain_relu", kind="question", paper="RQ",
    statement="Plain ReLU (b = 0)? Premise: without the shift about half the neurons fire, so "
              "the sublinear method gains nothing, while Gauss-Newton still converges.",
    source=SOURCE,
    experiment="b = 0: fire fraction, Gauss-Newton contraction, per-step time of the sublinear "
               "method against the dense GGN step.",
    rule=answer_words("fire fraction ~ 1/2, 2x contraction, counted-operation and time "
                      "speed-up <= 2."),
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show,
    measured_on=VARIANT)

__all__ = ["ENTRY", "QUESTION", "RELU_FIRE_BAND", "RELU_GAIN_MAX", "SIZES"]
