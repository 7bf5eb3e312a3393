"""rq.train_second_layer: what does fixing the second layer a cost in iterations, for
Gauss-Newton and gradient descent?"""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..papers import CITE
from ..toolkit import Entry, Shown, Sizes, Table, answer_words, worst
from ..toolkit.review import Question

#: gradient descent with a fixed may need this factor more steps (+1)
FIXED_A_GD_FACTOR = 1.1

QUESTION = Question(
    "\"The assumption that the second layer of the network is fixed during training is "
    "unrealistic\"",
    "Fixing the second layer costs (almost) no iterations",
    "Fixing the second layer costs few iterations",
    "Fixing the second layer costs iterations")

SIZES = Sizes(
    #   tiny    quick    full
    m=(2**9, 2**13, 2**16),
    n=(8, 32, 64),
    #: (data set, d)
    sets=([("sphere-teacher", 4)], [("sphere-teacher", 16), ("diabetes", 10)],
          [("sphere-teacher", 32), ("diabetes", 10), ("digits", 61)]),
    #: gradient descent's step budget (Gauss-Newton: 20 steps)
    gd_steps=(50, 200, 500),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("training", {"method": method, "options": {"train_a": train_a},
                                 "dataset": ds, "n": s.n, "d": d, "m": s.m, "c": 0.4,
                                 "steps": steps, "tol": 1e-10}, seed=13)
            for ds, d in s.sets for method, steps in (("ggn", 20), ("gd", s.gd_steps))
            for train_a in (False, True)]


@dataclass(frozen=True)
class Values:
    runs: dict      #: (data set, method, train a) -> (steps, final residual / r0), sorted
    tol: dict       #: (data set, method) -> the runs' tolerance


def values(results) -> Values:
    out = {}
    for r in sorted(results, key=lambda r: (r.params["dataset"], r.params["method"],
                                            r.params["options"]["train_a"])):
        res = r.result
        final = res.residual[-1] / res.residual0 if res.residual else 1.0
        out[(r.params["dataset"], r.params["method"], r.params["options"]["train_a"])] = (
            len(res.residual), final)
    tol = {(r.params["dataset"], r.params["method"]): float(r.params["tol"]) for r in results}
    return Values(out, tol)


def comparisons(v: Values) -> list[tuple[str, str]]:
    """(outcome, the figure it is decided on) per data set and method with both runs."""
    out = []
    for (ds, method, a), (steps, final) in v.runs.items():
        fixed = v.runs.get((ds, method, False))
        if not a or fixed is None:
            continue
        # The premise is that fixing a costs little: the fixed-a run must not need
        # clearly more iterations than the both-layer run (or, when neither reached the
        # tolerance within its budget, end clearly higher).
        by_steps = f"{ds} {method}: {fixed[0]} / {steps} steps"
        if method == "ggn":
            out.append(("holds" if fixed[0] <= steps + 1 else "fails", by_steps))
            continue
        eps = v.tol[(ds, method)]
        reached_fixed, reached_both = fixed[1] <= eps, final <= eps
        if reached_fixed and reached_both:
            out.append(("holds" if fixed[0] <= FIXED_A_GD_FACTOR * steps + 1 else "fails",
                        by_steps))
        elif reached_fixed or reached_both:
            out.append(("holds" if reached_fixed else "fails",
                        f"{ds} {method}: only {'fixed a' if reached_fixed else 'both layers'}"
                        f" reached {eps:g}"))
        else:
            out.append(("holds" if fixed[1] <= FIXED_A_GD_FACTOR * final else "fails",
                        f"{ds} {method}: final residual / r0 {fixed[1]:.2e} / {final:.2e} "
                        f"(neither reached {eps:g} in {steps} steps)"))
    return out


def _premise(v: Values) -> tuple[str, str, str]:
    """The premise's outcome, measured sentence and rule."""
    comp = comparisons(v)
    outcome = worst([c[0] for c in comp]) if comp else "inconclusive"
    measured = "with a fixed / with both layers trained: " + "; ".join(c[1] for c in comp)
    rule = ("holds if, on every data set, Gauss-Newton with a fixed needs at most one "
            "iteration more to reach 1e-10 of the initial residual than with both layers "
            f"trained, and gradient descent with a fixed needs at most {FIXED_A_GD_FACTOR:g}x + "
            "1 the iterations of both-layer training (when neither reaches 1e-10 within its "
            f"budget: ends at most {FIXED_A_GD_FACTOR:g}x higher; when only one does, that one "
            "wins); fails otherwise.")
    return outcome, measured, rule


def decide(v: Values) -> tuple[str, str]:
    outcome, measured, rule = _premise(v)
    return QUESTION.answer(outcome, measured, rule)[0], outcome


def show(v: Values, verdict: str, reason: str) -> Shown:
    _, measured, rule = QUESTION.answer(*_premise(v))
    table = Table(["data", "method", "train a", "steps", "final residual / r0"])
    for (ds, method, a), (steps, final) in v.runs.items():
        table.add(ds, method, a, steps, f"{final:.2e}")
    return Shown("fixing the second layer costs little", measured, rule, [table])


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"The assumption that the second layer of the network is "
          "fixed during training is unrealistic\"")

ENTRY = Entry(
    id="rq.train_second_layer", kind="question", paper="RQ",
    statement="What does fixing the second layer cost? Premise: little — training both "
              "layers converges no faster.",
    source=SOURCE,
    experiment="GGN and GD with and without training a, same data and initialisation.",
    rule=answer_words(f"Fixed-a GN needs <= one iteration more than both-layer GN; fixed-a GD "
                      f"<= {FIXED_A_GD_FACTOR:g}x + 1 its iterations."),
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "FIXED_A_GD_FACTOR", "QUESTION", "SIZES", "comparisons"]
